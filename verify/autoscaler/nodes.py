"""The nodes a pending pod is tested against, per node group.

The template node the autoscaler builds while the group has no node (the AWS provider's node,
sanitized, with its DaemonSet pods: ``verify/autoscaler_model.py``), a live node as the kubelet,
nodeadm and EKS register it (this project's model), and the template the autoscaler builds from
a live node once the group has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from aws_rules.nodeadm import (
    REPORTED_MEMORY_FRACTION,
    allocatable_cpu_millicores,
    allocatable_memory_mib,
    ephemeral_storage_allocatable_mib,
    ephemeral_storage_capacity_mib,
    max_pods,
    reported_memory_mib,
)
from cluster_config.catalog import ALL_INSTANCE_TYPES, InstanceShape
from cluster_config.zone_offerings import zone_id_prefix
from verify.autoscaler.groups import GroupFacts
from verify.autoscaler_model import (
    AutoscalerFlags,
    DaemonSet,
    InstanceType,
    TaintConfig,
    aws_template_node_info,
    build_node_from_template,
    sanitized_template_node_info_from_node_group,
    sanitized_template_node_info_from_node_info,
)
from verify.scheduler_model import Node, add_pod, daemon_pod_misfit, daemon_pod_spec

TEMPLATE_ONLY_LABELS = ("nodegroup-name", "cluster-name", "amiType", "k8sVersion", "diskSize")
"""Labels the autoscaler invents from ASG tags and DescribeNodegroup; no real node has them."""


def instance_type(name: str) -> InstanceType:
    """The autoscaler's view of an instance type, from the project's catalog."""
    shape: InstanceShape = ALL_INSTANCE_TYPES[name]
    memory_mib = getattr(shape, "memory_mib", None) or shape.memory_gib * 1024
    return InstanceType(name, shape.vcpus, int(memory_mib), shape.gpus)


def provider_template(group: GroupFacts) -> Node:
    """What the AWS provider returns for the group (``AwsNodeGroup.TemplateNodeInfo``): the node
    aws_manager.go ``buildNodeFromTemplate`` builds from the first instance type (EKS lists the
    types as the ASG's mixed-instances overrides; aws_wrapper.go ``getInstanceTypesForAsgs``
    takes ``instanceTypesOverrides[0]``), with the kube-proxy mirror pod."""
    asg = f"eks-{group.name}"
    node = build_node_from_template(
        asg, group.zones, instance_type(group.instance_types[0]), group.asg_tags, group.nodegroup
    )
    return aws_template_node_info(node, asg)


def template_node(group: GroupFacts, daemonsets: Sequence[DaemonSet]) -> Node:
    """The node a pending pod is tested against while the group has no node: the provider's
    template sanitized, with a pod of every DaemonSet that would run on it
    (processors/nodeinfosprovider/mixed_nodeinfos_processor.go ``Process`` ->
    simulator/node_info_utils.go ``SanitizedTemplateNodeInfoFromNodeGroup``). Once the group has
    had a ready node, the autoscaler uses that node's info instead, cached for
    ``--node-info-cache-expire-time`` (10 years by default): the template decides a group's first
    scale-up after the autoscaler starts."""
    return sanitized_template_node_info_from_node_group(
        provider_template(group), f"eks-{group.name}", daemonsets, TaintConfig()
    )


def model_zone_id(zone: str) -> str:
    """The ``topology.k8s.aws/zone-id`` of a model node in ``zone``: zone letter N as zone ID N
    with the region's own prefix (``eu-west-1b`` -> ``euw1-az2``). The real mapping differs per
    account; the label matters to balancing only by being there (it is ignored)."""
    region = zone[:-1]
    return f"{zone_id_prefix(region) or region}-az{ord(zone[-1]) - 96}"


def live_node(
    group: GroupFacts, daemonsets: Sequence[DaemonSet], instance_name: str | None = None
) -> Node:
    """A running node of the group as the kubelet, nodeadm and EKS register it (our model, not
    the autoscaler's): kubelet, cloud-provider-aws and EKS labels instead of the ones the
    autoscaler invents; memory as a real node reports it; ``pods`` = nodeadm's ``maxPods``;
    cpu, memory and ephemeral-storage allocatable per AL2023 nodeadm (aws_rules/nodeadm.py);
    the pods of the DaemonSets that run on it (EKS runs kube-proxy as a DaemonSet: no mirror
    pod). Of the group's first instance type unless another is named: EKS may launch any."""
    instance = instance_type(instance_name or group.instance_types[0])
    template = provider_template(group)
    name = f"ip-10-0-{len(group.name)}-1.ec2.internal"
    labels = _live_labels(template, instance, name)
    capacity, allocatable = _live_resources(template, instance, group.root_volume_gib)
    node = Node(name, labels, list(template.taints), capacity, allocatable)
    for daemonset in daemonsets:
        if daemon_pod_misfit(daemonset.template_spec, node) is None:
            add_pod(
                node,
                daemon_pod_spec(daemonset.template_spec),
                name=f"{daemonset.name}-live",
                daemonset=daemonset.uid,
            )
    return node


def _live_labels(template: Node, instance: InstanceType, hostname: str) -> dict[str, str]:
    """The template's labels less those only the autoscaler invents, with those the kubelet,
    cloud-provider-aws and EKS set on a node that registers as ``hostname``."""
    zone = template.labels["topology.kubernetes.io/zone"]
    labels = {k: v for k, v in template.labels.items() if k not in TEMPLATE_ONLY_LABELS}
    # Set by the EBS CSI node plugin once it registers (ignored when balancing): not yet there.
    labels.pop("topology.ebs.csi.aws.com/zone", None)
    labels.update(
        {
            "kubernetes.io/hostname": hostname,
            "beta.kubernetes.io/arch": instance.architecture,
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/instance-type": instance.name,
            "failure-domain.beta.kubernetes.io/region": zone[:-1],
            "failure-domain.beta.kubernetes.io/zone": zone,
            "topology.k8s.aws/zone-id": model_zone_id(zone),
            "k8s.io/cloud-provider-aws": "a1b2c3d4e5f6",
            "eks.amazonaws.com/nodegroup-image": "ami-0123456789abcdef0",
            "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0123456789abcdef0",
            "eks.amazonaws.com/sourceLaunchTemplateVersion": "1",
        }
    )
    return labels


def _live_resources(
    template: Node, instance: InstanceType, disk_gib: int
) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """Capacity and allocatable of a live node: pods, memory and ephemeral storage as AL2023
    nodeadm sets them (cpu allocatable too); the template's other resources as they are."""
    mib = Fraction(2**20)
    memory_mib = reported_memory_mib(instance.memory_mib, REPORTED_MEMORY_FRACTION)
    pods = Fraction(max_pods(instance.name))
    capacity = dict(template.capacity)
    capacity.update(
        {
            "pods": pods,
            "memory": memory_mib * mib,
            "ephemeral-storage": ephemeral_storage_capacity_mib(disk_gib) * mib,
        }
    )
    allocatable = dict(capacity)
    allocatable.update(
        {
            "cpu": Fraction(allocatable_cpu_millicores(instance.vcpu), 1000),
            "memory": allocatable_memory_mib(memory_mib, instance.name) * mib,
            "ephemeral-storage": ephemeral_storage_allocatable_mib(disk_gib) * mib,
        }
    )
    return capacity, allocatable


def live_template(
    group: GroupFacts, daemonsets: Sequence[DaemonSet], flags: AutoscalerFlags
) -> Node:
    """The group's node info once it has a ready node: that node sanitized, its DaemonSet pods
    kept (mixed_nodeinfos_processor.go ``Process`` -> ``SanitizedTemplateNodeInfoFromNodeInfo``
    with ``--force-ds``, default false). Without ``--balancing-label`` the AWS provider's
    builder/autoscaler.go installs ``NewAsgTagResourceNodeInfoProvider``, which adds to it the
    resources only the provider's template has
    (asg_tag_resource_node_info_provider.go ``Process``); with any ``--balancing-label`` that
    provider is not installed and the live node is read as it is."""
    node = sanitized_template_node_info_from_node_info(
        live_node(group, daemonsets),
        f"eks-{group.name}",
        daemonsets,
        flags.force_daemonsets,
        TaintConfig(),
    )
    if not flags.balancing_labels and flags.cloud_provider == "aws":
        template = provider_template(group)
        for name, value in template.capacity.items():
            node.capacity.setdefault(name, value)
        for name, value in template.allocatable.items():
            node.allocatable.setdefault(name, value)
    return node
