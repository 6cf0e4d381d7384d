"""EFA pools, config and specs: pure Python, no synth (cluster_config/efa.py, node_groups.py)."""

from __future__ import annotations

from typing import Any

import pytest

from aws_rules.ec2_launch_template import NetworkInterface
from cluster_config import ConfigError
from cluster_config.catalog import GPU_INSTANCE_TYPES
from cluster_config.efa import (
    EFA_RESOURCE,
    EKS_ADDON_REGISTRIES,
    efa_interface_count,
    efa_network_interfaces,
    efa_problems,
    efa_types,
)
from cluster_config.node_groups import node_group_specs
from tests.support import config_with, default_data

INFERENCE = {"name": "inference", "instance_types": ["g6.xlarge"], "min_size": 0, "max_size": 2}


def training(**changes: Any) -> dict[str, Any]:
    return {
        "name": "training",
        "instance_types": ["p5.48xlarge"],
        "min_size": 0,
        "max_size": 2,
        "capacity_type": "ON_DEMAND",
        "efa": True,
        **changes,
    }


def problems_of(overrides: dict[str, Any]) -> list[str]:
    """Each problem's line as the user reads it (``<field>: <message> [<Code>]``)."""
    with pytest.raises(ConfigError) as caught:
        config_with(overrides)
    return [str(p) for p in caught.value.problems]


def test_efa_on_a_type_without_efa_is_refused_naming_the_type() -> None:
    # Bug caught: a pool of g6.xlarge (EfaSupported false) with efa: true synthesizes a launch
    # template asking for an EFA interface, which EC2 refuses at launch: the group never scales.
    problems = problems_of({"gpu_pools": [INFERENCE, training(instance_types=["g6.xlarge"])]})
    assert len(problems) == 1
    assert problems[0].startswith(
        "gpu_pools.1.instance_types.0: 'g6.xlarge' has no EFA (EC2's DescribeInstanceTypes: "
        "NetworkInfo.EfaSupported is false"
    )
    assert "use an EFA type, e.g. p5.48xlarge" in problems[0]
    assert problems[0].endswith("[EfaNotSupported]")


def test_every_type_of_an_efa_pool_is_checked() -> None:
    # g6.8xlarge takes EFA, g6.4xlarge does not: only the second is named.
    problems = efa_problems(["g6.8xlarge", "g6.4xlarge"])
    assert [p.split(":", 1)[0] for p in problems] == ["instance_types.1"]


def test_types_with_different_efa_interfaces_are_refused() -> None:
    # Bug caught: one launch template per group; p4d.24xlarge has 4 EFA cards, p5.48xlarge 32: a
    # template built from the first type would ask a p5 for too few or a p4d for missing cards.
    (problem,) = efa_problems(["p4d.24xlarge", "p5.48xlarge"])
    assert problem.startswith(
        "instance_types: types differ in their EFA interfaces (p4d.24xlarge=4 on cards 0-3, "
        "p5.48xlarge=32 on cards 0-31)"
    )


def test_a_spot_efa_pool_is_allowed_as_ec2_offers_every_efa_type_as_spot() -> None:
    config = config_with({"gpu_pools": [training(capacity_type="SPOT")]})
    assert config.gpu_pools[0].efa


def test_efa_is_refused_in_a_region_without_an_eks_image_registry() -> None:
    # mx-central-1 is an AWS region that the EKS add-on registry table does not list.
    assert "mx-central-1" not in EKS_ADDON_REGISTRIES
    problems = problems_of(
        {
            "region": "mx-central-1",
            "availability_zones": ["mx-central-1a", "mx-central-1b"],
            "gpu_pools": [training()],
        }
    )
    assert any(
        p.startswith("gpu_pools.0.efa: region 'mx-central-1' has no EKS add-on image registry")
        for p in problems
    ), problems


