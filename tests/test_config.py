"""Config rules: pure Python, no synth. Each bad input is asserted by its message."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cluster_config import ConfigError, Problem, load_config, rules
from cluster_config.versions import KUBERNETES_RELEASES
from tests.support import config_with, default_data


def problems_of(overrides: dict[str, Any]) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        config_with(overrides)
    return caught.value.problems


def codes_of(overrides: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, field) of each problem: what a rule's test asserts, not its wording."""
    return [(p.code, p.path) for p in problems_of(overrides)]


def only_problem(overrides: dict[str, Any]) -> Problem:
    (problem,) = problems_of(overrides)
    return problem


def gpu_pools(**changes: Any) -> list[dict[str, Any]]:
    """The default pool list with ``changes`` to its first pool."""
    pools = default_data()["gpu_pools"]
    pools[0].update(changes)
    return pools


def second_pool() -> dict[str, Any]:
    return {"name": "training", "instance_types": ["g6e.12xlarge"], "min_size": 0, "max_size": 2}


def test_defaults_reproduce_the_seed_topology() -> None:
    config = config_with()
    assert config.region == "us-west-2"
    assert config.availability_zones == ("us-west-2a", "us-west-2b", "us-west-2c")
    system = config.system_node_group
    assert (system.name, system.capacity_type, system.min_size, system.max_size) == (
        "spot-ng",
        "SPOT",
        2,
        20,
    )
    (pool,) = config.gpu_pools
    # every cluster zone: groups gpu-spot-ng-a|b|c (tests/test_node_groups.py)
    assert (pool.name, pool.availability_zones, pool.capacity_type, pool.min_size) == (
        "gpu-spot-ng",
        None,
        "SPOT",
        0,
    )
    assert pool.on_demand_fallback is None
    assert config.nat_gateways == 1


def test_default_kubernetes_version_is_the_newest_supported() -> None:
    assert config_with().kubernetes_version == max(
        KUBERNETES_RELEASES, key=lambda v: tuple(map(int, v.split(".")))
    )


def test_at_least_three_kubernetes_minors_are_supported() -> None:
    assert len(KUBERNETES_RELEASES) >= 3
    for minor in KUBERNETES_RELEASES:
        assert config_with({"kubernetes_version": minor}).kubernetes_version == minor


def test_config_is_frozen() -> None:
    config = config_with()
    with pytest.raises(Exception, match="frozen"):
        config.cluster_name = "other"  # type: ignore[misc]


def test_unsupported_kubernetes_version_is_rejected_not_replaced() -> None:
    problem = only_problem({"kubernetes_version": "1.30"})
    assert (problem.code, problem.path) == ("KubernetesVersionNotSupported", "kubernetes_version")
    assert "allowed: 1.33, 1.34, 1.35, 1.36" in problem.message


def test_min_greater_than_max_names_the_pool() -> None:
    assert codes_of({"gpu_pools": gpu_pools(min_size=5, max_size=2)}) == [
        ("MinSizeAboveMaxSize", "gpu_pools.0.min_size")
    ]


def test_min_above_max_is_one_rule_for_system_group_pools_and_fallbacks() -> None:
    system = default_data()["system_node_group"] | {"min_size": 21}
    pools = gpu_pools(min_size=5, max_size=2, on_demand_fallback={"min_size": 3, "max_size": 2})
    assert codes_of({"system_node_group": system, "gpu_pools": pools}) == [
        ("MinSizeAboveMaxSize", "system_node_group.min_size"),
        ("MinSizeAboveMaxSize", "gpu_pools.0.min_size"),
        ("MinSizeAboveMaxSize", "gpu_pools.0.on_demand_fallback.min_size"),
    ]


def test_availability_zone_of_another_region_is_rejected() -> None:
    zones = ["us-west-2a", "us-east-1b", "us-west-2c"]
    assert codes_of(
        {"availability_zones": zones, "gpu_pools": gpu_pools(availability_zones=["us-west-2b"])}
    ) == [
        ("ZoneNotInRegion", "availability_zones.1"),
        ("PoolZoneNotInCluster", "gpu_pools.0.availability_zones.0"),
    ]


def test_a_zone_outside_the_region_lists_every_allowed_zone() -> None:
    problem = only_problem({"availability_zones": ["us-east-1a", "us-west-2b", "us-west-2c"]})
    assert problem.message.endswith(
        "allowed: us-west-2a, us-west-2b, us-west-2c, us-west-2d, us-west-2e, us-west-2f (those "
        "your account has)"
    )


