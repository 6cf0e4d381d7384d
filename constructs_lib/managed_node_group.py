"""An EKS managed node group built from its props, whose size survives redeploys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from aws_cdk import Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from aws_rules.ec2_launch_template import NetworkInterface
from aws_rules.eks import NODEGROUP_NAME
from constructs_lib.desired_size_guard import DesiredSizeGuard
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider
from constructs_lib.scale_from_zero_tags import ScaleFromZeroTags

CapacityType = Literal["SPOT", "ON_DEMAND"]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

_EFFECTS: dict[TaintEffect, eks.TaintEffect] = {
    "NoSchedule": eks.TaintEffect.NO_SCHEDULE,
    "PreferNoSchedule": eks.TaintEffect.PREFER_NO_SCHEDULE,
    "NoExecute": eks.TaintEffect.NO_EXECUTE,
}


@dataclass(frozen=True)
class Taint:
    """A Kubernetes taint on every node of the group (``effect`` as Kubernetes spells it)."""

    key: str
    value: str
    effect: TaintEffect


@dataclass(frozen=True, kw_only=True)
class ManagedNodeGroupProps:
    """Everything ``ManagedNodeGroup`` reads besides the constructs it is given: no defaults, so
    a caller names every value (and mypy finds the one it forgot)."""

    physical_name: str
    """The group's name in EKS (``NodegroupName``). It must change whenever a create-only
    property changes (instance types, capacity type, AMI type, zones, node role, disk size, the
    launch template's ID), so that CloudFormation can create the replacement beside the old
    group instead of failing on a taken name."""
    kubernetes_version: str
    instance_types: tuple[str, ...]
    """Written to the resource as given: aws-cdk-lib's ``ec2.InstanceType`` parser rejects
    hyphenated families such as ``p6-b200``."""
    capacity_type: CapacityType
    ami_type: str
    """An ``AmiTypes`` value of ``AWS::EKS::Nodegroup``, written as given."""
    availability_zones: tuple[str, ...]
    """The group runs in the VPC's private subnets (with egress) of these zones."""
    min_size: int
    """Also the size of a new group; a redeploy keeps the autoscaler's size."""
    max_size: int
    labels: Mapping[str, str]
    taints: tuple[Taint, ...]
    release_version: str | None
    """The AMI release; None: EKS's latest for ``kubernetes_version`` when the group is made."""
    node_auto_repair: bool
    """False: ``NodeRepairConfig`` is not written (EKS's default, off)."""
    node_template_tags: Mapping[str, str]
    """The cluster autoscaler's node-template tags, on the group and its Auto Scaling group
    (``ScaleFromZeroTags``); empty: neither gets any, and the group is not scaled from zero."""
    node_template_resources: Mapping[str, str]
    """The resources those tags promise (a change re-runs the size guard)."""
    node_role_id: str
    """Construct ID of the node role ``physical_name`` digests: ``node_role`` must have it."""
    disk_size: int | None
    """Must be None: the launch template gives the root volume and EKS refuses ``DiskSize``
    beside one. A field so that a caller that sets it is refused, not silently ignored."""
    root_volume_gib: int
    throughput_mibps: int | None
    network_interfaces: tuple[NetworkInterface, ...]
    """With ``root_volume_gib`` and ``throughput_mibps``: what ``launch_template`` must give the
    nodes, as the node-template resources (ephemeral storage, EFA interfaces) promise it;
    checked against the template, not written."""


class ManagedNodeGroup(Construct):
    """An ``AWS::EKS::Nodegroup`` as ``props`` describe it, plus what makes it safe to autoscale.

    - Named ``props.physical_name``; the construct refuses a ``node_role`` whose construct ID
      the name does not digest (``props.node_role_id``), and a ``launch_template`` that gives
      other nodes than ``props`` say.
    - ``DesiredSize`` comes from a ``DesiredSizeGuard``: a redeploy keeps the autoscaler's size;
      a new group starts at ``props.min_size``.
    - A group with node-template tags (a GPU group) gets them on its Auto Scaling group
      (``ScaleFromZeroTags``), so the autoscaler can scale it from zero.
    - Kubernetes version, AMI release and node auto repair follow ``props``.
    - ``ForceUpdateEnabled`` is false: an update never evicts pods a PodDisruptionBudget protects.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: ManagedNodeGroupProps,
        cluster: eks.ICluster,
        provider: NodegroupOpsProvider,
        node_role: iam.IRole,
        launch_template: NodeLaunchTemplate,
    ) -> None:
        super().__init__(scope, construct_id)
        _check(construct_id, props, launch_template, node_role)
        self.props = props
        self.physical_name = props.physical_name
        """The node group's name, known at synth time."""
        fingerprint = _fingerprint(
            props.physical_name,
            props.kubernetes_version,
            list(props.instance_types),
            props.capacity_type,
            props.ami_type,
            dict(props.labels),
            [(t.key, t.value, t.effect) for t in props.taints],
            props.release_version,
            dict(props.node_template_resources),
            *(["node-auto-repair"] if props.node_auto_repair else []),
        )
        template = launch_template.launch_template
        self.desired_size_guard = DesiredSizeGuard(
            self,
            "DesiredSize",
            provider=provider,
            cluster_name=cluster.cluster_name,
            nodegroup_name=props.physical_name,
            min_size=props.min_size,
            max_size=props.max_size,
            initial_size=props.min_size,
            fingerprint=f"{fingerprint}:{template.latest_version_number}",
        )
        template_tags = dict(props.node_template_tags)
        self.nodegroup = eks.Nodegroup(
            self,
            "Nodegroup",
            cluster=cluster,
            nodegroup_name=props.physical_name,
            capacity_type=eks.CapacityType[props.capacity_type],
            min_size=props.min_size,
            max_size=props.max_size,
            desired_size=self.desired_size_guard.desired_size,
            subnets=ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                availability_zones=list(props.availability_zones),
            ),
            node_role=node_role,
            launch_template_spec=eks.LaunchTemplateSpec(
                id=template.launch_template_id or "",
                version=template.latest_version_number,
            ),
            labels=dict(props.labels),
            taints=[
                eks.TaintSpec(key=t.key, value=t.value, effect=_EFFECTS[t.effect])
                for t in props.taints
            ],
            release_version=props.release_version,
            enable_node_auto_repair=props.node_auto_repair or None,
            # No forced roll (aws-cdk-lib defaults to true): a launch-template or AMI update
            # drains nodes only as PodDisruptionBudgets allow, so running GPU jobs finish.
            force_update=False,
            # Node group tags stay on the node group; the ASG gets them from ScaleFromZeroTags.
            # Kept here too: the autoscaler reads them with eks:DescribeNodegroup (CA >= 1.28).
            tags=template_tags or None,
        )
        cfn_nodegroup = self.nodegroup.node.default_child
        assert isinstance(cfn_nodegroup, eks.CfnNodegroup)
        cfn_nodegroup.version = props.kubernetes_version
        # Plain strings on the resource, as AWS::EKS::Nodegroup takes them: the L2 would parse
        # each into an ec2.InstanceType, whose parser (aws-cdk-lib 2.275) rejects families with
        # a hyphen ("Malformed instance type identifier" for p6-b200.48xlarge). The L2 uses the
        # parsed types only to guess an AMI type, which is set explicitly below.
        cfn_nodegroup.instance_types = list(props.instance_types)
        # Set on the resource, not the L2: aws-cdk-lib 2.275's list of GPU instance families
        # lacks p5, p5e and p5en and so rejects AL2023_x86_64_NVIDIA for them.
        cfn_nodegroup.ami_type = props.ami_type
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


