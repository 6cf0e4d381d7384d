"""How the cluster autoscaler's AWS provider sees a node group, and when it balances groups.

Every rule follows kubernetes/autoscaler at tag ``cluster-autoscaler-1.36.1`` (the release
``cluster_config/versions.py`` deploys for Kubernetes 1.36). Compared with
``cluster-autoscaler-1.33.6`` (the oldest release deployed), the rules modelled here are the same:
``aws_nodegroups.go`` and ``label_nodegroups.go`` are identical, ``aws_manager.go`` and
``compare_nodegroups.go`` differ only in the AWS SDK and log lines, and 1.33's ``main.go`` chose
the comparator as 1.36's ``builder/autoscaler.go`` does. Paths are under ``cluster-autoscaler/``.
The model is tested with the upstream unit tests' own vectors (``tests/test_autoscaler_model.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cluster_config.labels import NODE_TEMPLATE_PREFIX
from verify.scheduler_model import (
    Node,
    Taint,
    add_pod,
    daemon_pod_misfit,
    daemon_pod_spec,
    milli_value,
    parse_quantity,
)

CA_VERSION_READ = "cluster-autoscaler-1.36.1"

NODE_TEMPLATE_LABEL = f"{NODE_TEMPLATE_PREFIX}/label/"
NODE_TEMPLATE_TAINT = f"{NODE_TEMPLATE_PREFIX}/taint/"
NODE_TEMPLATE_RESOURCES = f"{NODE_TEMPLATE_PREFIX}/resources/"
NVIDIA_GPU = "nvidia.com/gpu"
TEMPLATE_PODS = 110
"""``Capacity[pods] = 110`` ("TODO: get a real value"): aws_manager.go ``buildNodeFromTemplate``."""

# --- template nodes ------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceType:
    """One row of ``cloudprovider/aws/ec2_instance_types.go`` (or DescribeInstanceTypes)."""

    name: str
    vcpu: int
    memory_mib: int
    gpu: int
    architecture: str = "amd64"


@dataclass(frozen=True)
class NodegroupDescription:
    """What ``eks:DescribeNodegroup`` returns that the autoscaler reads."""

    name: str
    ami_type: str = ""
    capacity_type: str = ""
    version: str = ""
    disk_size: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    taints: Sequence[tuple[str, str | None, str]] = ()
    """``(key, value, effect)`` in the EKS API's spelling (``NO_SCHEDULE``)."""