def test_a_zone_listed_twice_is_rejected() -> None:
    zones = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2a"]
    assert codes_of({"availability_zones": zones}) == [("DuplicateItem", "availability_zones.3")]


def test_control_plane_zones_default_to_every_zone() -> None:
    assert config_with().control_plane_zones == ("us-west-2a", "us-west-2b", "us-west-2c")


def test_control_plane_zones_outside_the_vpcs_zones_are_rejected() -> None:
    problem = only_problem({"control_plane_availability_zones": ["us-west-2a", "us-west-2d"]})
    assert (problem.code, problem.path) == (
        "ControlPlaneZoneNotInCluster",
        "control_plane_availability_zones.1",
    )
    assert problem.message == (
        "'us-west-2d' is not one of availability_zones ['us-west-2a', 'us-west-2b', "
        "'us-west-2c']; the control plane's subnets are among the VPC's"
    )


def test_one_control_plane_zone_is_rejected() -> None:
    """EKS needs subnets in at least two zones for the control plane."""
    problem = only_problem({"control_plane_availability_zones": ["us-west-2a"]})
    assert (problem.code, problem.path) == ("WrongLength", "control_plane_availability_zones")


def test_a_control_plane_zone_listed_twice_is_rejected() -> None:
    problem = only_problem({"control_plane_availability_zones": ["us-west-2a", "us-west-2a"]})
    assert (problem.code, problem.path) == ("DuplicateItem", "control_plane_availability_zones.1")


def test_zero_availability_zones_are_rejected_in_the_users_words() -> None:
    problem = only_problem({"availability_zones": []})
    assert (problem.code, problem.path) == ("WrongLength", "availability_zones")
    assert problem.message == "has 0 items; allowed: at least 2 items (got: [])"


def test_a_pool_group_named_like_the_system_group_is_rejected() -> None:
    system = default_data()["system_node_group"] | {"name": "gpu-spot-ng-b"}
    problem = only_problem({"system_node_group": system})
    assert (problem.code, problem.path) == ("GroupNameCollision", "gpu_pools.0.name")
    assert "'gpu-spot-ng-b' (gpu_pools.0, us-west-2b)" in problem.message


def test_duplicate_pool_names_are_rejected() -> None:
    pools = [*gpu_pools(), second_pool() | {"name": "gpu-spot-ng"}]
    assert codes_of({"gpu_pools": pools}) == [("PoolNameTaken", "gpu_pools.1.name")]


def test_generated_group_names_of_two_pools_must_not_collide() -> None:
    pools = [
        *gpu_pools(name="gpu", on_demand_fallback={"max_size": 1}),
        second_pool() | {"name": "gpu-od", "availability_zones": ["us-west-2c"]},
    ]
    problem = only_problem({"gpu_pools": pools})
    assert (problem.code, problem.path) == ("GroupNameCollision", "gpu_pools.1.name")
    assert "gpu_pools.0.on_demand_fallback's group in us-west-2c" in problem.message


def test_an_empty_pool_list_says_a_cluster_needs_a_gpu_pool() -> None:
    problem = only_problem({"gpu_pools": []})
    assert (problem.code, problem.path) == ("NoGpuPool", "gpu_pools")
    assert "Tuple" not in str(problem)


def test_a_pool_may_not_be_called_system() -> None:
    assert codes_of({"gpu_pools": gpu_pools(name="system")}) == [
        ("PoolNamedSystem", "gpu_pools.0.name")
    ]


def test_pool_name_leaves_room_for_the_fallback_group_suffix() -> None:
    problem = only_problem({"gpu_pools": gpu_pools(name="p" * 52)})
    assert (problem.code, problem.path) == ("WrongLength", "gpu_pools.0.name")
    assert problem.message.startswith("has 52 characters; allowed: at most 51 characters")
    assert config_with({"gpu_pools": gpu_pools(name="p" * 51)}).gpu_pools[0].name == "p" * 51


def test_pool_name_pattern_hint_gives_the_pool_limit() -> None:
    assert str(only_problem({"gpu_pools": gpu_pools(name="GPU")})) == (
        "gpu_pools.0.name: must be lower-case words of letters and digits joined by single '-', "
        'at most 51 (got: "GPU") [BadFormat]'
    )


