"""Every instance type the catalog accepts synthesizes through aws-cdk-lib's node group.

The config accepts a type from the data files; the stack then hands it to ``aws_eks_v2``. A
type aws-cdk-lib cannot handle (``ec2.InstanceType`` rejects hyphenated families such as
``p6-b200`` and ``u7i-12tb``) would pass the config and crash synth, so each accepted type goes
through ``ManagedNodeGroup`` once, in one small stack (no full app synth per type): the
types in groups of up to 20 (EKS's limit per node group), GPU and system types apart.
"""

from __future__ import annotations

from dataclasses import replace

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam

from cluster_config.catalog import GENERAL_INSTANCE_TYPES, GPU_INSTANCE_TYPES
from cluster_config.node_groups import node_group_specs
from constructs_lib.managed_node_group import ManagedNodeGroup
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider
from stacks import new_app
from stacks.node_group_props import node_group_props
from tests.support import config_with, resources
from verify.synth import feature_flags

MAX_TYPES_PER_GROUP = 20  # EKS API, CreateNodegroup instanceTypes


def _chunks(names: list[str]) -> list[list[str]]:
    return [names[i : i + MAX_TYPES_PER_GROUP] for i in range(0, len(names), MAX_TYPES_PER_GROUP)]


@pytest.fixture(scope="module")
def nodegroup_instance_types() -> dict[str, list[str]]:
    """``InstanceTypes`` of each synthesized ``AWS::EKS::Nodegroup``, by logical ID."""
    app = new_app(context=feature_flags())
    stack = cdk.Stack(app, "Types", env=cdk.Environment(region="us-west-2"))
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["us-west-2a"], nat_gateways=1)
    cluster = eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.of("1.36"),
        vpc=vpc,
        default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
        default_capacity=0,
    )
    provider = NodegroupOpsProvider(stack, "Ops", cluster_name="types")
    role = iam.Role(stack, "NodeRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    specs = node_group_specs(config_with())
    groups = [(c, specs.gpu[0]) for c in _chunks(sorted(GPU_INSTANCE_TYPES))] + [
        (c, specs.system) for c in _chunks(sorted(GENERAL_INSTANCE_TYPES))
    ]
    templates = {}
    for number, (names, base) in enumerate(groups):
        props = node_group_props(base)
        volume = props.root_volume_gib
        if volume not in templates:
            templates[volume] = NodeLaunchTemplate(
                stack, f"Template{volume}", root_volume_gib=volume
            )
        ManagedNodeGroup(
            stack,
            f"Group{number}",
            props=replace(
                props,
                physical_name=f"g{number}",
                instance_types=tuple(names),
                availability_zones=("us-west-2a",),
            ),
            cluster=cluster,
            provider=provider,
            node_role=role,
            launch_template=templates[volume],
        )
    synthesized = app.synth().get_stack_by_name("Types").template
    return {
        logical_id: props["Properties"]["InstanceTypes"]
        for logical_id, props in resources(synthesized, "AWS::EKS::Nodegroup").items()
    }


def test_every_accepted_type_reaches_a_node_group_unchanged(
    nodegroup_instance_types: dict[str, list[str]],
) -> None:
    synthesized = [t for types in nodegroup_instance_types.values() for t in types]
    assert sorted(synthesized) == sorted({*GPU_INSTANCE_TYPES, *GENERAL_INSTANCE_TYPES})


@pytest.mark.parametrize("name", ["p6-b200.48xlarge", "u7i-12tb.224xlarge", "m7i-flex.large"])
def test_hyphenated_families_are_among_them(
    nodegroup_instance_types: dict[str, list[str]], name: str
) -> None:
    assert any(name in types for types in nodegroup_instance_types.values())
