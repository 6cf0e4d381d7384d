"""ManagedNodeGroup on its own: it refuses props EKS would refuse, and a role or launch template
other than the ones its props describe (no app synth; the props of the default GPU group)."""

from __future__ import annotations

from dataclasses import replace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from cluster_config.node_groups import node_group_specs
from constructs_lib.managed_node_group import ManagedNodeGroup, ManagedNodeGroupProps, Taint
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider
from stacks.node_group_props import node_group_props
from tests.support import config_with

GPU_PROPS = node_group_props(node_group_specs(config_with()).gpu[0])


def group(
    props: ManagedNodeGroupProps, *, role_id: str = "NodeRole", root_volume_gib: int | None = None
) -> cdk.Stack:
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(region="us-west-2"))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=list(props.availability_zones))
    ManagedNodeGroup(
        stack,
        "Group",
        props=props,
        cluster=eks.Cluster.from_cluster_attributes(stack, "Cluster", cluster_name="c", vpc=vpc),
        provider=NodegroupOpsProvider(stack, "Ops", cluster_name="c"),
        node_role=iam.Role(stack, role_id, assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")),
        launch_template=NodeLaunchTemplate(
            stack, "Template", root_volume_gib=root_volume_gib or props.root_volume_gib
        ),
    )
    return stack


def test_the_props_become_the_node_group() -> None:
    """Catches: a prop the construct drops or lets aws-cdk-lib replace (the L2 guesses an AMI type
    from parsed instance types; a string ``Taint.effect`` needs mapping to EKS's spelling). The
    expected values are the default GPU group's, written out from cdk.json and the group name
    already deployed, not read back from the props under test."""
    template = Template.from_stack(group(GPU_PROPS))
    template.resource_count_is("AWS::EKS::Nodegroup", 1)
    template.has_resource_properties(
        "AWS::EKS::Nodegroup",
        {
            "NodegroupName": "gpu-spot-ng-a-bee838",
            "CapacityType": "SPOT",
            "AmiType": "AL2023_x86_64_NVIDIA",
            "InstanceTypes": ["g5.xlarge", "g6.xlarge"],
            "ScalingConfig": {
                "MinSize": 0,
                "MaxSize": 4,
                "DesiredSize": {
                    "Fn::GetAtt": [Match.string_like_regexp("^GroupDesiredSize"), "DesiredSize"]
                },
            },
            "Labels": {
                "pool": "gpu-spot-ng",
                "k8s.amazonaws.com/accelerator": "nvidia",
                "nvidia.com/gpu.present": "true",
                "gpu-memory-gb": "24",
            },
            "Taints": [{"Key": "nvidia.com/gpu", "Value": "true", "Effect": "NO_SCHEDULE"}],
            "ForceUpdateEnabled": False,
        },
    )


def test_a_role_the_name_does_not_digest_is_refused() -> None:
    # Moving a group to another role replaces it: only a name that digests the role can.
    with pytest.raises(ValueError, match="node role 'OtherRole', but the name digests 'NodeRole'"):
        group(GPU_PROPS, role_id="OtherRole")


def test_a_launch_template_with_another_root_volume_is_refused() -> None:
    # The node-template tags promise the ephemeral storage of the props' root volume.
    with pytest.raises(ValueError, match="launch template root volume 50 GiB, props 100"):
        group(GPU_PROPS, root_volume_gib=50)


def test_every_problem_is_reported_at_once() -> None:
    props = replace(GPU_PROPS, physical_name="-bad", min_size=3, max_size=2, disk_size=20)
    with pytest.raises(ValueError) as raised:
        group(props)
    assert str(raised.value) == (
        "node group Group: disk_size with a launch template (EKS allows only one of them); "
        "physical_name '-bad' breaks EKS's node group name rule; min_size 3 / max_size 2"
    )


def test_a_taint_effect_kubernetes_does_not_have_is_refused() -> None:
    taint = Taint(key="k", value="v", effect="NoRun")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"taint effects \['NoRun'\]; allowed: NoSchedule"):
        group(replace(GPU_PROPS, taints=(taint,)))