def test_pool_zone_listed_twice_does_not_hide_zones_outside_the_cluster() -> None:
    zones = ["us-west-2a", "us-west-2a", "us-west-2d", "us-west-2e"]
    assert codes_of({"gpu_pools": gpu_pools(availability_zones=zones)}) == [
        ("DuplicateItem", "gpu_pools.0.availability_zones.1"),
        ("PoolZoneNotInCluster", "gpu_pools.0.availability_zones.2"),
        ("PoolZoneNotInCluster", "gpu_pools.0.availability_zones.3"),
    ]


def test_on_demand_fallback_is_refused_on_an_on_demand_pool() -> None:
    pools = gpu_pools(capacity_type="ON_DEMAND", on_demand_fallback={"max_size": 2})
    assert codes_of({"gpu_pools": pools}) == [
        ("FallbackOnOnDemandPool", "gpu_pools.0.on_demand_fallback")
    ]


def test_pools_may_differ_in_everything() -> None:
    """Catches: a pool's settings taken from another pool or reset to the defaults (the test
    once asserted only the two names, which such a bug keeps)."""
    inference = gpu_pools(labels={"team": "serving"}, gpu_sharing={"replicas": 4})[0]
    training = second_pool() | {
        "availability_zones": ["us-west-2a", "us-west-2b"],
        "capacity_type": "ON_DEMAND",
        "labels": {"team": "research"},
    }
    config = config_with({"gpu_pools": [inference, training]})
    first, second = config.gpu_pools
    assert (first.name, first.instance_types, first.availability_zones) == (
        "gpu-spot-ng",
        ("g5.xlarge", "g6.xlarge"),
        None,
    )
    assert (first.capacity_type, dict(first.labels), first.max_size) == (
        "SPOT",
        {"team": "serving"},
        4,
    )
    assert first.gpu_sharing is not None and first.gpu_sharing.replicas == 4
    assert (second.name, second.instance_types, second.availability_zones) == (
        "training",
        ("g6e.12xlarge",),
        ("us-west-2a", "us-west-2b"),
    )
    assert (second.capacity_type, dict(second.labels), second.max_size) == (
        "ON_DEMAND",
        {"team": "research"},
        2,
    )
    assert second.gpu_sharing is None


def test_pool_sizes_default_as_documented() -> None:
    (pool,) = config_with({"gpu_pools": [{"name": "p", "instance_types": ["g6.xlarge"]}]}).gpu_pools
    assert (pool.min_size, pool.max_size) == (0, 4)


def test_too_many_generated_groups_are_rejected() -> None:
    zones = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]
    pools = [
        second_pool() | {"name": f"pool-{i}", "on_demand_fallback": {"max_size": 1}}
        for i in range(3)
    ]
    problem = only_problem({"availability_zones": zones, "gpu_pools": pools})
    assert (problem.code, problem.path) == ("TooManyGpuGroups", "gpu_pools")
    assert problem.message.startswith("the pools make 24 GPU node groups")


def test_the_old_gpu_node_groups_key_says_it_was_renamed() -> None:
    problem = only_problem({"gpu_node_groups": []})
    assert (problem.code, problem.path) == ("MovedKey", "gpu_node_groups")
    assert "renamed to gpu_pools" in problem.message


def test_a_cluster_wide_gpu_sharing_says_it_moved_into_the_pools() -> None:
    problem = only_problem({"gpu_sharing": {"replicas": 4}})
    assert (problem.code, problem.path) == ("MovedKey", "gpu_sharing")
    assert "gpu_pools[].gpu_sharing" in problem.message


def test_non_gpu_type_in_a_gpu_group_is_rejected() -> None:
    problem = only_problem({"gpu_pools": gpu_pools(instance_types=["m5.xlarge"])})
    assert (problem.code, problem.path) == (
        "InstanceTypeNotSupported",
        "gpu_pools.0.instance_types.0",
    )
    assert "'m5.xlarge' is not a supported GPU instance type: it has no GPU" in problem.message


def test_p2_is_rejected_because_the_al2023_nvidia_ami_does_not_support_it() -> None:
    problem = only_problem({"gpu_pools": gpu_pools(instance_types=["p2.xlarge"])})
    assert problem.code == "InstanceTypeNotSupported"
    assert "'p2.xlarge' is not a supported GPU instance type: EC2's instance-type data (moto " in (
        problem.message
    )
    assert ") does not list it" in problem.message


def test_gpu_type_in_the_system_group_is_rejected() -> None:
    system = default_data()["system_node_group"] | {"instance_types": ["g5.xlarge"]}
    problem = only_problem({"system_node_group": system})
    assert problem.code == "InstanceTypeNotSupported"
    assert "it is a GPU type" in problem.message


