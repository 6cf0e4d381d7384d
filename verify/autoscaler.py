"""The ``autoscaler`` check: what the cluster autoscaler will decide about the synthesized groups.

From the templates (``AWS::EKS::Nodegroup``, ``Custom::AsgNodeTemplateTags``, ``AWS::EKS::Addon``,
the subnets' zones) and the attached manifests (the autoscaler's flags, the DaemonSets), it builds
each group's template node as the autoscaler does (``verify/autoscaler_model.py``): the AWS
provider's node, the kube-proxy mirror pod and a pod of every DaemonSet that would run on it, the
EKS add-ons' DaemonSets included (``verify/data/eks-addon-daemonsets.json``). Then it asks: can a
GPU pod scale each GPU group up from zero, and a pod that selects a pool only that pool's groups;
can a plain pod only reach the system group; does the device plugin land on every GPU node; does
the autoscaler itself run only on the system group; which groups are balanced, all at zero and
with one live node (groups of one pool and capacity type, and no others); and what is the largest
pod each pool takes, from zero and on the node that then joins.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from cluster_config.catalog import ALL_INSTANCE_TYPES, InstanceShape
from cluster_config.images import repository_of
from cluster_config.nodeadm import (
    EVICTION_HARD_MEMORY_AVAILABLE_MIB,
    allocatable_cpu_millicores,
    ephemeral_storage_allocatable_mib,
    ephemeral_storage_capacity_mib,
    kube_reserved_memory_mib,
    max_pods,
)
from cluster_config.zone_offerings import zone_id_prefix
from verify.autoscaler_model import (
    NVIDIA_GPU,
    AutoscalerFlags,
    DaemonSet,
    InstanceType,
    ManagedNodegroup,
    TaintConfig,
    aws_template_node_info,
    build_node_from_template,
    parse_flags,
    sanitized_template_node_info_from_node_group,
    sanitized_template_node_info_from_node_info,
    similar_groups,
)
from verify.report import CheckResult
from verify.scheduler_model import Node, add_pod, daemon_pod_misfit, daemon_pod_spec, fit_failure

GPU_TAINT_KEY = "nvidia.com/gpu"
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin"
EFA_RESOURCE = "vpc.amazonaws.com/efa"
EFA_PLUGIN_REPOSITORY = "/eks/aws-efa-k8s-device-plugin"
"""The EFA plugin's image, in any region's EKS registry (charts/efa_device_plugin.py)."""

GPU_POD: dict[str, Any] = {
    "tolerations": [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
    "containers": [{"name": "gpu", "resources": {"limits": {NVIDIA_GPU: "1"}}}],
}
"""What README's "Using GPUs" tells users to write: the toleration and one GPU."""

GPU_POD_WITH_STORAGE: dict[str, Any] = {
    "tolerations": GPU_POD["tolerations"],
    "containers": [
        {
            "name": "gpu",
            "resources": {
                "requests": {"ephemeral-storage": "10Gi"},
                "limits": {NVIDIA_GPU: "1", "ephemeral-storage": "10Gi"},
            },
        }
    ],
}
"""The same with 10Gi of ephemeral storage (directly or from a LimitRange)."""

