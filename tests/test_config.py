"""Config rules: pure Python, no synth. Each bad input is asserted by its message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cluster_config import ConfigError, load_config
from cluster_config.versions import KUBERNETES_RELEASES
from tests.support import config_with, default_data


def problems_of(overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_with(overrides)
    return caught.value.problems


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
    assert problems_of({"kubernetes_version": "1.30"}) == [
        "kubernetes_version: '1.30' is not supported; allowed: 1.33, 1.34, 1.35, 1.36 "
        '(got: "1.30")'
    ]


def test_min_greater_than_max_names_the_pool() -> None:
    assert problems_of({"gpu_pools": gpu_pools(min_size=5, max_size=2)}) == [
        "gpu_pools.0.min_size: 5 is greater than max_size 2; allowed: min_size <= max_size"
    ]


def test_availability_zone_of_another_region_is_rejected() -> None:
    zones = ["us-west-2a", "us-east-1b", "us-west-2c"]
    problems = problems_of(
        {"availability_zones": zones, "gpu_pools": gpu_pools(availability_zones=["us-west-2b"])}
    )
    assert "availability_zones.1: 'us-east-1b' is not in region 'us-west-2'" in problems[0]
    assert any(
        "gpu_pools.0.availability_zones.0: 'us-west-2b' is not one of" in p for p in problems
    )


def test_a_zone_listed_twice_is_rejected() -> None:
    zones = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2a"]
    assert problems_of({"availability_zones": zones}) == [
        f"availability_zones: {zones} lists a zone twice"
    ]


def test_control_plane_zones_default_to_every_zone() -> None:
    assert config_with().control_plane_zones == ("us-west-2a", "us-west-2b", "us-west-2c")


def test_control_plane_zones_outside_the_vpcs_zones_are_rejected() -> None:
    assert problems_of({"control_plane_availability_zones": ["us-west-2a", "us-west-2d"]}) == [
        "control_plane_availability_zones.1: 'us-west-2d' is not one of availability_zones "
        "['us-west-2a', 'us-west-2b', 'us-west-2c']; the control plane's subnets are among the "
        "VPC's"
    ]


def test_one_control_plane_zone_is_rejected() -> None:
    """EKS needs subnets in at least two zones for the control plane."""
    [problem] = problems_of({"control_plane_availability_zones": ["us-west-2a"]})
    assert problem.startswith("control_plane_availability_zones: Tuple should have at least 2")


def test_a_control_plane_zone_listed_twice_is_rejected() -> None:
    zones = ["us-west-2a", "us-west-2a"]
    assert problems_of({"control_plane_availability_zones": zones}) == [
        f"control_plane_availability_zones: {zones} lists a zone twice"
    ]


def test_zero_availability_zones_are_rejected() -> None:
    problems = problems_of({"availability_zones": []})
    assert problems == [
        "availability_zones: Tuple should have at least 2 items after validation, not 0 (got: [])"
    ]


def test_a_pool_group_named_like_the_system_group_is_rejected() -> None:
    system = default_data()["system_node_group"] | {"name": "gpu-spot-ng-b"}
    assert problems_of({"system_node_group": system}) == [
        "gpu_pools.0.name: 'gpu-spot-ng' makes group 'gpu-spot-ng-b' (gpu_pools.0, us-west-2b), "
        "which is also the name of system_node_group; choose another pool name"
    ]


def test_duplicate_pool_names_are_rejected() -> None:
    pools = [*gpu_pools(), second_pool() | {"name": "gpu-spot-ng"}]
    assert problems_of({"gpu_pools": pools}) == [
        "gpu_pools.1.name: 'gpu-spot-ng' is already used by gpu_pools.0.name"
    ]


def test_generated_group_names_of_two_pools_must_not_collide() -> None:
    pools = [
        *gpu_pools(name="gpu", on_demand_fallback={"max_size": 1}),
        second_pool() | {"name": "gpu-od", "availability_zones": ["us-west-2c"]},
    ]
    assert problems_of({"gpu_pools": pools}) == [
        "gpu_pools.1.name: 'gpu-od' makes group 'gpu-od-c' (gpu_pools.1, us-west-2c), which is "
        "also the name of gpu_pools.0.on_demand_fallback's group in us-west-2c; choose another "
        "pool name"
    ]


def test_an_empty_pool_list_says_a_cluster_needs_a_gpu_pool() -> None:
    (problem,) = problems_of({"gpu_pools": []})
    assert problem.startswith("gpu_pools: a cluster needs at least one GPU pool")
    assert "Tuple" not in problem


def test_a_pool_may_not_be_called_system() -> None:
    assert problems_of({"gpu_pools": gpu_pools(name="system")}) == [
        "gpu_pools.0.name: 'system' is the system group's pool label value; choose another"
    ]


def test_pool_name_leaves_room_for_the_fallback_group_suffix() -> None:
    (problem,) = problems_of({"gpu_pools": gpu_pools(name="p" * 52)})
    assert problem.startswith("gpu_pools.0.name: String should have at most 51 characters")
    assert config_with({"gpu_pools": gpu_pools(name="p" * 51)}).gpu_pools[0].name == "p" * 51


def test_pool_name_pattern_hint_gives_the_pool_limit() -> None:
    (problem,) = problems_of({"gpu_pools": gpu_pools(name="GPU")})
    assert problem == (
        "gpu_pools.0.name: must be lower-case words of letters and digits joined by single '-', "
        'at most 51 (got: "GPU")'
    )


def test_pool_zone_listed_twice_is_rejected() -> None:
    zones = ["us-west-2a", "us-west-2a"]
    assert problems_of({"gpu_pools": gpu_pools(availability_zones=zones)}) == [
        f"gpu_pools.0.availability_zones: {zones} lists a zone twice"
    ]


def test_on_demand_fallback_is_refused_on_an_on_demand_pool() -> None:
    pools = gpu_pools(capacity_type="ON_DEMAND", on_demand_fallback={"max_size": 2})
    assert problems_of({"gpu_pools": pools}) == [
        "gpu_pools.0.on_demand_fallback: the pool is already ON_DEMAND; a fallback is for a SPOT "
        "pool (remove it, or set capacity_type: SPOT)"
    ]


def test_on_demand_fallback_sizes_are_checked() -> None:
    pools = gpu_pools(on_demand_fallback={"min_size": 3, "max_size": 2})
    assert problems_of({"gpu_pools": pools}) == [
        "gpu_pools.0.on_demand_fallback.min_size: 3 is greater than max_size 2; allowed: "
        "min_size <= max_size"
    ]


def test_pools_may_differ_in_everything() -> None:
    inference = gpu_pools(labels={"team": "serving"}, gpu_sharing={"replicas": 4})[0]
    training = second_pool() | {
        "availability_zones": ["us-west-2a", "us-west-2b"],
        "capacity_type": "ON_DEMAND",
        "labels": {"team": "research"},
    }
    config = config_with({"gpu_pools": [inference, training]})
    assert [p.name for p in config.gpu_pools] == ["gpu-spot-ng", "training"]


def test_too_many_generated_groups_are_rejected() -> None:
    zones = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]
    pools = [
        second_pool() | {"name": f"pool-{i}", "on_demand_fallback": {"max_size": 1}}
        for i in range(3)
    ]
    assert problems_of({"availability_zones": zones, "gpu_pools": pools}) == [
        "gpu_pools: the pools make 24 GPU node groups (one per pool zone, twice with "
        "on_demand_fallback); allowed: at most 20"
    ]


def test_the_old_gpu_node_groups_key_is_refused() -> None:
    (problem,) = problems_of({"gpu_node_groups": []})
    assert problem.startswith(
        "gpu_node_groups: unknown key; did you mean 'gpu_pools'? allowed: account"
    )
    assert "gpu_pools" in problem


def test_non_gpu_type_in_a_gpu_group_is_rejected() -> None:
    problems = problems_of({"gpu_pools": gpu_pools(instance_types=["m5.xlarge"])})
    assert problems[0].startswith(
        "gpu_pools.0.instance_types.0: 'm5.xlarge' is not a supported GPU instance type: "
        "it has no GPU; allowed: a g4dn, g5, g6, g6e, g7e, gr6, p3dn, p4d, p4de, p5, p5e, p5en, "
        "p6-b200, p6-b300 type listed in cluster_config/data/ec2-instance-types.tsv"
    )


def test_p2_is_rejected_because_the_al2023_nvidia_ami_does_not_support_it() -> None:
    problems = problems_of({"gpu_pools": gpu_pools(instance_types=["p2.xlarge"])})
    assert problems[0].startswith(
        "gpu_pools.0.instance_types.0: 'p2.xlarge' is not a supported GPU instance type: "
        "EC2's instance-type data (moto "
    )
    assert ") does not list it" in problems[0]


def test_gpu_type_in_the_system_group_is_rejected() -> None:
    system = default_data()["system_node_group"] | {"instance_types": ["g5.xlarge"]}
    problems = problems_of({"system_node_group": system})
    assert "'g5.xlarge' is not a supported non-GPU instance type: it is a GPU type" in problems[0]


def test_mixed_shapes_in_one_group_are_rejected() -> None:
    problems = problems_of({"gpu_pools": gpu_pools(instance_types=["g5.xlarge", "g5.2xlarge"])})
    assert problems == [
        "gpu_pools.0.instance_types: types differ in shape (g5.xlarge=4 vCPU/16 GiB, "
        "g5.2xlarge=8 vCPU/32 GiB); the cluster autoscaler sizes a group by its first type, "
        "so all types in a group must have the same vCPUs and memory"
    ]


def test_gpu_types_of_one_shape_but_different_gpu_memory_are_rejected() -> None:
    problems = problems_of({"gpu_pools": gpu_pools(instance_types=["g5.xlarge", "g4dn.xlarge"])})
    assert problems == [
        "gpu_pools.0.instance_types: types differ in GPU count or GPU memory; the "
        "autoscaler's template node and the GPU memory label describe one GPU shape per group, "
        "so put each in its own group (got: g5.xlarge=1x24 GB, g4dn.xlarge=1x16 GB)"
    ]


def test_gpu_types_of_different_gpu_counts_are_rejected() -> None:
    # Same vCPUs and memory (96, 384 GiB), 4 GPUs against 8: the template can say only one.
    problems = problems_of({"gpu_pools": gpu_pools(instance_types=["g5.24xlarge", "g4dn.metal"])})
    assert problems == [
        "gpu_pools.0.instance_types: types differ in GPU count or GPU memory; the "
        "autoscaler's template node and the GPU memory label describe one GPU shape per group, "
        "so put each in its own group (got: g5.24xlarge=4x24 GB, g4dn.metal=8x16 GB)"
    ]


def test_gpu_types_of_different_models_but_one_gpu_shape_are_accepted() -> None:
    config = config_with({"gpu_pools": gpu_pools(instance_types=["g5.xlarge", "g6.xlarge"])})
    assert config.gpu_pools[0].instance_types == ("g5.xlarge", "g6.xlarge")


def test_cluster_name_breaking_eks_naming_rules_is_rejected() -> None:
    assert problems_of({"cluster_name": "my_cluster"}) == [
        "cluster_name: must start with a letter and hold only letters, digits and '-', "
        'at most 100 (got: "my_cluster")'
    ]


def test_empty_string_is_rejected() -> None:
    assert problems_of({"cluster_name": ""})[0].startswith("cluster_name: must start with a letter")


def test_wrong_type_is_rejected_without_coercion() -> None:
    system = default_data()["system_node_group"] | {"min_size": "2"}
    assert problems_of({"system_node_group": system}) == [
        'system_node_group.min_size: Input should be a valid integer (got: "2")'
    ]


def test_misspelt_key_suggests_the_nearest_and_lists_every_allowed_key() -> None:
    problems = problems_of({"clustr_name": "x"})
    assert problems[0].startswith(
        "clustr_name: unknown key; did you mean 'cluster_name'? allowed: account, "
        "admin_principal_arns"
    )
    assert (
        "system_node_group, tags, termination_protection, vpc_cidr (got: " in problems[0]
    )  # not cut


def test_unknown_key_far_from_every_field_gets_no_suggestion() -> None:
    assert problems_of({"zzz": 1})[0].startswith("zzz: unknown key; allowed: account, ")


def test_a_numeric_bound_says_why() -> None:
    system = default_data()["system_node_group"] | {"max_size": 500}
    assert problems_of({"system_node_group": system}) == [
        "system_node_group.max_size: Input should be less than or equal to 450: EKS allows at "
        "most 450 nodes in a managed node group, an EKS service quota (got: 500)"
    ]


@pytest.mark.parametrize(
    ("pool_change", "path"),
    [
        ({"max_size": 451}, "gpu_pools.0.max_size"),
        ({"on_demand_fallback": {"max_size": 451}}, "gpu_pools.0.on_demand_fallback.max_size"),
    ],
)
def test_a_pool_size_bound_says_why(pool_change: dict[str, Any], path: str) -> None:
    assert problems_of({"gpu_pools": gpu_pools(**pool_change)}) == [
        f"{path}: Input should be less than or equal to 450: EKS allows at most 450 nodes in a "
        "managed node group, an EKS service quota (got: 451)"
    ]


@pytest.mark.parametrize(
    ("pool_change", "message"),
    [
        (
            {"instance_typs": ["g5.xlarge"]},
            "gpu_pools.0.instance_typs: unknown key; did you mean 'instance_types'?",
        ),
        (
            {"on_demand_fallback": {"max_size": 2, "max_sise": 2}},
            "gpu_pools.0.on_demand_fallback.max_sise: unknown key; did you mean 'max_size'?",
        ),
        (
            {"gpu_sharing": {"replicas": 2, "replica": 2}},
            "gpu_pools.0.gpu_sharing.replica: unknown key; did you mean 'replicas'?",
        ),
    ],
)
def test_a_misspelt_pool_key_suggests_the_nearest(
    pool_change: dict[str, Any], message: str
) -> None:
    assert problems_of({"gpu_pools": gpu_pools(**pool_change)})[0].startswith(message)


def test_a_zone_outside_the_region_lists_every_allowed_zone() -> None:
    problems = problems_of({"availability_zones": ["us-east-1a", "us-west-2b", "us-west-2c"]})
    assert problems[0] == (
        "availability_zones.0: 'us-east-1a' is not in region 'us-west-2'; allowed: us-west-2a, "
        "us-west-2b, us-west-2c, us-west-2d, us-west-2e, us-west-2f (those your account has)"
    )


def test_unknown_nested_key_is_rejected() -> None:
    problems = problems_of({"gpu_pools": gpu_pools(max_nodes=3)})
    assert problems[0].startswith(
        "gpu_pools.0.max_nodes: unknown key; did you mean 'max_size'? allowed: "
        "availability_zones, capacity_type"
    )


@pytest.mark.parametrize("key", ["pool", "nvidia.com/device-plugin.config", "gpu-memory-gb"])
def test_reserved_label_is_rejected(key: str) -> None:
    assert problems_of({"gpu_pools": gpu_pools(labels={key: "mine"})}) == [
        f"gpu_pools.0.labels: ['{key}'] are set by this project; choose other keys"
    ]


def test_endpoint_nobody_can_reach_is_rejected() -> None:
    problems = problems_of({"endpoint": {"public_access_cidrs": [], "private_access": False}})
    assert problems == [
        "endpoint.public_access_cidrs: empty while private_access is false, so nothing could "
        "reach the API; allow a public CIDR or set private_access: true"
    ]


def test_more_nat_gateways_than_zones_is_rejected() -> None:
    assert problems_of({"nat_gateways": 4})[0].startswith(
        "nat_gateways: 4 is more than the 3 availability zones"
    )


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        {"cluster_name": "bad_name", "region": "Oregon", "nat_gateways": 0, "extra": 1}
    )
    assert [p.split(":")[0] for p in problems] == [
        "cluster_name",
        "region",
        "nat_gateways",
        "extra",
    ]


def test_field_and_group_rule_problems_are_reported_together() -> None:
    system = default_data()["system_node_group"] | {"min_size": 30}
    problems = problems_of(
        {
            "kubernetes_version": "1.99",
            "system_node_group": system,
            "gpu_pools": gpu_pools(min_size=9, max_size=1, instance_types=["m5.large"]),
        }
    )
    assert [p.split(":")[0] for p in problems] == [
        "kubernetes_version",
        "system_node_group.min_size",
        "gpu_pools.0.min_size",
        "gpu_pools.0.instance_types.0",
    ]


def test_cross_pool_problems_are_reported_together() -> None:
    pools = [
        *gpu_pools(availability_zones=["us-west-2d"]),
        second_pool() | {"name": "gpu-spot-ng"},
    ]
    assert [p.split(":")[0] for p in problems_of({"gpu_pools": pools})] == [
        "gpu_pools.0.availability_zones.0",
        "gpu_pools.1.name",
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
    assert caught.value.problems == [f"config: file '{tmp_path / 'nope.yaml'}' does not exist"]


def test_yaml_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    assert caught.value.problems == [f"config: '{path}' holds a list; allowed: a mapping of fields"]


def test_malformed_yaml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("cluster_name: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(path))
    assert caught.value.problems == [
        f"config: '{path}' line 2, column 1: not valid YAML or JSON: while parsing a flow "
        "sequence expected ',' or ']', but got '<stream end>'"
    ]


def test_restricted_public_endpoint_needs_the_private_endpoint() -> None:
    endpoint = {"public_access_cidrs": ["203.0.113.0/24"], "private_access": False}
    assert problems_of({"endpoint": endpoint}) == [
        "endpoint.private_access: false while public_access_cidrs is restricted: the kubectl "
        "provider that applies the add-ons runs in Lambda with no fixed address and could not "
        "reach the API; set private_access: true"
    ]


# --- control-plane log retention -------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 90, 3653])
def test_log_retention_takes_cloudwatch_values(days: int) -> None:
    assert (
        config_with({"control_plane_log_retention_days": days}).control_plane_log_retention_days
        == days
    )


@pytest.mark.parametrize("days", [0, 2, 91, 10000])
def test_log_retention_refuses_what_cloudwatch_refuses(days: int) -> None:
    (problem,) = problems_of({"control_plane_log_retention_days": days})
    assert problem.startswith(
        f"control_plane_log_retention_days: {days} is not a CloudWatch Logs retention; "
        "allowed: 1, 3, 5, 7, 14, 30, 60, 90,"
    )


def test_secure_defaults_of_the_config() -> None:
    config = config_with()
    assert config.endpoint.public_access_cidrs == ()  # private endpoint
    assert config.control_plane_log_retain_on_delete is True
    assert config.termination_protection is True
    assert config.key_deletion_principal_arns == ()


@pytest.mark.parametrize("field", ["control_plane_log_retain_on_delete", "termination_protection"])
def test_safety_flags_take_only_booleans(field: str) -> None:
    (problem,) = problems_of({field: "no"})
    assert problem.startswith(f"{field}: ")
    assert "'no'" in problem or '"no"' in problem


def test_key_deletion_principals_must_be_iam_role_or_user_arns() -> None:
    (problem,) = problems_of({"key_deletion_principal_arns": ["KeyAdmin"]})
    assert problem.startswith("key_deletion_principal_arns.0: must be an IAM role or user ARN")


def test_key_deletion_principals_must_be_in_the_regions_partition() -> None:
    (problem,) = problems_of(
        {"key_deletion_principal_arns": ["arn:aws-cn:iam::123456789012:role/KeyAdmin"]}
    )
    assert problem.startswith("key_deletion_principal_arns.0: 'arn:aws-cn:iam::")
    assert "allowed: arn:aws:iam::..." in problem


def test_a_key_deletion_principal_listed_twice_is_rejected() -> None:
    arn = "arn:aws:iam::123456789012:role/KeyAdmin"
    (problem,) = problems_of({"key_deletion_principal_arns": [arn, arn]})
    assert problem.startswith("key_deletion_principal_arns: ")
    assert "lists a principal twice" in problem


def test_an_explicit_open_endpoint_is_still_accepted() -> None:
    config = config_with({"endpoint": {"public_access_cidrs": ["0.0.0.0/0"]}})
    assert [str(c) for c in config.endpoint.public_access_cidrs] == ["0.0.0.0/0"]


def test_cross_field_problems_come_with_field_problems_in_one_report(tmp_path: Path) -> None:
    """A bad field no longer hides the cluster-wide rules that hold whatever its value."""
    override = tmp_path / "team.yaml"
    override.write_text(
        "cluster_name: bad_name\nnat_gateways: 3\navailability_zones: [us-west-2a, us-west-2b]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(default_data(), str(override))
    problems = caught.value.problems
    assert problems[0].startswith("cluster_name: must start with a letter")
    assert (
        "nat_gateways: 3 is more than the 2 availability zones; allowed: 1 to the number of "
        "zones" in problems
    )
    assert not any(p.startswith("cluster_name") for p in problems[1:])