def test_mixed_shapes_in_one_group_are_rejected() -> None:
    problem = only_problem({"gpu_pools": gpu_pools(instance_types=["g5.xlarge", "g5.2xlarge"])})
    assert (problem.code, problem.path) == ("InstanceShapesDiffer", "gpu_pools.0.instance_types")
    assert "g5.xlarge=4 vCPU/16 GiB, g5.2xlarge=8 vCPU/32 GiB" in problem.message


def test_gpu_types_of_one_shape_but_different_gpu_memory_are_rejected() -> None:
    problem = only_problem({"gpu_pools": gpu_pools(instance_types=["g5.xlarge", "g4dn.xlarge"])})
    assert (problem.code, problem.path) == ("GpuShapesDiffer", "gpu_pools.0.instance_types")
    assert "g5.xlarge=1x24 GB, g4dn.xlarge=1x16 GB" in problem.message


def test_gpu_types_of_different_gpu_counts_are_rejected() -> None:
    # Same vCPUs and memory (96, 384 GiB), 4 GPUs against 8: the template can say only one.
    problem = only_problem({"gpu_pools": gpu_pools(instance_types=["g5.24xlarge", "g4dn.metal"])})
    assert problem.code == "GpuShapesDiffer"
    assert "g5.24xlarge=4x24 GB, g4dn.metal=8x16 GB" in problem.message


def test_an_instance_type_listed_twice_is_rejected() -> None:
    assert codes_of({"gpu_pools": gpu_pools(instance_types=["g5.xlarge", "g5.xlarge"])}) == [
        ("DuplicateItem", "gpu_pools.0.instance_types.1")
    ]


def test_gpu_types_of_different_models_but_one_gpu_shape_are_accepted() -> None:
    config = config_with({"gpu_pools": gpu_pools(instance_types=["g5.xlarge", "g6.xlarge"])})
    assert config.gpu_pools[0].instance_types == ("g5.xlarge", "g6.xlarge")


def test_cluster_name_breaking_eks_naming_rules_is_rejected() -> None:
    assert str(only_problem({"cluster_name": "my_cluster"})) == (
        "cluster_name: must start with a letter and hold only letters, digits and '-', "
        'at most 100 (got: "my_cluster") [BadFormat]'
    )


def test_empty_string_is_rejected() -> None:
    assert codes_of({"cluster_name": ""}) == [("BadFormat", "cluster_name")]


def test_wrong_type_is_rejected_without_coercion() -> None:
    system = default_data()["system_node_group"] | {"min_size": "2"}
    assert str(only_problem({"system_node_group": system})) == (
        'system_node_group.min_size: must be a whole number (got: "2") [WrongType]'
    )


def test_a_list_is_called_a_list_not_a_tuple() -> None:
    problem = only_problem({"availability_zones": "us-west-2a"})
    assert problem.message == 'must be a list (got: "us-west-2a")'


def test_a_boolean_is_not_a_number() -> None:
    autoscaler = default_data()["autoscaler"] | {"scale_down_utilization_threshold": True}
    problem = only_problem({"autoscaler": autoscaler})
    assert (problem.code, problem.path) == (
        "WrongType",
        "autoscaler.scale_down_utilization_threshold",
    )
    assert "not true or false" in problem.message


def test_misspelt_key_suggests_the_nearest_and_lists_every_allowed_key() -> None:
    problem = only_problem({"clustr_name": "x"})
    assert (problem.code, problem.path) == ("UnknownKey", "clustr_name")
    assert problem.message.startswith(
        "unknown key; did you mean 'cluster_name'? allowed: account, admin_principal_arns"
    )
    assert problem.message.endswith("system_node_group, tags, termination_protection, vpc_cidr")


def test_unknown_key_far_from_every_field_gets_no_suggestion() -> None:
    assert only_problem({"zzz": 1}).message.startswith("unknown key; allowed: account, ")


def test_a_numeric_bound_says_which_bound_and_why() -> None:
    system = default_data()["system_node_group"] | {"max_size": 500}
    assert str(only_problem({"system_node_group": system})) == (
        "system_node_group.max_size: 500 is above the upper bound; allowed: at most 450 (EKS "
        "allows at most 450 nodes in a managed node group (an EKS service quota)) [OutOfRange]"
    )


def test_a_lower_bound_says_it_is_the_lower_bound_and_why() -> None:
    message = only_problem({"nat_gateways": 0}).message
    assert message.startswith("0 is below the lower bound; allowed: at least 1 (at least one NAT")