PLAIN_POD: dict[str, Any] = {
    "containers": [{"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]
}

POOL_LABEL = "pool"
"""The label a workload selects a pool by (README, "Using GPUs"): every node of a pool carries
``pool=<pool name>``, and the autoscaler balances on it."""
LARGEST_POD_RESOURCES = ("cpu", "memory", "ephemeral-storage")

ADDON_DAEMONSETS = Path(__file__).parent / "data" / "eks-addon-daemonsets.json"
"""The DaemonSets of each EKS add-on, from its published manifest (source and version inside)."""

LIVE_MEMORY_FRACTION = Fraction(15944120, 16 * 1024 * 1024)
"""A live node reports less memory than its instance type (kernel, firmware): an m5.xlarge
(16 GiB) reports 15944120Ki in cluster-autoscaler's compare_nodegroups_test.go
``TestNodesSimilarVariousLargeMemoryRequirementsM5XLarge``: 95%."""

TABLE_COLUMNS = (
    ("group", "pool", "capacity", "zone", "type"),
    ("group", "cpu", "memory", "gpu", "disk", "taint"),
    ("group", "gpu pod", "pool pod", "+10Gi", "plain", "plugin", "CA"),
)
"""The groups table, in three parts so each fits 100 columns (one table was about 170)."""
TABLE_LEGEND = (
    "(yes: the pod fits the group's template node at zero, which holds the kube-proxy mirror pod "
    "and every DaemonSet's pod. gpu pod: 1 nvidia.com/gpu and the GPU toleration, no selector; "
    "pool pod: the same with nodeSelector pool=<its pool>; +10Gi: with 10Gi ephemeral storage; "
    "plain: no toleration; plugin: the NVIDIA device plugin; CA: the autoscaler itself; disk: "
    "ephemeral storage the template offers; efa: vpc.amazonaws.com/efa the template offers; efa "
    "pod: every GPU and EFA of an EFA pool's node, no selector; efa plugin: the EFA device plugin)"
)
"""Under the tables (wrapped to fit 100 columns), naming their columns."""

TEMPLATE_ONLY_LABELS = ("nodegroup-name", "cluster-name", "amiType", "k8sVersion", "diskSize")
"""Labels the autoscaler invents from ASG tags and DescribeNodegroup; no real node has them."""


# --- facts read from the synthesized output -------------------------------------------------


@dataclass
class GroupFacts:
    logical_id: str
    name: str
    zones: list[str]
    instance_types: list[str]
    min_size: int
    max_size: int
    nodegroup: ManagedNodegroup
    root_volume_gib: int
    """From the group's launch template (or ``DiskSize``; EKS's default 20 without either)."""
    asg_tags: list[tuple[str, str]] = field(default_factory=list)

    @property
    def gpu(self) -> bool:
        return any(key == GPU_TAINT_KEY for key, _, _ in self.nodegroup.taints) or any(
            ALL_INSTANCE_TYPES[t].gpus for t in self.instance_types if t in ALL_INSTANCE_TYPES
        )


def eks_asg_tags(cluster_name: str, nodegroup_name: str) -> list[tuple[str, str]]:
    """Tags EKS puts on a managed group's ASG (EKS user guide, managed node groups; the
    autoscaler's aws_manager_test.go uses the same ``eks:`` keys)."""
    return [
        ("eks:cluster-name", cluster_name),
        ("eks:nodegroup-name", nodegroup_name),
        ("k8s.io/cluster-autoscaler/enabled", "true"),
        (f"k8s.io/cluster-autoscaler/{cluster_name}", "owned"),
        (f"kubernetes.io/cluster/{cluster_name}", "owned"),
    ]


def read_groups(cluster: Mapping[str, Any], network: Mapping[str, Any]) -> list[GroupFacts]:
    """Each managed node group with its DescribeNodegroup view and the tags of its ASG."""
    resources = cluster["Resources"]
    cluster_name = next(
        r["Properties"]["Name"] for r in resources.values() if r["Type"] == "AWS::EKS::Cluster"
    )
    zones = _subnet_zones(network)
    groups: dict[str, GroupFacts] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::EKS::Nodegroup":
            continue
        props = resource["Properties"]
        name = props["NodegroupName"]
        groups[logical_id] = GroupFacts(
            logical_id=logical_id,
            name=name,
            zones=sorted(zones[_import_name(s)] for s in props["Subnets"]),
            instance_types=list(props["InstanceTypes"]),
            min_size=props["ScalingConfig"]["MinSize"],
            max_size=props["ScalingConfig"]["MaxSize"],
            nodegroup=ManagedNodegroup(
                name=name,
                ami_type=props.get("AmiType", ""),
                capacity_type=props.get("CapacityType", ""),
                version=props.get("Version", ""),
                disk_size=props.get("DiskSize"),
                labels=dict(props.get("Labels", {})),
                tags=dict(props.get("Tags", {})),
                taints=[(t["Key"], t.get("Value"), t["Effect"]) for t in props.get("Taints", [])],
            ),
            root_volume_gib=_root_volume_gib(resources, props),
            asg_tags=eks_asg_tags(cluster_name, name),
        )
    for resource in resources.values():
        if resource["Type"] == "Custom::AsgNodeTemplateTags":
            owner = resource["Properties"]["NodegroupName"]["Fn::GetAtt"][0]
            groups[owner].asg_tags.extend(sorted(resource["Properties"]["Tags"].items()))
    return sorted(groups.values(), key=lambda g: (g.gpu, g.name))


def _root_volume_gib(resources: Mapping[str, Any], props: Mapping[str, Any]) -> int:
    template_id = props.get("LaunchTemplate", {}).get("Id", {})
    if isinstance(template_id, dict) and template_id.get("Ref") in resources:
        data = resources[template_id["Ref"]]["Properties"]["LaunchTemplateData"]
        for mapping in data.get("BlockDeviceMappings", []):
            if "Ebs" in mapping and "VolumeSize" in mapping["Ebs"]:
                return int(mapping["Ebs"]["VolumeSize"])
    return int(props.get("DiskSize", 20))


def _import_name(subnet: Any) -> str:
    return str(subnet["Fn::ImportValue"]) if isinstance(subnet, dict) else str(subnet)


def _subnet_zones(network: Mapping[str, Any]) -> dict[str, str]:
    """Export name -> zone of the subnet it exports."""
    zones = {
        logical_id: r["Properties"]["AvailabilityZone"]
        for logical_id, r in network["Resources"].items()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    return {
        output["Export"]["Name"]: zones[output["Value"]["Ref"]]
        for output in network.get("Outputs", {}).values()
        if "Export" in output and output["Value"].get("Ref") in zones
    }


def instance_type(name: str) -> InstanceType:
    """The autoscaler's view of an instance type, from the project's catalog."""
    shape: InstanceShape = ALL_INSTANCE_TYPES[name]
    memory_mib = getattr(shape, "memory_mib", None) or shape.memory_gib * 1024
    return InstanceType(name, shape.vcpus, int(memory_mib), shape.gpus)


def discovered(flags_args: Sequence[str], tags: Sequence[tuple[str, str]]) -> bool:
    """``--node-group-auto-discovery=asg:tag=k1[=v1],k2...``: an ASG is managed when it has
    every key (with the value, when given): aws_manager.go ``parseASGAutoDiscoverySpec``,
    auto_scaling_groups.go (ASGs filtered by tag)."""
    have = dict(tags)
    specs = [a.split("=", 1)[1] for a in flags_args if a.startswith("--node-group-auto-discovery=")]
    for spec in specs:
        kind, _, param = spec.partition(":")
        key, _, wanted = param.partition("=")
        if kind != "asg" or key != "tag":
            continue
        pairs = [p.split("=", 1) for p in wanted.split(",")]
        if all(p[0] in have and (len(p) == 1 or have[p[0]] == p[1]) for p in pairs):
            return True
    return False


# --- nodes ----------------------------------------------------------------------------------


def addon_daemonsets(cluster: Mapping[str, Any]) -> tuple[list[DaemonSet], list[str]]:
    """The DaemonSets of the cluster's EKS add-ons (``AWS::EKS::Addon``) from their published
    manifests, and a problem for each add-on the data file does not describe: its pods would be
    missing from every template node."""
    known = json.loads(ADDON_DAEMONSETS.read_text(encoding="utf-8"))["addons"]
    names = sorted(
        r["Properties"]["AddonName"]
        for r in cluster["Resources"].values()
        if r["Type"] == "AWS::EKS::Addon"
    )
    daemonsets: list[DaemonSet] = []
    problems: list[str] = []
    for name in names:
        if name not in known:
            problems.append(
                f"EKS add-on {name}: verify does not know its DaemonSets; add them from its "
                f"published manifest to verify/data/{ADDON_DAEMONSETS.name}"
            )
            continue
        daemonsets += [
            DaemonSet(d["name"], d["namespace"], d["spec"]) for d in known[name]["daemonsets"]
        ]
    return daemonsets, problems


# --- nodes ----------------------------------------------------------------------------------


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
    cpu, memory and ephemeral-storage allocatable per AL2023 nodeadm (cluster_config/nodeadm.py);
    the pods of the DaemonSets that run on it (EKS runs kube-proxy as a DaemonSet: no mirror
    pod). Of the group's first instance type unless another is named: EKS may launch any."""
    instance = instance_type(instance_name or group.instance_types[0])
    disk_gib = group.root_volume_gib
    template = provider_template(group)
    zone = template.labels["topology.kubernetes.io/zone"]
    labels = {k: v for k, v in template.labels.items() if k not in TEMPLATE_ONLY_LABELS}
    # Set by the EBS CSI node plugin once it registers (ignored when balancing): not yet there.
    labels.pop("topology.ebs.csi.aws.com/zone", None)
    name = f"ip-10-0-{len(group.name)}-1.ec2.internal"
    labels.update(
        {
            "kubernetes.io/hostname": name,
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
    mib = Fraction(2**20)
    memory_mib = int(Fraction(instance.memory_mib * 1024) * LIVE_MEMORY_FRACTION) // 1024
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
            "memory": (
                memory_mib
                - kube_reserved_memory_mib(int(pods))
                - EVICTION_HARD_MEMORY_AVAILABLE_MIB
            )
            * mib,
            "ephemeral-storage": ephemeral_storage_allocatable_mib(disk_gib) * mib,
        }
    )
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


# --- the largest pod a pool takes -------------------------------------------------------------


def free(node: Node, resource: str) -> Fraction:
    """What one more pod may request of a resource: allocatable less the pods' requests
    (noderesources/fit.go ``fitsRequest``)."""
    return node.allocatable.get(resource, Fraction(0)) - node.requested.get(resource, Fraction(0))


@dataclass(frozen=True)
class LargestPod:
    """Per resource, the largest request of one GPU pod that (a) the autoscaler's template
    admits, so it scales the group up from zero, and (b) the node that joins admits."""

    group: str
    scales_up: dict[str, Fraction]
    runs: dict[str, Fraction]

    def gaps(self) -> list[str]:
        """Resources a pod can request enough of to scale a node up that it cannot run on."""
        return [r for r in LARGEST_POD_RESOURCES if self.scales_up[r] > self.runs[r]]


def largest_pod(group: GroupFacts, template: Node, joined: Sequence[Node]) -> LargestPod:
    """From the group's template, and the smallest of the nodes that may join (one per type)."""
    return LargestPod(
        group.name,
        {r: max(free(template, r), Fraction(0)) for r in LARGEST_POD_RESOURCES},
        {r: max(min(free(n, r) for n in joined), Fraction(0)) for r in LARGEST_POD_RESOURCES},
    )


def _amount(resource: str, value: Fraction) -> str:
    if resource == "cpu":
        return f"{int(value * 1000)}m"
    return f"{int(value // 2**20)}Mi"


# --- the check ------------------------------------------------------------------------------


@dataclass
class Simulation:
    """Everything the check decided, for the report and for tests."""

    flags: AutoscalerFlags
    groups: list[GroupFacts]
    templates: dict[str, Node]
    fits: dict[str, dict[str, str | None]]
    """pod name -> group name -> None (fits) or why not."""
    similar_at_zero: dict[str, dict[str, str | None]]
    similar_live: dict[str, dict[str, str | None]]
    pools: dict[str, str]
    """Group name -> its nodes' ``pool`` label (``-`` when they have none)."""
    largest: dict[str, LargestPod]
    """Group name -> the largest GPU pod it takes (GPU groups)."""
    problems: list[str]
    table: list[str] = field(default_factory=list)
    buffers: dict[str, list[str]] = field(default_factory=dict)
    """Warm-capacity buffer (``CapacityBuffer/<name>`` or ``Deployment/<name>``) -> the groups
    its pods scale up."""


CAPACITY_BUFFER_FLAGS = (
    "--capacity-buffer-controller-enabled=true",
    "--capacity-buffer-pod-injection-enabled=true",
    "--kube-api-content-type=application/json",
)
"""Without the first two the autoscaler ignores CapacityBuffers (``config/flags/flags.go``, both
default false); without the third its buffer controller never writes buffer status."""


@dataclass(frozen=True)
class BufferPods:
    """Pods the autoscaler must find room for that no user created: a CapacityBuffer's (which
    pod injection adds to its pending pods) or the FAQ's overprovisioning pause pods."""

    name: str
    replicas: int
    pod: Mapping[str, Any]


EXPENDABLE_PODS_PRIORITY_CUTOFF = -10
"""``--expendable-pods-priority-cutoff`` default (FAQ.md flag table): pods below it never make
the autoscaler scale up (FAQ, "How does Cluster Autoscaler work with Pod Priority")."""


def buffer_pods(objects: Sequence[Mapping[str, Any]]) -> tuple[list[BufferPods], list[str]]:
    """The buffers among ``objects``, and what makes one unusable (a missing PodTemplate, pause
    pods below the expendable cutoff). Overprovisioning Deployments are those whose pods have a
    negative PriorityClass (FAQ.md, "How can I configure overprovisioning")."""
    buffers, problems = [], []
    priorities = {
        o["metadata"]["name"]: int(o["value"]) for o in objects if o["kind"] == "PriorityClass"
    }
    templates = {
        (o["metadata"].get("namespace"), o["metadata"]["name"]): o
        for o in objects
        if o["kind"] == "PodTemplate"
    }
    for o in objects:
        meta = o["metadata"]
        if o["kind"] == "CapacityBuffer":
            ref = o.get("spec", {}).get("podTemplateRef", {}).get("name")
            template = templates.get((meta.get("namespace"), ref))
            if template is None:
                problems.append(f"CapacityBuffer/{meta['name']}: PodTemplate {ref!r} not found")
                continue
            replicas = int(o["spec"].get("replicas", 0))
            buffers.append(
                BufferPods(f"CapacityBuffer/{meta['name']}", replicas, template["template"]["spec"])
            )
        elif o["kind"] == "Deployment" and (
            priorities.get(o["spec"]["template"]["spec"].get("priorityClassName", ""), 0) < 0
        ):
            value = priorities[o["spec"]["template"]["spec"]["priorityClassName"]]
            if value < EXPENDABLE_PODS_PRIORITY_CUTOFF:
                problems.append(
                    f"Deployment/{meta['name']}: priority {value} is below the autoscaler's "
                    f"expendable cutoff {EXPENDABLE_PODS_PRIORITY_CUTOFF}: it never scales up"
                )
                continue
            buffers.append(
                BufferPods(
                    f"Deployment/{meta['name']}",
                    int(o["spec"].get("replicas", 1)),
                    o["spec"]["template"]["spec"],
                )
            )
    return buffers, problems


def efa_pod(gpus: Fraction, efa: Fraction) -> dict[str, Any]:
    """A multi-node training worker as docs/using-gpus.md ("Multi-node training") writes it: the
    GPU toleration, every GPU and every EFA of a node, no selector."""
    limits = {NVIDIA_GPU: str(int(gpus)), EFA_RESOURCE: str(int(efa))}
    return {
        "tolerations": GPU_POD["tolerations"],
        "containers": [{"name": "worker", "resources": {"limits": limits}}],
    }


def pool_pod(pool: str) -> dict[str, Any]:
    """A GPU pod that selects a pool, as README tells users to write it."""
    return {**GPU_POD, "nodeSelector": {POOL_LABEL: pool}}


def simulate(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
) -> Simulation:
    """Run the autoscaler's decisions over the synthesized groups and manifests."""
    problems: list[str] = []
    deployment = _find(objects, "Deployment", "cluster-autoscaler")
    manifest_daemonsets = [o for o in objects if o["kind"] == "DaemonSet"]
    addons, addon_problems = addon_daemonsets(cluster)
    problems += addon_problems
    daemonsets = [*(DaemonSet.from_manifest(d) for d in manifest_daemonsets), *addons]
    # One DaemonSet, or one per time-slicing config (each selected by its node label): a node
    # gets the plugin if any of them lands on it.
    plugins = [d for d in manifest_daemonsets if _runs_image(d, DEVICE_PLUGIN_IMAGE)]
    efa_plugins = [d for d in manifest_daemonsets if _runs_repository(d, EFA_PLUGIN_REPOSITORY)]
    args: list[str] = []
    autoscaler_pod: dict[str, Any] = {}
    if deployment is None:
        problems.append("no cluster-autoscaler Deployment is attached to the cluster")
    else:
        autoscaler_pod = deployment["spec"]["template"]["spec"]
        args = [*autoscaler_pod["containers"][0].get("command", [])]
        args += autoscaler_pod["containers"][0].get("args", [])
    flags = parse_flags(args)
    groups = read_groups(cluster, network)
    managed = [g for g in groups if discovered(args, g.asg_tags)]
    problems += [
        f"{g.name}: its ASG is not auto-discovered by the autoscaler's flags"
        for g in groups
        if g not in managed and deployment is not None
    ]
    templates = {g.name: template_node(g, daemonsets) for g in managed}
    gpu_groups = [g for g in managed if g.gpu]
    system_groups = [g for g in managed if not g.gpu]
    pools = {g.name: templates[g.name].labels.get(POOL_LABEL, "-") for g in managed}
    gpu_pools = sorted({pools[g.name] for g in gpu_groups})
    # Pools whose templates advertise EFA (the node-template resources tag): one worker pod each,
    # sized to a whole node of the pool.
    efa_pods = {
        pools[g.name]: efa_pod(
            templates[g.name].capacity.get(NVIDIA_GPU, Fraction(0)),
            templates[g.name].capacity[EFA_RESOURCE],
        )
        for g in gpu_groups
        if templates[g.name].capacity.get(EFA_RESOURCE)
    }

    pods: dict[str, Mapping[str, Any]] = {
        "gpu pod": GPU_POD,
        "gpu pod +10Gi disk": GPU_POD_WITH_STORAGE,
        "plain pod": PLAIN_POD,
        **{f"pool pod {pool}": pool_pod(pool) for pool in gpu_pools},
        **{f"efa pod {pool}": pod for pool, pod in efa_pods.items()},
    }
    if autoscaler_pod:
        pods["autoscaler"] = autoscaler_pod
    fits = {
        pod: {name: fit_failure(spec, node) for name, node in templates.items()}
        for pod, spec in pods.items()
    }
    fits["device plugin"] = {
        name: next(
            (
                None
                for p in plugins
                if daemon_pod_misfit(p["spec"]["template"]["spec"], node) is None
            ),
            "no device-plugin DaemonSet would run a pod on it"
            if plugins
            else "no device-plugin DaemonSet",
        )
        for name, node in templates.items()
    }

    fits["efa plugin"] = {
        name: next(
            (
                None
                for p in efa_plugins
                if daemon_pod_misfit(p["spec"]["template"]["spec"], node) is None
            ),
            "no EFA device-plugin DaemonSet would run a pod on it",
        )
        for name, node in templates.items()
    }
    problems += _efa_problems(managed, pools, efa_pods, fits, bool(efa_plugins))
    if not plugins and gpu_groups:
        problems.append(f"no DaemonSet runs {DEVICE_PLUGIN_IMAGE}: GPU nodes advertise no GPUs")
    for g in gpu_groups:
        for pod in ("gpu pod", "gpu pod +10Gi disk"):
            if fits[pod][g.name] is not None:
                problems.append(
                    f"{g.name}: a {pod} cannot scale it up from zero: {fits[pod][g.name]}"
                )
        if pools[g.name] == "-":
            problems.append(
                f"{g.name}: its nodes carry no {POOL_LABEL} label: no pod can select it"
            )
        elif fits[f"pool pod {pools[g.name]}"][g.name] is not None:
            why = fits[f"pool pod {pools[g.name]}"][g.name]
            problems.append(
                f"{g.name}: a GPU pod selecting pool {pools[g.name]} cannot scale it up: {why}"
            )
        if fits["plain pod"][g.name] is None:
            problems.append(f"{g.name}: a plain pod (no GPU toleration) would scale up a GPU group")
        if plugins and fits["device plugin"][g.name] is not None:
            why = fits["device plugin"][g.name]
            problems.append(f"{g.name}: the device plugin would not run on its nodes: {why}")
        if autoscaler_pod and fits["autoscaler"][g.name] is None:
            problems.append(f"{g.name}: the autoscaler could run on this GPU group")
    for pool in gpu_pools:
        strays = [n for n in templates if pools[n] != pool and fits[f"pool pod {pool}"][n] is None]
        problems += [f"{n}: a GPU pod selecting pool {pool} would scale it up" for n in strays]
    for g in system_groups:
        if plugins and fits["device plugin"][g.name] is None:
            problems.append(f"{g.name}: the device plugin would run on this non-GPU group")
    if autoscaler_pod:
        homes = [g for g in system_groups if fits["autoscaler"][g.name] is None]
        if not homes:
            problems.append("the autoscaler fits no group: nothing would scale anything")
        elif all(g.min_size == 0 for g in homes):
            problems.append(
                "the autoscaler runs only on groups with min_size 0: at zero nothing scales them up"
            )

    largest: dict[str, LargestPod] = {}
    for g in gpu_groups:
        try:
            joined = [live_node(g, daemonsets, t) for t in g.instance_types]
            largest[g.name] = largest_pod(g, templates[g.name], joined)
        except KeyError as missing:
            problems.append(f"{g.name}: nodeadm's instance list has no {missing}: maxPods unknown")
            continue
        for resource in largest[g.name].gaps():
            up, runs = largest[g.name].scales_up[resource], largest[g.name].runs[resource]
            problems.append(
                f"{g.name}: a GPU pod requesting more than {_amount(resource, runs)} and up to "
                f"{_amount(resource, up)} of {resource} scales a node up from zero that it "
                "cannot run on (the template does not know the kubelet's reservations)"
            )

    buffers, buffer_problems = buffer_pods(objects)
    problems += buffer_problems
    if any(b.name.startswith("CapacityBuffer/") for b in buffers):
        problems += [
            f"CapacityBuffers exist but the autoscaler lacks {flag}"
            for flag in CAPACITY_BUFFER_FLAGS
            if flag not in args
        ]
    scaled: dict[str, list[str]] = {}
    for buffer in buffers:
        selected = buffer.pod.get("nodeSelector", {}).get(POOL_LABEL)
        scaled[buffer.name] = [
            n for n, node in templates.items() if fit_failure(buffer.pod, node) is None
        ]
        if not scaled[buffer.name]:
            problems.append(
                f"{buffer.name}: its pods fit no group's template: nothing is kept warm"
            )
        problems += [
            f"{buffer.name}: its pods would scale up {n}, not a group of pool {selected}"
            for n in scaled[buffer.name]
            if pools[n] != selected
        ]
        for g in (g for g in gpu_groups if g.name in scaled[buffer.name]):
            for instance in g.instance_types:
                try:
                    why = fit_failure(buffer.pod, live_node(g, daemonsets, instance))
                except KeyError:
                    continue  # reported above (maxPods unknown)
                if why is not None:
                    problems.append(
                        f"{buffer.name}: its pod scales up {g.name} but does not fit the "
                        f"{instance} node that joins ({why}): the autoscaler would add node "
                        "after node"
                    )

    similar_at_zero, similar_live = _balancing(
        flags, managed, templates, daemonsets, pools, problems
    )
    simulation = Simulation(
        flags,
        groups,
        templates,
        fits,
        similar_at_zero,
        similar_live,
        pools,
        largest,
        problems,
        buffers=scaled,
    )
    simulation.table = _table(simulation, managed)
    return simulation


def _efa_problems(
    managed: Sequence[GroupFacts],
    pools: Mapping[str, str],
    efa_pods: Mapping[str, Any],
    fits: Mapping[str, Mapping[str, str | None]],
    any_plugin: bool,
) -> list[str]:
    """An EFA pool's worker pod scales its groups up from zero and no group of another pool
    without EFA; the EFA device plugin runs on every EFA group's nodes and on no other."""
    problems = []
    if efa_pods and not any_plugin:
        problems.append(
            f"no DaemonSet runs the EFA device plugin: EFA nodes advertise no {EFA_RESOURCE}"
        )
    for g in managed:
        pool = pools[g.name]
        if pool in efa_pods:
            pod = efa_pods[pool]["containers"][0]["resources"]["limits"]
            why = fits[f"efa pod {pool}"][g.name]
            if why is not None:
                problems.append(
                    f"{g.name}: a pod asking for {pod[NVIDIA_GPU]} GPUs and {pod[EFA_RESOURCE]} "
                    f"EFA cannot scale it up from zero: {why}"
                )
            if any_plugin and fits["efa plugin"][g.name] is not None:
                problems.append(
                    f"{g.name}: the EFA device plugin would not run on its nodes: "
                    f"{fits['efa plugin'][g.name]}"
                )
            continue
        problems += [
            f"{g.name}: an EFA pod of pool {other} would scale it up, but its nodes have no EFA"
            for other in efa_pods
            if fits[f"efa pod {other}"][g.name] is None
        ]
        if fits["efa plugin"][g.name] is None:
            problems.append(f"{g.name}: the EFA device plugin would run on this group without EFA")
    return problems


def _shape(node: Node) -> tuple[Any, ...]:
    return (
        node.capacity.get("cpu"),
        node.capacity.get("memory"),
        node.capacity.get(NVIDIA_GPU),
        node.labels.get("k8s.amazonaws.com/accelerator"),
    )


def _balancing(
    flags: AutoscalerFlags,
    managed: Sequence[GroupFacts],
    templates: Mapping[str, Node],
    daemonsets: Sequence[DaemonSet],
    pools: Mapping[str, str],
    problems: list[str],
) -> tuple[dict[str, dict[str, str | None]], dict[str, dict[str, str | None]]]:
    """Which groups a scale-up is balanced across, all at zero and with the group's one live node
    against the others' templates: a GPU pod's for GPU groups, a plain pod's for the others.
    Groups of one pool and capacity type (one shape by construction) must be balanced; groups of
    different pools, capacity types or shapes must not be; the system group with none."""

    def pod_for(group: GroupFacts) -> Mapping[str, Any]:
        return GPU_POD if group.gpu else PLAIN_POD

    at_zero: dict[str, dict[str, str | None]] = {}
    live: dict[str, dict[str, str | None]] = {}
    for g in managed:
        pod = pod_for(g)

        def fits(node: Node, pod: Mapping[str, Any] = pod) -> bool:
            return fit_failure(pod, node) is None

        at_zero[g.name] = similar_groups(g.name, templates, flags, fits)
        nodes = {**templates, g.name: live_template(g, daemonsets, flags)}
        live[g.name] = similar_groups(g.name, nodes, flags, fits)
    by_name = {g.name: g for g in managed}
    seen: set[tuple[str, frozenset[str]]] = set()
    for state, result in (("all at zero", at_zero), ("one live node", live)):
        for group, others in result.items():
            for other, why in others.items():
                if state == "all at zero" and (state, frozenset((group, other))) in seen:
                    continue
                seen.add((state, frozenset((group, other))))
                where = state if state == "all at zero" else f"a live node in {group}"
                a, b = by_name[group], by_name[other]
                same_shape = _shape(templates[group]) == _shape(templates[other])
                expected = (
                    a.gpu
                    and b.gpu
                    and pools[group] == pools[other] != "-"
                    and a.nodegroup.capacity_type == b.nodegroup.capacity_type
                )
                if why is None and not (expected and same_shape):
                    differ = (
                        "their nodes differ"
                        if not same_shape
                        else "they are different pools"
                        if pools[group] != pools[other]
                        else "their capacity types differ"
                        if a.nodegroup.capacity_type != b.nodegroup.capacity_type
                        else "one is not a GPU group"
                    )
                    problems.append(f"{group} and {other} are balanced ({where}) although {differ}")
                elif why is not None and expected:
                    if same_shape:
                        problems.append(f"{group} and {other} are not balanced ({where}): {why}")
                    elif state == "all at zero":
                        problems.append(
                            f"pool {pools[group]} has groups of different shapes: {group} and "
                            f"{other}"
                        )
    return at_zero, live


def _table(simulation: Simulation, managed: Sequence[GroupFacts]) -> list[str]:
    def yes(pod: str, name: str) -> str:
        return "yes" if simulation.fits.get(pod, {}).get(name, "absent") is None else "no"

    def efa_pod_fits(name: str) -> str:
        """Its own pool's EFA pod on an EFA group; any EFA pod on another ("-" without one)."""
        efa = [pod for pod in simulation.fits if pod.startswith("efa pod ")]
        own = f"efa pod {simulation.pools[name]}"
        if own in efa:
            return yes(own, name)
        if not efa:
            return "-"
        return "yes" if any(simulation.fits[pod][name] is None for pod in efa) else "no"

    def quantity(node: Node, name: str, unit: int, suffix: str) -> str:
        value = node.capacity.get(name)
        if not value:
            return "-"
        if name == "cpu" and value.denominator != 1:
            return f"{int(value * 1000)}m"
        return f"{int(value // unit)}{suffix}"

    rows = [
        (
            "group",
            "pool",
            "capacity",
            "zone",
            "type",
            "cpu",
            "memory",
            "gpu",
            "disk",
            "taint",
            "gpu pod",
            "pool pod",
            "+10Gi",
            "plain",
            "plugin",
            "CA",
            "efa",
            "efa pod",
            "efa plugin",
        ),
    ]
    for group in managed:
        node = simulation.templates[group.name]
        pool = simulation.pools[group.name]
        rows.append(
            (
                group.name,
                pool,
                group.nodegroup.capacity_type or "-",
                ",".join(z[-1] for z in group.zones) if len(group.zones) > 1 else group.zones[0],
                group.instance_types[0],
                quantity(node, "cpu", 1, ""),
                quantity(node, "memory", 2**30, "Gi"),
                quantity(node, NVIDIA_GPU, 1, ""),
                quantity(node, "ephemeral-storage", 2**30, "Gi"),
                ",".join(sorted({f"{t.key}:{t.effect}" for t in node.taints})) or "-",
                yes("gpu pod", group.name),
                yes(f"pool pod {pool}", group.name) if group.gpu else "-",
                yes("gpu pod +10Gi disk", group.name),
                yes("plain pod", group.name),
                yes("device plugin", group.name),
                yes("autoscaler", group.name),
                quantity(node, EFA_RESOURCE, 1, ""),
                efa_pod_fits(group.name),
                yes("efa plugin", group.name),
            )
        )
    lines = [line for columns in TABLE_COLUMNS for line in _columns(rows, columns)]
    lines.extend(textwrap.wrap(TABLE_LEGEND, 88))
    flags = simulation.flags
    how = (
        f"--balancing-label={','.join(flags.balancing_labels)}"
        if flags.balancing_labels
        else "built-in comparison"
        + (
            f", ignoring {','.join(flags.balancing_ignore_labels)}"
            if flags.balancing_ignore_labels
            else ""
        )
    )
    lines.append(f"balancing ({how}):")
    by_name = {g.name: g for g in managed}
    for state, result in (
        ("all at zero", simulation.similar_at_zero),
        ("one live node, others at zero", simulation.similar_live),
    ):
        sets = {
            tuple(sorted([group, *(o for o, why in others.items() if why is None)]))
            for group, others in result.items()
        }
        for members in sorted(sets, key=lambda s: (not by_name[s[0]].gpu, s)):
            first = by_name[members[0]]
            what = (
                f"pool {simulation.pools[first.name]} ({first.nodegroup.capacity_type or '-'})"
                if first.gpu
                else f"system group {first.name}"
            )
            spread = " + ".join(members) if len(members) > 1 else f"{members[0]} alone"
            lines.append(f"  {state}: {what}: a scale-up is spread over {spread}")
    if simulation.largest:
        lines.append(
            "largest single GPU pod (cpu, memory, ephemeral-storage): what scales a group up "
            "from zero / what the node that joins can run:"
        )
        shown: set[tuple[str, str]] = set()
        for group in managed:
            pod = simulation.largest.get(group.name)
            key = (simulation.pools[group.name], group.instance_types[0])
            if pod is None or key in shown:
                continue
            shown.add(key)

            def amounts(values: Mapping[str, Fraction]) -> str:
                return ", ".join(_amount(r, values[r]) for r in LARGEST_POD_RESOURCES)

            lines.append(
                f"  pool {key[0]} ({key[1]}): {amounts(pod.scales_up)} / {amounts(pod.runs)}"
            )
    if simulation.buffers:
        lines.append("warm capacity (buffer pods the autoscaler must find room for):")
        lines += [
            f"  {name}: scales up {' + '.join(groups) if groups else 'no group'}"
            for name, groups in simulation.buffers.items()
        ]
    return lines


def _runs_repository(obj: Mapping[str, Any], repository: str) -> bool:
    """A container image ``<any registry><repository>:<tag>``."""
    containers = obj["spec"]["template"]["spec"]["containers"]
    return any(f"{repository}:" in c.get("image", "") for c in containers)


def _runs_image(obj: Mapping[str, Any], image: str) -> bool:
    """Whether a container runs ``image`` (from its registry, or from a mirror of it)."""
    containers = obj["spec"]["template"]["spec"]["containers"]
    repositories = [repository_of(c.get("image", "")) for c in containers]
    return any(r == image or r.endswith(f"/{image}") for r in repositories)


def _find(objects: Sequence[Mapping[str, Any]], kind: str, name: str) -> Mapping[str, Any] | None:
    return next(
        (o for o in objects if o["kind"] == kind and o["metadata"].get("name") == name), None
    )


def check_autoscaler(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
) -> CheckResult:
    simulation = simulate(cluster, network, objects)
    gpu = [g for g in simulation.groups if g.gpu]
    deployment = _find(objects, "Deployment", "cluster-autoscaler")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"] if deployment else ""
    release = image.rpartition(":")[2] if ":" in image else "(not deployed)"
    pools = sorted({simulation.pools[g.name] for g in gpu if g.name in simulation.pools})
    summary = (
        f"{len(simulation.templates)} groups ({len(gpu)} GPU, {len(pools)} "
        f"pool{'s' if len(pools) != 1 else ''}) as cluster-autoscaler {release} sees them: "
        "scale-from-zero, placement, balancing, largest pod"
    )
    if simulation.problems:
        return CheckResult("autoscaler", "FAIL", summary, simulation.problems, simulation.table)
    return CheckResult("autoscaler", "PASS", summary, simulation.problems, simulation.table)


def _columns(rows: Sequence[tuple[str, ...]], columns: tuple[str, ...]) -> list[str]:
    """``columns`` of ``rows`` (the first row names them), each padded to its widest cell."""
    picked = [tuple(str(r[rows[0].index(c)]) for c in columns) for r in rows]
    widths = [max(len(r[i]) for r in picked) for i in range(len(columns))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in picked]