def test_efa_count_is_the_maximum_efa_interfaces_ec2_gives() -> None:
    # The template's interfaces, the device plugin's count and the node-template tag agree with
    # EC2's MaximumEfaInterfaces for every EFA type.
    assert efa_types()
    for name in efa_types():
        shape = GPU_INSTANCE_TYPES[name]
        assert efa_interface_count(shape) == shape.max_efa_interfaces, name
        efa_only = [i for i in efa_network_interfaces(shape) if i.interface_type == "efa-only"]
        assert len(efa_only) == shape.max_efa_interfaces, name


def test_p5_interfaces_follow_the_eks_guide() -> None:
    # EKS user guide device-management-efa: ENA primary at card 0/device 0, efa-only at card 0
    # device 1, efa-only at device 0 of every other card.
    interfaces = efa_network_interfaces(GPU_INSTANCE_TYPES["p5.48xlarge"])
    assert interfaces[:3] == (
        NetworkInterface(0, 0, "interface"),
        NetworkInterface(0, 1, "efa-only"),
        NetworkInterface(1, 0, "efa-only"),
    )
    assert len(interfaces) == 33
    assert interfaces[-1] == NetworkInterface(31, 0, "efa-only")


def test_p6_b300_has_no_efa_interface_on_card_0() -> None:
    # Bug caught: counting cards as eksctl and terraform-aws-eks do (MaximumNetworkCards = 17)
    # would ask for an EFA on card 0, which has none on p6-b300.48xlarge (EFA on cards 1-16).
    interfaces = efa_network_interfaces(GPU_INSTANCE_TYPES["p6-b300.48xlarge"])
    assert interfaces[0] == NetworkInterface(0, 0, "interface")
    assert [i.network_card_index for i in interfaces[1:]] == list(range(1, 17))
    assert {i.device_index for i in interfaces[1:]} == {0}


def test_efa_groups_get_a_template_and_placement_group_each_and_the_pool_one_sg() -> None:
    specs = node_group_specs(config_with({"gpu_pools": [INFERENCE, training()]}))
    efa_groups = specs.efa_pools["training"]
    assert [g.launch.construct_id for g in efa_groups] == [
        "TrainingALaunchTemplate",
        "TrainingBLaunchTemplate",
        "TrainingCLaunchTemplate",
    ]
    assert [g.launch.placement_group for g in efa_groups] == [
        "TrainingAPlacementGroup",
        "TrainingBPlacementGroup",
        "TrainingCPlacementGroup",
    ]
    assert specs.efa_security_groups == ("TrainingEfaSecurityGroup",)
    assert {g.node_template_resources[EFA_RESOURCE] for g in efa_groups} == {"32"}
    assert list(specs.efa_pools) == ["training"]


def test_a_pool_without_efa_is_unchanged() -> None:
    # Bug caught: an EFA pool beside it changing another pool's template, resources or names.
    alone = node_group_specs(config_with({"gpu_pools": [INFERENCE]}))
    beside = node_group_specs(config_with({"gpu_pools": [INFERENCE, training()]}))
    assert alone.gpu == beside.gpu[: len(alone.gpu)]
    assert all(EFA_RESOURCE not in g.node_template_resources for g in alone.gpu)
    assert {g.launch.construct_id for g in alone.gpu} == {"GpuLaunchTemplate"}


def test_the_efa_resource_tag_counts_against_the_tag_budget() -> None:
    # 50 tags per ASG: 4 EKS tags + node-template tags (labels, taint, resources). An EFA group
    # has one resource tag more, so one label fewer fits than on the same pool without EFA.
    def labels_allowed(efa: bool) -> int:
        for count in range(30, 50):
            pool = training(efa=efa, labels={f"l{i}": "v" for i in range(count)})
            data = default_data() | {"gpu_pools": [pool]}
            try:
                config_with({"gpu_pools": data["gpu_pools"]})
            except ConfigError as error:
                assert any(p.code == "TagBudget" for p in error.problems), error.problems
                return count - 1
        raise AssertionError("no label count broke the budget")

    assert labels_allowed(efa=True) == labels_allowed(efa=False) - 1