@pytest.mark.parametrize(
    ("pool_change", "path"),
    [
        ({"max_size": 451}, "gpu_pools.0.max_size"),
        ({"on_demand_fallback": {"max_size": 451}}, "gpu_pools.0.on_demand_fallback.max_size"),
    ],
)
def test_a_pool_size_bound_says_why(pool_change: dict[str, Any], path: str) -> None:
    problem = only_problem({"gpu_pools": gpu_pools(**pool_change)})
    assert (problem.code, problem.path) == ("OutOfRange", path)
    assert "EKS allows at most 450 nodes in a managed node group" in problem.message


@pytest.mark.parametrize(
    ("pool_change", "path", "suggestion"),
    [
        ({"instance_typs": ["g5.xlarge"]}, "gpu_pools.0.instance_typs", "instance_types"),
        (
            {"on_demand_fallback": {"max_size": 2, "max_sise": 2}},
            "gpu_pools.0.on_demand_fallback.max_sise",
            "max_size",
        ),
        (
            {"gpu_sharing": {"replicas": 2, "replica": 2}},
            "gpu_pools.0.gpu_sharing.replica",
            "replicas",
        ),
        ({"max_nodes": 3}, "gpu_pools.0.max_nodes", "max_size"),
    ],
)
def test_a_misspelt_pool_key_suggests_the_nearest(
    pool_change: dict[str, Any], path: str, suggestion: str
) -> None:
    problem = only_problem({"gpu_pools": gpu_pools(**pool_change)})
    assert (problem.code, problem.path) == ("UnknownKey", path)
    assert f"did you mean {suggestion!r}?" in problem.message


@pytest.mark.parametrize("key", ["pool", "nvidia.com/device-plugin.config", "gpu-memory-gb"])
def test_reserved_label_is_rejected(key: str) -> None:
    assert codes_of({"gpu_pools": gpu_pools(labels={key: "mine"})}) == [
        ("ReservedLabel", "gpu_pools.0.labels")
    ]


def test_endpoint_nobody_can_reach_is_rejected() -> None:
    assert codes_of({"endpoint": {"public_access_cidrs": [], "private_access": False}}) == [
        ("EndpointUnreachable", "endpoint.public_access_cidrs")
    ]


def test_more_nat_gateways_than_zones_is_rejected() -> None:
    assert codes_of({"nat_gateways": 4}) == [("NatGatewaysAboveZones", "nat_gateways")]


def test_every_problem_is_reported_at_once() -> None:
    assert codes_of(
        {"cluster_name": "bad_name", "region": "Oregon", "nat_gateways": 0, "extra": 1}
    ) == [
        ("BadFormat", "cluster_name"),
        ("BadFormat", "region"),
        ("OutOfRange", "nat_gateways"),
        ("UnknownKey", "extra"),
    ]


def test_field_and_group_rule_problems_are_reported_together() -> None:
    system = default_data()["system_node_group"] | {"min_size": 30}
    assert codes_of(
        {
            "kubernetes_version": "1.99",
            "system_node_group": system,
            "gpu_pools": gpu_pools(min_size=9, max_size=1, instance_types=["m5.large"]),
        }
    ) == [
        ("KubernetesVersionNotSupported", "kubernetes_version"),
        ("InstanceTypeNotSupported", "gpu_pools.0.instance_types.0"),
        ("MinSizeAboveMaxSize", "system_node_group.min_size"),
        ("MinSizeAboveMaxSize", "gpu_pools.0.min_size"),
    ]


def test_cross_pool_problems_are_reported_together() -> None:
    pools = [
        *gpu_pools(availability_zones=["us-west-2d"]),
        second_pool() | {"name": "gpu-spot-ng"},
    ]
    assert codes_of({"gpu_pools": pools}) == [
        ("PoolZoneNotInCluster", "gpu_pools.0.availability_zones.0"),
        ("PoolNameTaken", "gpu_pools.1.name"),
    ]


def test_yaml_override_file_replaces_only_its_fields(tmp_path: Path) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text("cluster_name: ml-team\nsystem_node_group:\n  max_size: 8\n")
    config = load_config(default_data(), str(path))
    assert config.cluster_name == "ml-team"
    assert config.system_node_group.max_size == 8
    assert config.system_node_group.min_size == 2  # untouched default
    assert len(config.gpu_pools) == 1


def test_json_override_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"kubernetes_version": "1.34"}))
    assert load_config(default_data(), str(path)).kubernetes_version == "1.34"


