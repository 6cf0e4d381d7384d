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

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

CA_VERSION_READ = "cluster-autoscaler-1.36.1"

NODE_TEMPLATE_LABEL = "k8s.io/cluster-autoscaler/node-template/label/"
NODE_TEMPLATE_TAINT = "k8s.io/cluster-autoscaler/node-template/taint/"
NODE_TEMPLATE_RESOURCES = "k8s.io/cluster-autoscaler/node-template/resources/"
NVIDIA_GPU = "nvidia.com/gpu"
TEMPLATE_PODS = 110
"""``Capacity[pods] = 110`` ("TODO: get a real value"): aws_manager.go ``buildNodeFromTemplate``."""

# --- quantities ----------------------------------------------------------------------------

_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: str) -> Fraction:
    """Exact value of a Kubernetes quantity; ``ValueError`` where ``resource.ParseQuantity``
    fails (k8s.io/apimachinery pkg/api/resource/quantity.go ``ParseQuantity``, suffix.go)."""
    match = _QUANTITY.match(text.strip()) if text == text.strip() else None
    if match is None:
        raise ValueError(f"quantities must match the regular expression of ParseQuantity: {text!r}")
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    exponent = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:])
    return number * Fraction(10) ** exponent


def milli_value(quantity: Fraction) -> int:
    """``Quantity.MilliValue``: the value in thousandths, rounded up (quantity.go)."""
    return math.ceil(quantity * 1000)


# --- template nodes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass
class Node:
    """The parts of a ``v1.Node`` (plus the requests of pods on it) the autoscaler compares."""

    name: str
    labels: dict[str, str]
    taints: list[Taint]
    capacity: dict[str, Fraction]
    allocatable: dict[str, Fraction]
    requested: dict[str, Fraction] = field(default_factory=dict)
    """Sum of requests of the pods on the node (``NodeInfo.GetRequested``): DaemonSet pods."""


@dataclass(frozen=True)
class InstanceType:
    """One row of ``cloudprovider/aws/ec2_instance_types.go`` (or DescribeInstanceTypes)."""

    name: str
    vcpu: int
    memory_mib: int
    gpu: int
    architecture: str = "amd64"


@dataclass(frozen=True)
class ManagedNodegroup:
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
    nodegroup: ManagedNodegroup,
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
    nodegroup: ManagedNodegroup | None = None,
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


def parse_flags(args: Sequence[str]) -> AutoscalerFlags:
    """Flags from a container command (``--name=value`` or bare boolean ``--name``)."""
    values: dict[str, list[str]] = {}
    for arg in args:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            values.setdefault(name, []).append(value if "=" in arg else "true")
    defaults = DifferenceRatios()
    return AutoscalerFlags(
        cloud_provider=values.get("cloud-provider", [""])[-1],
        balance_similar_node_groups=values.get("balance-similar-node-groups", ["false"])[-1]
        in ("true", "1", "t", "T", "TRUE", "True"),
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