def _check(
    construct_id: str,
    props: ManagedNodeGroupProps,
    launch_template: NodeLaunchTemplate,
    node_role: iam.IRole,
) -> None:
    """What EKS would refuse at deploy, refused at synth, and a role or launch template other
    than the one ``props`` describe; every problem at once."""
    problems = []
    if node_role.node.id != props.node_role_id:
        problems.append(
            f"node role {node_role.node.id!r}, but the name digests {props.node_role_id!r}"
        )
    if props.disk_size is not None:
        problems.append("disk_size with a launch template (EKS allows only one of them)")
    if not NODEGROUP_NAME.fullmatch(props.physical_name):
        problems.append(f"physical_name {props.physical_name!r} breaks EKS's node group name rule")
    if props.capacity_type not in get_args(CapacityType):
        problems.append(
            f"capacity_type {props.capacity_type!r}; allowed: {', '.join(get_args(CapacityType))}"
        )
    bad_effects = sorted({t.effect for t in props.taints} - set(_EFFECTS))
    if bad_effects:
        problems.append(f"taint effects {bad_effects}; allowed: {', '.join(_EFFECTS)}")
    if not 0 <= props.min_size <= props.max_size:
        problems.append(f"min_size {props.min_size} / max_size {props.max_size}")
    if not props.instance_types or not props.availability_zones:
        problems.append("no instance types or no availability zones")
    volume = launch_template.root_volume_gib
    if not Token.is_unresolved(volume) and volume != props.root_volume_gib:
        problems.append(f"launch template root volume {volume} GiB, props {props.root_volume_gib}")
    if launch_template.throughput_mibps != props.throughput_mibps:
        problems.append(
            f"launch template throughput {launch_template.throughput_mibps} MiB/s, props "
            f"{props.throughput_mibps}"
        )
    if launch_template.network_interfaces != props.network_interfaces:
        problems.append("launch template network interfaces differ from the props'")
    if problems:
        raise ValueError(f"node group {construct_id}: " + "; ".join(problems))


def _fingerprint(*parts: object) -> str:
    """A 16-hex-character digest of JSON-serialisable ``parts``: the size guard's
    ``Fingerprint``, which re-runs the guard when it changes. The construct's own: the group's
    name digest is the caller's (a changed name replaces a group; a changed fingerprint only
    re-reads its size once)."""
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