def test_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(tmp_path / "nope.yaml"))
    assert [str(p) for p in caught.value.problems] == [
        f"config: file '{tmp_path / 'nope.yaml'}' does not exist [ConfigFile]"
    ]


def test_yaml_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    assert caught.value.codes == [("ConfigFile", "config")]
    assert (
        caught.value.problems[0].message == f"'{path}' holds a list; allowed: a mapping of fields"
    )


def test_malformed_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("cluster_name: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    assert caught.value.codes == [("YamlSyntax", "config")]
    assert caught.value.problems[0].message == (
        f"'{path}' line 2, column 1: not valid YAML or JSON: while parsing a flow "
        "sequence expected ',' or ']', but got '<stream end>'"
    )


def test_restricted_public_endpoint_needs_the_private_endpoint() -> None:
    endpoint = {"public_access_cidrs": ["203.0.113.0/24"], "private_access": False}
    assert codes_of({"endpoint": endpoint}) == [("PrivateAccessNeeded", "endpoint.private_access")]


# --- control-plane log retention -------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 90, 3653])
def test_log_retention_takes_cloudwatch_values(days: int) -> None:
    assert (
        config_with({"control_plane_log_retention_days": days}).control_plane_log_retention_days
        == days
    )


@pytest.mark.parametrize("days", [0, 2, 91, 10000])
def test_log_retention_refuses_what_cloudwatch_refuses(days: int) -> None:
    problem = only_problem({"control_plane_log_retention_days": days})
    assert (problem.code, problem.path) == (
        "LogRetentionNotAllowed",
        "control_plane_log_retention_days",
    )
    assert problem.message.startswith(f"{days} is not a CloudWatch Logs retention; allowed: 1, 3")


def test_secure_defaults_of_the_config() -> None:
    config = config_with()
    assert config.endpoint.public_access_cidrs == ()  # private endpoint
    assert config.control_plane_log_retain_on_delete is True
    assert config.termination_protection is True
    assert config.key_deletion_principal_arns == ()


@pytest.mark.parametrize("field", ["control_plane_log_retain_on_delete", "termination_protection"])
def test_safety_flags_take_only_booleans(field: str) -> None:
    problem = only_problem({field: "no"})
    assert (problem.code, problem.path) == ("WrongType", field)
    assert problem.message == 'must be true or false (got: "no")'


def test_key_deletion_principals_must_be_iam_role_or_user_arns() -> None:
    assert codes_of({"key_deletion_principal_arns": ["KeyAdmin"]}) == [
        ("BadFormat", "key_deletion_principal_arns.0")
    ]


def test_key_deletion_principals_must_be_in_the_regions_partition() -> None:
    problem = only_problem(
        {"key_deletion_principal_arns": ["arn:aws-cn:iam::123456789012:role/KeyAdmin"]}
    )
    assert (problem.code, problem.path) == ("ArnPartition", "key_deletion_principal_arns.0")
    assert "allowed: arn:aws:iam::..." in problem.message


@pytest.mark.parametrize("field", ["key_deletion_principal_arns", "admin_principal_arns"])
def test_an_arn_listed_twice_is_a_config_error(field: str) -> None:
    arn = "arn:aws:iam::123456789012:role/Admin"
    assert codes_of({field: [arn, arn]}) == [("DuplicateItem", f"{field}.1")]


def test_an_explicit_open_endpoint_is_still_accepted() -> None:
    config = config_with({"endpoint": {"public_access_cidrs": ["0.0.0.0/0"]}})
    assert [str(c) for c in config.endpoint.public_access_cidrs] == ["0.0.0.0/0"]


def test_cross_field_problems_come_with_field_problems_in_one_report(tmp_path: Path) -> None:
    """A bad field does not hide the cluster-wide rules that hold whatever its value."""
    override = tmp_path / "team.yaml"
    override.write_text(
        "cluster_name: bad_name\nnat_gateways: 3\navailability_zones: [us-west-2a, us-west-2b]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(override))
    assert caught.value.codes == [
        ("BadFormat", "cluster_name"),
        ("NatGatewaysAboveZones", "nat_gateways"),
    ]


MANY_MISTAKES = """\
cluster_name: bad_name
vpc_cidr: 10.0.0.0/8
nat_gateways: 0
availability_zones: [us-west-2a, us-west-2b]
node_ami_release_version: 1.35.0-20261120
admin_principal_arns:
  - arn:aws:iam::123456789012:role/Admin
  - arn:aws:iam::123456789012:role/Admin
key_deletion_principal_arns: ["arn:aws-cn:iam::123456789012:role/KeyAdmin"]
endpoint:
  public_access_cidrs: ["198.51.100.0/24", "10.0.0.0/8"]
gpu_sharing: {replicas: 2}
tags: {"aws:owner": me}
system_node_group:
  min_size: 30
autoscaler:
  scale_down_utilization_threshold: true
gpu_pools:
  - name: mixed
    instance_types: [g5.xlarge, g4dn.xlarge]
    capacity_type: ON_DEMAND
    on_demand_fallback: {max_size: 2}
    labels: {pool: mine}
    availability_zones: [us-west-2a, us-west-2a, us-west-2d]
    min_size: 3
    max_size: 1
  - name: mixed
    instance_types: [g6.xlarge]
"""


def test_a_config_with_many_mistakes_is_fully_reported_in_one_run(tmp_path: Path) -> None:
    """Field, cross-field and AWS-limit rules all report on the first run (they once came in
    rounds of 5, 4, 1 and 1, and a zone listed twice hid the zones outside the cluster)."""
    path = tmp_path / "team.yaml"
    path.write_text(MANY_MISTAKES)
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    assert sorted(caught.value.codes) == sorted(
        [
            ("BadFormat", "cluster_name"),
            ("VpcCidrSize", "vpc_cidr"),
            ("OutOfRange", "nat_gateways"),
            ("AmiReleaseNotForVersion", "node_ami_release_version"),
            ("DuplicateItem", "admin_principal_arns.1"),
            ("ArnPartition", "key_deletion_principal_arns.0"),
            ("PublicCidrNotPublic", "endpoint.public_access_cidrs.1"),
            ("MovedKey", "gpu_sharing"),
            ("TagKey", 'tags key "aws:owner"'),
            ("MinSizeAboveMaxSize", "system_node_group.min_size"),
            ("WrongType", "autoscaler.scale_down_utilization_threshold"),
            ("GpuShapesDiffer", "gpu_pools.0.instance_types"),
            ("FallbackOnOnDemandPool", "gpu_pools.0.on_demand_fallback"),
            ("ReservedLabel", "gpu_pools.0.labels"),
            ("DuplicateItem", "gpu_pools.0.availability_zones.1"),
            ("PoolZoneNotInCluster", "gpu_pools.0.availability_zones.2"),
            ("MinSizeAboveMaxSize", "gpu_pools.0.min_size"),
            ("PoolNameTaken", "gpu_pools.1.name"),
        ]
    )


def test_a_rule_whose_input_failed_is_skipped_and_the_others_still_run() -> None:
    """An unquoted version fails its own check: the AMI-release rule, which needs it, is
    skipped (it cannot know the answer); the pool rules after it still run."""
    assert codes_of(
        {
            "kubernetes_version": 1.3,
            "node_ami_release_version": "1.35.0-20261120",
            "gpu_pools": gpu_pools(min_size=5, max_size=2),
        }
    ) == [
        ("WrongType", "kubernetes_version"),
        ("MinSizeAboveMaxSize", "gpu_pools.0.min_size"),
    ]


def test_an_unquoted_version_is_quoted_back_as_the_user_wrote_it(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text("kubernetes_version: 1.30\n")
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    (problem,) = caught.value.problems
    assert problem.code == "WrongType"
    assert problem.message.endswith('quote it: "1.30"')


def test_the_tag_budget_runs_once_the_config_is_otherwise_valid() -> None:
    tags = {f"t{i}": "v" for i in range(48)}
    assert codes_of({"tags": tags}) == [("TagBudget", "tags")]
    assert codes_of({"tags": tags, "nat_gateways": 5}) == [
        ("NatGatewaysAboveZones", "nat_gateways")
    ]


def test_every_rule_has_a_distinct_pascal_case_code() -> None:
    codes = rules.codes()
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[A-Z][A-Za-z]+", code) for code in codes)


def test_a_key_with_terminal_escapes_is_echoed_escaped(tmp_path: Path) -> None:
    """A key holding an escape sequence once reached the terminal raw (recolouring it, or
    worse); every character below U+0020, DEL, C1 and bidi controls are shown as \\uXXXX."""
    path = tmp_path / "team.yaml"
    path.write_text('"\\e[2J\\e[31mred\\u202e": 1\ncluster_name: "a\\u0007b"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    report = caught.value.report()
    assert caught.value.codes[0][0] == "BadFormat"
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202e]", report.replace("\n", ""))
    assert "\\u001b[2J" in report and "\\u202e" in report and "\\u0007" in report


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".env", "AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n"),
        ("config.json", '{"auths": {"registry.example": {"auth": "c2VjcmV0OnBhc3N3b3Jk"}}}'),
        ("dotenv", "TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n"),
    ],
)
def test_a_credentials_file_given_by_mistake_never_prints_the_secret(
    tmp_path: Path, name: str, text: str
) -> None:
    """Values of unknown keys are never shown (not only those that look like secrets: no
    pattern catches every credential, and a misspelt key's value is on the user's screen)."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    report = caught.value.report()
    for secret in ("wJalrXUtnFEMIK7MDENG", "c2VjcmV0OnBhc3N3b3Jk", "ghp_16C7e42F"):
        assert secret not in report


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("gpu_pools: !!set {a: null, b: null}\n", "line 1", "a set"),
        ("cluster_name: !!binary bWwtdGVhbQ==\n", "line 1", "bytes"),
        ("tags:\n  since: 2026-01-01\n", "line 2", "a date or time"),
        ("cluster_name: !vault secret/name\n", "line 1", "tag '!vault'"),
    ],
)
def test_only_plain_yaml_values_are_accepted(
    tmp_path: Path, text: str, line: str, what: str
) -> None:
    """``!!set`` ordered pools by the interpreter's hash seed (two synths of one file differed,
    and a redeploy replaced every GPU group); ``!!binary`` turned a name into its bytes."""
    path = tmp_path / "team.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    (problem,) = caught.value.problems
    assert problem.code == "YamlTag"
    assert f"{line}, column" in problem.message
    assert f"{what} is not a config value" in problem.message


def _digits(text: str, zero: int) -> str:
    """``text`` with its ASCII digits written in another script (``zero``: its digit zero)."""
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


FULLWIDTH, ARABIC_INDIC = 0xFF10, 0x0660


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("account", _digits("123456789012", FULLWIDTH)),
        ("account", _digits("123456789012", ARABIC_INDIC)),
        ("availability_zone_ids", [_digits("usw2-az1", ARABIC_INDIC), "usw2-az2", "usw2-az3"]),
        ("node_ami_release_version", "1.36.0-" + _digits("20261120", FULLWIDTH)),
        ("admin_principal_arns", [f"arn:aws:iam::{_digits('123456789012', FULLWIDTH)}:role/A"]),
        ("admin_principal_arns", ["arn:aws:iam::123456789012:role/\u00c4dmin"]),
    ],
)
def test_only_ascii_digits_and_letters_where_aws_means_ascii(field: str, value: Any) -> None:
    """Unicode digits once passed ``\\d`` and reached the templates."""
    codes = codes_of({field: value})
    assert [code for code, _ in codes] == ["BadFormat"], codes
    assert codes[0][1].startswith(field)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "availability_zones: !!set {us-west-2a: null, us-west-2b: null}\n"
            'node_ami_release_version: "1.35.0-20261120"\n',
            [
                ("YamlTag", "availability_zones"),
                ("AmiReleaseNotForVersion", "node_ami_release_version"),
            ],
        ),
        (
            "nat_gateways: 2\nregion: us-west-2\nnat_gateways: 0\nregion: us-west-2\n"
            "gpu_root_volume_gib: 5\ntags: !!binary dGVhbQ==\n"
            "autoscaler: {scan_interval_seconds: 10, scan_interval_seconds: !!set {}}\n",
            [
                ("DuplicateKey", "nat_gateways"),
                ("DuplicateKey", "region"),
                ("YamlTag", "tags"),
                ("DuplicateKey", "autoscaler.scan_interval_seconds"),
                ("YamlTag", "autoscaler.scan_interval_seconds"),
                ("OutOfRange", "nat_gateways"),
                ("OutOfRange", "gpu_root_volume_gib"),
            ],
        ),
    ],
    ids=["tag-and-rule", "duplicates-tags-and-fields"],
)
def test_yaml_tags_and_duplicate_keys_are_reported_with_everything_else(
    tmp_path: Path, text: str, expected: list[tuple[str, str]]
) -> None:
    """A refused tag or a repeated key once stopped reading: only the first was reported and no
    field or rule ran (three runs for the second file). Now every one is reported in one run,
    a tagged value is invalid (no WrongType for it, rules reading it skipped) and a repeated
    key's last value is checked (``nat_gateways: 0``)."""
    path = tmp_path / "team.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    assert caught.value.codes == expected