def extract_labels_from_asg(tags: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``node-template/label/<k>`` tags, else any tag whose key contains ``eks:`` (the part
    after it): aws_manager.go ``extractLabelsFromAsg``."""
    result: dict[str, str] = {}
    for key, value in tags:
        splits = key.split(NODE_TEMPLATE_LABEL)
        if len(splits) <= 1:
            splits = key.split("eks:")
        if len(splits) > 1 and splits[1] != "":
            result[splits[1]] = value
    return result


_TAINT_VALUE = re.compile(r"(.*):(?:NoSchedule|NoExecute|PreferNoSchedule)")


def extract_taints_from_asg(tags: Iterable[tuple[str, str]]) -> list[Taint]:
    """``node-template/taint/<k>: <value>:<Effect>`` (unanchored regexp on the value):
    aws_manager.go ``extractTaintsFromAsg``."""
    taints = []
    for key, value in tags:
        if _TAINT_VALUE.search(value):
            splits = key.split(NODE_TEMPLATE_TAINT)
            if len(splits) > 1:
                values = value.split(":", 1)
                if len(values) > 1:
                    taints.append(Taint(splits[1], values[0], values[1]))
    return taints


def extract_allocatable_resources_from_asg(tags: Iterable[tuple[str, str]]) -> dict[str, Fraction]:
    """``node-template/resources/<name>`` tags whose value parses as a quantity (others are
    skipped silently): aws_manager.go ``extractAllocatableResourcesFromAsg``."""
    result: dict[str, Fraction] = {}
    for key, value in tags:
        splits = key.split(NODE_TEMPLATE_RESOURCES)
        if len(splits) > 1 and splits[1] != "":
            try:
                result[splits[1]] = parse_quantity(value)
            except ValueError:
                continue
    return result


def build_generic_labels(
    instance: InstanceType, region: str, zone: str, node_name: str
) -> dict[str, str]:
    """Arch, os, instance type, region, zone (twice) and hostname: aws_manager.go
    ``buildGenericLabels``."""
    return {
        "kubernetes.io/arch": instance.architecture,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": instance.name,
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": zone,
        "topology.ebs.csi.aws.com/zone": zone,
        "kubernetes.io/hostname": node_name,
    }


_EKS_TAINT_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}


def managed_nodegroup_info(
    nodegroup: NodegroupDescription,
) -> tuple[list[Taint], dict[str, str], dict[str, str]]:
    """Taints, labels and tags from DescribeNodegroup: labels ``diskSize`` (only when set),
    ``amiType``, ``eks.amazonaws.com/capacityType``, ``k8sVersion``,
    ``eks.amazonaws.com/nodegroup``, then the group's labels; taints without a value are
    dropped: aws_wrapper.go ``getManagedNodegroupInfo``, ``taintEksTranslator``."""
    labels: dict[str, str] = {}
    if nodegroup.disk_size is not None:
        labels["diskSize"] = str(nodegroup.disk_size)
    if nodegroup.ami_type:
        labels["amiType"] = nodegroup.ami_type
    if nodegroup.capacity_type:
        labels["eks.amazonaws.com/capacityType"] = nodegroup.capacity_type
    if nodegroup.version:
        labels["k8sVersion"] = nodegroup.version
    if nodegroup.name:
        labels["eks.amazonaws.com/nodegroup"] = nodegroup.name
    labels.update(nodegroup.labels)
    taints = [
        Taint(key, value, _EKS_TAINT_EFFECTS[effect])
        for key, value, effect in nodegroup.taints
        if value is not None
    ]
    return taints, labels, dict(nodegroup.tags)


def build_node_from_template(
    asg_name: str,
    availability_zones: Sequence[str],
    instance: InstanceType,
    asg_tags: Sequence[tuple[str, str]],
    nodegroup: NodegroupDescription | None = None,
) -> Node:
    """The template node of a group with no usable node: aws_manager.go
    ``getAsgTemplate`` (first zone; region = zone minus its letter) and
    ``buildNodeFromTemplate``: capacity pods 110, cpu, ``nvidia.com/gpu`` and memory of the
    (first) instance type, then ASG resource tags; allocatable IS the capacity map (assigned,
    not copied, so later overrides reach both); generic labels, then ASG labels; ASG taints; for
    a managed group (labels ``nodegroup-name`` and ``cluster-name`` present) DescribeNodegroup
    labels overwrite (``joinNodeLabelsChoosingUserValuesOverAPIValues``: despite its name the API
    value wins), its taints are appended and its ``resources`` tags override capacity."""
    zone = availability_zones[0]
    node_name = f"{asg_name}-asg-template"
    capacity: dict[str, Fraction] = {
        "pods": Fraction(TEMPLATE_PODS),
        "cpu": Fraction(instance.vcpu),
        NVIDIA_GPU: Fraction(instance.gpu),
        "memory": Fraction(instance.memory_mib * 1024 * 1024),
    }
    capacity.update(extract_allocatable_resources_from_asg(asg_tags))
    labels = build_generic_labels(instance, zone[:-1], zone, node_name)
    labels.update(extract_labels_from_asg(asg_tags))
    taints = extract_taints_from_asg(asg_tags)
    if labels.get("nodegroup-name") and labels.get("cluster-name") and nodegroup is not None:
        mng_taints, mng_labels, mng_tags = managed_nodegroup_info(nodegroup)
        labels.update(mng_labels)
        taints.extend(mng_taints)
        capacity.update(extract_allocatable_resources_from_asg(sorted(mng_tags.items())))
    return Node(node_name, labels, taints, capacity, capacity)


# --- the pods on a template node ----------------------------------------------------------

KUBE_PROXY_CPU_REQUEST = "100m"
"""cloudprovider/utils.go ``KubeProxyCpuRequestMillis = 100`` ("TODO: make cpu a flag")."""


def kube_proxy_pod_spec() -> dict[str, Any]:
    """cloudprovider/utils.go ``BuildKubeProxy``: a mirror pod (``kubernetes.io/config.mirror``
    annotation) in kube-system whose one container requests 100m CPU and nothing else."""
    return {
        "containers": [
            {"name": "kube-proxy", "resources": {"requests": {"cpu": KUBE_PROXY_CPU_REQUEST}}}
        ]
    }


def aws_template_node_info(node: Node, asg_name: str) -> Node:
    """aws_cloud_provider.go ``AwsNodeGroup.TemplateNodeInfo``: the node
    ``buildNodeFromTemplate`` made, with the ``BuildKubeProxy`` mirror pod on it."""
    add_pod(node, kube_proxy_pod_spec(), name=f"kube-proxy-{asg_name}", mirror=True)
    return node


@dataclass(frozen=True)
class DaemonSet:
    """An ``apps/v1`` DaemonSet: what the template rules read of it."""

    name: str
    namespace: str
    template_spec: Mapping[str, Any]

    @property
    def uid(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_manifest(cls, obj: Mapping[str, Any]) -> DaemonSet:
        metadata = obj["metadata"]
        return cls(
            metadata["name"],
            metadata.get("namespace", "default"),
            obj["spec"]["template"]["spec"],
        )


AUTOSCALER_TAINTS = frozenset(
    {"ToBeDeletedByClusterAutoscaler", "DeletionCandidateOfClusterAutoscaler"}
)
"""utils/taints/taints.go ``ToBeDeletedTaint``, ``DeletionCandidateTaintKey``."""

NODE_CONDITION_TAINTS = frozenset(
    {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.kubernetes.io/unschedulable",
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/network-unavailable",
        "node.kubernetes.io/pid-pressure",
        "node.cloudprovider.kubernetes.io/uninitialized",
        "node.cloudprovider.kubernetes.io/shutdown",
        "cloud.google.com/impending-node-termination",
        "NodeWithImpairedVolumes",
    }
)
"""utils/taints/taints.go ``NodeConditionTaints``."""


@dataclass(frozen=True)
class TaintConfig:
    """utils/taints/taints.go ``NewTaintConfig``: ``--startup-taint`` and ``--ignore-taint``
    keys, the built-in and ``--startup-taint-prefix`` prefixes, ``--status-taint`` keys and the
    status prefix. ``TaintConfig()`` is what ``NewTaintConfig`` makes with no flags; upstream
    tests that pass the zero value ``taints.TaintConfig{}`` use ``TaintConfig.zero()``."""

    startup_taints: frozenset[str] = frozenset()
    startup_prefixes: tuple[str, ...] = (
        "ignore-taint.cluster-autoscaler.kubernetes.io/",
        "startup-taint.cluster-autoscaler.kubernetes.io/",
    )
    status_taints: frozenset[str] = frozenset()
    status_prefixes: tuple[str, ...] = ("status-taint.cluster-autoscaler.kubernetes.io/",)

    @classmethod
    def zero(cls) -> TaintConfig:
        return cls(startup_prefixes=(), status_prefixes=())

    def ignored(self, key: str) -> bool:
        """``IsStartupTaint`` or ``IsStatusTaint``."""
        return (
            key in self.startup_taints
            or key in self.status_taints
            or key.startswith((*self.startup_prefixes, *self.status_prefixes))
        )


def sanitize_taints(taints: Iterable[Taint], config: TaintConfig) -> list[Taint]:
    """Drop the autoscaler's own taints, node-condition taints and startup/status taints:
    utils/taints/taints.go ``SanitizeTaints``."""
    return [
        t
        for t in taints
        if t.key not in AUTOSCALER_TAINTS
        and t.key not in NODE_CONDITION_TAINTS
        and not config.ignored(t.key)
    ]


SYSTEM_NODE_CRITICAL = "system-node-critical"


def is_preempting_system_node_critical(pod_spec: Mapping[str, Any]) -> bool:
    """simulator/node_info_utils.go ``isPreemptingSystemNodeCritical``."""
    if pod_spec.get("priorityClassName") != SYSTEM_NODE_CRITICAL:
        return False
    policy: str = pod_spec.get("preemptionPolicy", "PreemptLowerPriority")
    return policy == "PreemptLowerPriority"


def pods_expected_on_fresh_node(
    node: Node, daemonsets: Sequence[DaemonSet], force_daemonsets: bool
) -> list[tuple[str, Mapping[str, Any], bool, str | None]]:
    """The pods a new node of the group starts with, as ``(name, spec, mirror, daemonset)``:
    simulator/node_info_utils.go ``podsExpectedOnFreshNode``. Of the example node's pods, the
    mirror and DaemonSet pods not being deleted; then a pod of every other DaemonSet that
    should run on the node (utils/daemonset ``GetDaemonSetPodsForNode``, the DaemonSet
    controller's ``NodeShouldRunDaemonPod``), all of them with ``force_daemonsets``, else only
    the preempting system-node-critical ones."""
    result: list[tuple[str, Mapping[str, Any], bool, str | None]] = []
    running: set[str] = set()
    for pod in node.pods:
        if pod.deleting:
            continue
        if pod.mirror or pod.daemonset is not None:
            result.append((pod.name, pod.spec, pod.mirror, pod.daemonset))
        if pod.daemonset is not None:
            running.add(pod.daemonset)
    for daemonset in daemonsets:
        if daemonset.uid in running or daemon_pod_misfit(daemonset.template_spec, node):
            continue
        spec = daemon_pod_spec(daemonset.template_spec)
        if force_daemonsets or is_preempting_system_node_critical(spec):
            result.append((f"{daemonset.name}-pod", spec, False, daemonset.uid))
    return result


TEMPLATE_NODE_LABEL = "cluster-autoscaler.kubernetes.io/template-node"


def sanitized_template_node_info_from_node_info(
    example: Node,
    node_group_id: str,
    daemonsets: Sequence[DaemonSet],
    force_daemonsets: bool,
    taint_config: TaintConfig,
) -> Node:
    """The template of a group from an example node (a live one, or the provider's template):
    simulator/node_info_utils.go ``SanitizedTemplateNodeInfoFromNodeInfo`` via
    ``createSanitizedNode`` (new name ``template-node-for-<group>-<suffix>``, also its hostname
    label; taints sanitized) and ``podsExpectedOnFreshNode`` (run on the sanitized node); then
    the ``template-node=true`` label."""
    name = f"template-node-for-{node_group_id}-0"

    def sanitized_node() -> Node:
        return Node(
            name,
            {**example.labels, "kubernetes.io/hostname": name},
            sanitize_taints(example.taints, taint_config),
            dict(example.capacity),
            dict(example.allocatable),
        )

    example_copy = sanitized_node()
    for pod in example.pods:
        add_pod(
            example_copy,
            pod.spec,
            name=pod.name,
            mirror=pod.mirror,
            daemonset=pod.daemonset,
            deleting=pod.deleting,
        )
    template = sanitized_node()
    for pod_name, spec, mirror, owner in pods_expected_on_fresh_node(
        example_copy, daemonsets, force_daemonsets
    ):
        add_pod(template, spec, name=pod_name, mirror=mirror, daemonset=owner)
    template.labels[TEMPLATE_NODE_LABEL] = "true"
    return template


DEPRECATED_LABELS = (
    ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type"),
    ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"),
    ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"),
)
"""utils/labels/labels.go ``UpdateDeprecatedLabels``: stable label -> deprecated copy."""


def sanitized_template_node_info_from_node_group(
    template: Node,
    node_group_id: str,
    daemonsets: Sequence[DaemonSet],
    taint_config: TaintConfig,
) -> Node:
    """The template of a group with no usable node, from the provider's ``TemplateNodeInfo``:
    simulator/node_info_utils.go ``SanitizedTemplateNodeInfoFromNodeGroup`` (every DaemonSet
    that would run on it, forced; then the deprecated labels)."""
    node = sanitized_template_node_info_from_node_info(
        template, node_group_id, daemonsets, True, taint_config
    )
    for stable, deprecated in DEPRECATED_LABELS:
        if stable in node.labels:
            node.labels[deprecated] = node.labels[stable]
    return node


# --- similarity ----------------------------------------------------------------------------

BASIC_IGNORED_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "beta.kubernetes.io/fluentd-ds-ready",
        "kops.k8s.io/instancegroup",
    }
)
"""processors/nodegroupset/compare_nodegroups.go ``BasicIgnoredLabels``."""

AWS_IGNORED_LABELS = frozenset(
    {
        "alpha.eksctl.io/instance-id",
        "alpha.eksctl.io/nodegroup-name",
        "eks.amazonaws.com/nodegroup",
        "k8s.amazonaws.com/eniConfig",
        "lifecycle",
        "topology.ebs.csi.aws.com/zone",
        "topology.k8s.aws/zone-id",
    }
)
"""processors/nodegroupset/aws_nodegroups.go ``CreateAwsNodeInfoComparator``."""


@dataclass(frozen=True)
class DifferenceRatios:
    """config/autoscaling_options.go ``DefaultMax*DifferenceRatio`` (flags.go names)."""

    memory: float = 0.015
    allocatable: float = 0.05
    free: float = 0.05


@dataclass(frozen=True)
class AutoscalerFlags:
    """The command-line flags that decide balancing (config/flags/flags.go)."""

    cloud_provider: str = ""
    balance_similar_node_groups: bool = False
    balancing_labels: tuple[str, ...] = ()
    balancing_ignore_labels: tuple[str, ...] = ()
    ratios: DifferenceRatios = DifferenceRatios()
    force_daemonsets: bool = False
    """``--force-ds``: also live nodes' templates get every pending DaemonSet's pod."""


def parse_flags(args: Sequence[str]) -> AutoscalerFlags:
    """Flags from a container command (``--name=value`` or bare boolean ``--name``)."""
    values: dict[str, list[str]] = {}
    for arg in args:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            values.setdefault(name, []).append(value if "=" in arg else "true")
    defaults = DifferenceRatios()

    def boolean(name: str) -> bool:
        return values.get(name, ["false"])[-1] in ("true", "1", "t", "T", "TRUE", "True")

    return AutoscalerFlags(
        cloud_provider=values.get("cloud-provider", [""])[-1],
        balance_similar_node_groups=boolean("balance-similar-node-groups"),
        force_daemonsets=boolean("force-ds"),
        balancing_labels=tuple(values.get("balancing-label", [])),
        balancing_ignore_labels=tuple(values.get("balancing-ignore-label", [])),
        ratios=DifferenceRatios(
            memory=float(values.get("memory-difference-ratio", [str(defaults.memory)])[-1]),
            allocatable=float(
                values.get("max-allocatable-difference-ratio", [str(defaults.allocatable)])[-1]
            ),
            free=float(values.get("max-free-difference-ratio", [str(defaults.free)])[-1]),
        ),
    )


def _within_tolerance(quantities: list[Fraction], ratio: float) -> bool:
    """compare_nodegroups.go ``resourceListWithinTolerance`` (on MilliValue, as floats)."""
    if len(quantities) != 2:
        return False
    a, b = (float(milli_value(q)) for q in quantities)
    larger, smaller = max(a, b), min(a, b)
    return larger - smaller <= larger * ratio


def _free(node: Node) -> dict[str, Fraction]:
    """Allocatable minus requested for cpu, memory, pods, ephemeral-storage and every scalar
    resource requested: compare_nodegroups.go via utils/scheduler ``ResourceToResourceList``
    (pods are not counted in requests, so free pods = allocatable pods)."""
    names = {"cpu", "memory", "pods", "ephemeral-storage", *node.requested}
    return {
        name: node.allocatable.get(name, Fraction(0))
        - (Fraction(0) if name == "pods" else node.requested.get(name, Fraction(0)))
        for name in names
    }


def dissimilarity(
    n1: Node, n2: Node, ignored_labels: frozenset[str], ratios: DifferenceRatios
) -> str | None:
    """Why two nodes are not similar, or None: compare_nodegroups.go
    ``IsCloudProviderNodeInfoSimilar`` (every capacity present on both; memory within
    ``ratios.memory``, others exact; allocatable and free within their ratios; all labels equal
    except the ignored ones, ``compareLabels``)."""
    for name in sorted(set(n1.capacity) | set(n2.capacity)):
        pair = [n.capacity[name] for n in (n1, n2) if name in n.capacity]
        if len(pair) != 2:
            return f"missing capacity {name!r}"
        if name == "memory":
            if not _within_tolerance(pair, ratios.memory):
                return "memory not within tolerance"
        elif pair[0] != pair[1]:
            return f"capacity resource {name!r} does not match"
    for what, maps, ratio in (
        ("allocatable", (n1.allocatable, n2.allocatable), ratios.allocatable),
        ("free", (_free(n1), _free(n2)), ratios.free),
    ):
        for name in sorted(set(maps[0]) | set(maps[1])):
            if not _within_tolerance([m[name] for m in maps if name in m], ratio):
                return f"{what} resources not within tolerance ({name})"
    keys = (set(n1.labels) | set(n2.labels)) - ignored_labels
    differing = sorted(
        k for k in keys if k not in n1.labels or k not in n2.labels or n1.labels[k] != n2.labels[k]
    )
    if differing:
        return f"labels do not match: {', '.join(differing)}"
    return None


def labels_dissimilarity(n1: Node, n2: Node, labels: Sequence[str]) -> str | None:
    """Why two nodes differ in the balancing labels (a label missing on either side counts as
    different; no other property is compared), or None: processors/nodegroupset/
    label_nodegroups.go ``CreateLabelNodeInfoComparator``/``areLabelsSame``."""
    for label in labels:
        if label not in n1.labels or label not in n2.labels:
            return f"label {label} not present on both"
        if n1.labels[label] != n2.labels[label]:
            return f"label {label} did not match"
    return None


Comparator = Callable[[Node, Node], "str | None"]


def node_info_comparator(flags: AutoscalerFlags) -> Comparator:
    """builder/autoscaler.go: with any ``--balancing-label`` the label comparator, and then
    ``--balancing-ignore-label`` is not used at all; else on AWS ``CreateAwsNodeInfoComparator``
    (basic + AWS ignore lists + the ignore-label flags; other providers: basic + flags)."""
    if flags.balancing_labels:
        labels = flags.balancing_labels
        return lambda a, b: labels_dissimilarity(a, b, labels)
    ignored = BASIC_IGNORED_LABELS | frozenset(flags.balancing_ignore_labels)
    if flags.cloud_provider == "aws":
        ignored |= AWS_IGNORED_LABELS
    return lambda a, b: dissimilarity(a, b, ignored, flags.ratios)


def similar_groups(
    group: str,
    nodes: Mapping[str, Node],
    flags: AutoscalerFlags,
    schedules_pod: Callable[[Node], bool],
) -> dict[str, str | None]:
    """For each other group: None if the autoscaler would balance a scale-up of ``group`` with
    it, else why not. core/scaleup/orchestrator/orchestrator.go ``ComputeSimilarNodeGroups``
    (needs ``--balance-similar-node-groups`` and the pod schedulable on both) and
    processors/nodegroupset/balancing_processor.go ``FindSimilarNodeGroups``."""
    comparator = node_info_comparator(flags)
    result: dict[str, str | None] = {}
    for other, node in nodes.items():
        if other == group:
            continue
        if not flags.balance_similar_node_groups:
            result[other] = "--balance-similar-node-groups is off"
        elif not schedules_pod(node):
            result[other] = "the pod does not fit its template"
        else:
            result[other] = comparator(nodes[group], node)
    return result
