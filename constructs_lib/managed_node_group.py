"""An EKS managed node group whose size survives redeploys, optionally scale-from-zero ready."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from cluster_config.nodegroup_names import fingerprint as _fingerprint
from cluster_config.nodegroup_names import physical_nodegroup_name
from constructs_lib.desired_size_guard import DesiredSizeGuard
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider
from constructs_lib.scale_from_zero_tags import ScaleFromZeroTags, node_template_tags

TaintEffectName = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

_EFFECTS = {
    "NoSchedule": eks.TaintEffect.NO_SCHEDULE,
    "PreferNoSchedule": eks.TaintEffect.PREFER_NO_SCHEDULE,
    "NoExecute": eks.TaintEffect.NO_EXECUTE,
}


@dataclass(frozen=True)
class NodeTaint:
    key: str
    value: str
    effect: TaintEffectName


class ManagedNodeGroup(Construct):
    """An ``AWS::EKS::Nodegroup`` plus what makes it safe to autoscale.

    - ``DesiredSize`` comes from a ``DesiredSizeGuard``: a redeploy keeps the autoscaler's size.
    - With ``scale_from_zero_resources`` (e.g. ``{"nvidia.com/gpu": "1"}``), the group's labels,
      taints and those resources are written as node-template tags on its Auto Scaling group.
    - The node group's Kubernetes version follows ``kubernetes_version``.
    - ``node_auto_repair`` turns on EKS node auto repair (``NodeRepairConfig``).
    - Its name is ``<name_prefix>-<digest of its replacement-only properties>``: a change that
      EKS can only make by replacing the group (instance types, capacity type, AMI type,
      subnets) gets a new name, so CloudFormation can create the new group before deleting the
      old one instead of failing on a taken name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        provider: NodegroupOpsProvider,
        name_prefix: str,
        kubernetes_version: str,
        instance_types: Sequence[str],
        capacity_type: Literal["SPOT", "ON_DEMAND"],
        ami_type: str,
        min_size: int,
        max_size: int,
        initial_size: int,
        availability_zones: Sequence[str],
        node_role: iam.IRole,
        launch_template: NodeLaunchTemplate,
        labels: Mapping[str, str],
        taints: Sequence[NodeTaint] = (),
        release_version: str | None = None,
        scale_from_zero_resources: Mapping[str, str] | None = None,
        node_auto_repair: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        nodegroup_name = physical_nodegroup_name(
            name_prefix,
            instance_types=instance_types,
            capacity_type=capacity_type,
            ami_type=ami_type,
            availability_zones=availability_zones,
        )
        self.physical_name = nodegroup_name
        """The node group's name, known at synth time."""
        fingerprint = _fingerprint(
            nodegroup_name,
            kubernetes_version,
            list(instance_types),
            capacity_type,
            ami_type,
            dict(labels),
            [(t.key, t.value, t.effect) for t in taints],
            release_version,
            dict(scale_from_zero_resources or {}),
            *(["node-auto-repair"] if node_auto_repair else []),
        )
        template = launch_template.launch_template
        self.desired_size_guard = DesiredSizeGuard(
            self,
            "DesiredSize",
            provider=provider,
            cluster_name=cluster.cluster_name,
            nodegroup_name=nodegroup_name,
            min_size=min_size,
            max_size=max_size,
            initial_size=initial_size,
            fingerprint=f"{fingerprint}:{template.latest_version_number}",
        )
        template_tags = (
            node_template_tags(
                labels=labels,
                taints={t.key: f"{t.value}:{t.effect}" for t in taints},
                resources=scale_from_zero_resources,
            )
            if scale_from_zero_resources is not None
            else {}
        )
        self.nodegroup = eks.Nodegroup(
            self,
            "Nodegroup",
            cluster=cluster,
            nodegroup_name=nodegroup_name,
            capacity_type=eks.CapacityType[capacity_type],
            min_size=min_size,
            max_size=max_size,
            desired_size=self.desired_size_guard.desired_size,
            subnets=ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                availability_zones=list(availability_zones),
            ),
            node_role=node_role,
            launch_template_spec=eks.LaunchTemplateSpec(
                id=template.launch_template_id or "",
                version=template.latest_version_number,
            ),
            labels=dict(labels),
            taints=[
                eks.TaintSpec(key=t.key, value=t.value, effect=_EFFECTS[t.effect]) for t in taints
            ],
            release_version=release_version,
            enable_node_auto_repair=node_auto_repair or None,
            # Node group tags stay on the node group; the ASG gets them from ScaleFromZeroTags.
            # Kept here too: the autoscaler reads them with eks:DescribeNodegroup (CA >= 1.28).
            tags=template_tags or None,
        )
        cfn_nodegroup = self.nodegroup.node.default_child
        assert isinstance(cfn_nodegroup, eks.CfnNodegroup)
        cfn_nodegroup.version = kubernetes_version
        # Plain strings on the resource, as AWS::EKS::Nodegroup takes them: the L2 would parse
        # each into an ec2.InstanceType, whose parser (aws-cdk-lib 2.275) rejects families with
        # a hyphen ("Malformed instance type identifier" for p6-b200.48xlarge). The L2 uses the
        # parsed types only to guess an AMI type, which is set explicitly below.
        cfn_nodegroup.instance_types = list(instance_types)
        # Set on the resource, not the L2: aws-cdk-lib 2.275's list of GPU instance families
        # lacks p5, p5e and p5en and so rejects AL2023_x86_64_NVIDIA for them.
        cfn_nodegroup.ami_type = ami_type
        self.nodegroup_name: str = cfn_nodegroup.attr_nodegroup_name
        """The node group's name as a token: using it orders a resource after the group."""
        self.scale_from_zero_tags = (
            ScaleFromZeroTags(
                self,
                "ScaleFromZeroTags",
                provider=provider,
                cluster_name=cluster.cluster_name,
                nodegroup_name=self.nodegroup_name,
                tags=template_tags,
            )
            if template_tags
            else None
        )
