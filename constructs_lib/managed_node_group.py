"""An EKS managed node group built from its spec, whose size survives redeploys."""

from __future__ import annotations

from aws_cdk import Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from aws_rules.eks import NODEGROUP_NAME
from cluster_config.node_groups import NodeGroupSpec
from cluster_config.nodegroup_names import fingerprint as _fingerprint
from constructs_lib.desired_size_guard import DesiredSizeGuard
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider
from constructs_lib.scale_from_zero_tags import ScaleFromZeroTags

_EFFECTS = {
    "NoSchedule": eks.TaintEffect.NO_SCHEDULE,
    "PreferNoSchedule": eks.TaintEffect.PREFER_NO_SCHEDULE,
    "NoExecute": eks.TaintEffect.NO_EXECUTE,
}


class ManagedNodeGroup(Construct):
    """An ``AWS::EKS::Nodegroup`` as ``spec`` describes it, plus what makes it safe to autoscale.

    - Named ``spec.physical_name``: a change of any create-only property (instance types,
      capacity type, AMI type, subnets, node role, disk size, remote access) gets a new name, so
      CloudFormation can create the new group before deleting the old one instead of failing on
      a taken name. The construct refuses a role or property the name does not digest.
    - ``DesiredSize`` comes from a ``DesiredSizeGuard``: a redeploy keeps the autoscaler's size;
      a new group starts at ``spec.min_size``.
    - A spec with node-template tags (a GPU group) gets them on its Auto Scaling group
      (``ScaleFromZeroTags``), so the autoscaler can scale it from zero.
    - Kubernetes version, AMI release and node auto repair follow the spec.
    - ``ForceUpdateEnabled`` is false: an update never evicts pods a PodDisruptionBudget protects.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: NodeGroupSpec,
        cluster: eks.ICluster,
        provider: NodegroupOpsProvider,
        node_role: iam.IRole,
        launch_template: NodeLaunchTemplate,
    ) -> None:
        super().__init__(scope, construct_id)
        _check(spec, launch_template, node_role)
        self.spec = spec
        self.physical_name = spec.physical_name
        """The node group's name, known at synth time."""
        fingerprint = _fingerprint(
            spec.physical_name,
            spec.kubernetes_version,
            list(spec.instance_types),
            spec.capacity_type,
            spec.ami_type,
            dict(spec.labels),
            [(t.key, t.value, t.effect) for t in spec.taints],
            spec.release_version,
            dict(spec.node_template_resources) if spec.node_template_resources else {},
            *(["node-auto-repair"] if spec.node_auto_repair else []),
        )
        template = launch_template.launch_template
        self.desired_size_guard = DesiredSizeGuard(
            self,
            "DesiredSize",
            provider=provider,
            cluster_name=cluster.cluster_name,
            nodegroup_name=spec.physical_name,
            min_size=spec.min_size,
            max_size=spec.max_size,
            initial_size=spec.min_size,
            fingerprint=f"{fingerprint}:{template.latest_version_number}",
        )
        template_tags = spec.node_template_tags
        self.nodegroup = eks.Nodegroup(
            self,
            "Nodegroup",
            cluster=cluster,
            nodegroup_name=spec.physical_name,
            capacity_type=eks.CapacityType[spec.capacity_type],
            min_size=spec.min_size,
            max_size=spec.max_size,
            desired_size=self.desired_size_guard.desired_size,
            subnets=ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                availability_zones=list(spec.availability_zones),
            ),
            node_role=node_role,
            launch_template_spec=eks.LaunchTemplateSpec(
                id=template.launch_template_id or "",
                version=template.latest_version_number,
            ),
            labels=dict(spec.labels),
            taints=[
                eks.TaintSpec(key=t.key, value=t.value, effect=_EFFECTS[t.effect])
                for t in spec.taints
            ],
            release_version=spec.release_version,
            enable_node_auto_repair=spec.node_auto_repair or None,
            # No forced roll (aws-cdk-lib defaults to true): a launch-template or AMI update
            # drains nodes only as PodDisruptionBudgets allow, so running GPU jobs finish.
            force_update=False,
            # Node group tags stay on the node group; the ASG gets them from ScaleFromZeroTags.
            # Kept here too: the autoscaler reads them with eks:DescribeNodegroup (CA >= 1.28).
            tags=template_tags or None,
        )
        cfn_nodegroup = self.nodegroup.node.default_child
        assert isinstance(cfn_nodegroup, eks.CfnNodegroup)
        cfn_nodegroup.version = spec.kubernetes_version
        # Plain strings on the resource, as AWS::EKS::Nodegroup takes them: the L2 would parse
        # each into an ec2.InstanceType, whose parser (aws-cdk-lib 2.275) rejects families with
        # a hyphen ("Malformed instance type identifier" for p6-b200.48xlarge). The L2 uses the
        # parsed types only to guess an AMI type, which is set explicitly below.
        cfn_nodegroup.instance_types = list(spec.instance_types)
        # Set on the resource, not the L2: aws-cdk-lib 2.275's list of GPU instance families
        # lacks p5, p5e and p5en and so rejects AL2023_x86_64_NVIDIA for them.
        cfn_nodegroup.ami_type = spec.ami_type
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


def _check(spec: NodeGroupSpec, launch_template: NodeLaunchTemplate, node_role: iam.IRole) -> None:
    """What EKS would refuse at deploy, refused at synth (the config rules already hold), and
    create-only values the group's name does not digest (``spec.create_only``)."""
    problems = []
    if node_role.node.id != spec.node_role_id:
        problems.append(
            f"node role {node_role.node.id!r}, but the name digests {spec.node_role_id!r}"
        )
    if spec.disk_size is not None:
        problems.append("disk_size with a launch template (EKS allows only one of them)")
    if not NODEGROUP_NAME.fullmatch(spec.physical_name):
        problems.append(f"physical_name {spec.physical_name!r} breaks EKS's node group name rule")
    if not 0 <= spec.min_size <= spec.max_size:
        problems.append(f"min_size {spec.min_size} / max_size {spec.max_size}")
    if not spec.instance_types or not spec.availability_zones:
        problems.append("no instance types or no availability zones")
    volume = launch_template.root_volume_gib
    if not Token.is_unresolved(volume) and volume != spec.root_volume_gib:
        problems.append(f"launch template root volume {volume} GiB, spec {spec.root_volume_gib}")
    if launch_template.throughput_mibps != spec.launch.throughput_mibps:
        problems.append(
            f"launch template throughput {launch_template.throughput_mibps} MiB/s, spec "
            f"{spec.launch.throughput_mibps}"
        )
    if launch_template.network_interfaces != spec.launch.network_interfaces:
        problems.append("launch template network interfaces differ from the spec's")
    if problems:
        raise ValueError(f"node group {spec.name}: " + "; ".join(problems))
