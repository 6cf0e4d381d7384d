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
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from cluster_config.catalog import ALL_INSTANCE_TYPES, InstanceShape
from cluster_config.efa import EFA_RESOURCE
from cluster_config.images import repository_of
from cluster_config.labels import GPU_TAINT_KEY, POOL_LABEL
from cluster_config.nodeadm import (
    REPORTED_MEMORY_FRACTION,
    allocatable_cpu_millicores,
    allocatable_memory_mib,
    ephemeral_storage_allocatable_mib,
    ephemeral_storage_capacity_mib,
    max_pods,
    reported_memory_mib,
)
from cluster_config.zone_offerings import zone_id_prefix
from verify.autoscaler_model import (
    NVIDIA_GPU,
    AutoscalerFlags,
    DaemonSet,
    InstanceType,
    NodegroupDescription,
    TaintConfig,
    aws_template_node_info,
    build_node_from_template,
    parse_flags,
    sanitized_template_node_info_from_node_group,
    sanitized_template_node_info_from_node_info,
    similar_groups,
)
from verify.report import CheckResult, Status
from verify.scheduler_model import Node, add_pod, daemon_pod_misfit, daemon_pod_spec, fit_failure

DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin"
"""Upstream's image repository, how verify recognises the plugin in any DaemonSet (its own copy,
not the chart's: verify reads the synthesized output, not the code that wrote it)."""
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

LARGEST_POD_RESOURCES = ("cpu", "memory", "ephemeral-storage")

ADDON_DAEMONSETS = Path(__file__).parent / "data" / "eks-addon-daemonsets.json"
"""The DaemonSets of each EKS add-on, from its published manifest (source and version inside)."""

TABLE_COLUMNS = (
    ("group", "pool", "capacity", "zone", "type"),
    ("group", "cpu", "memory", "gpu", "disk", "taint"),
    ("group", "gpu pod", "pool pod", "+10Gi", "plain", "plugin", "CA"),
)
"""The groups table, in three parts so each fits 100 columns (one table was about 170)."""
EFA_TABLE_COLUMNS = ("group", "efa", "efa pod", "efa plugin")
"""A fourth part, printed when a group's template offers ``vpc.amazonaws.com/efa``."""
TABLE_LEGEND = (
    "(yes: the pod fits the group's template node at zero, which holds the kube-proxy mirror pod "
    "and every DaemonSet's pod. gpu pod: 1 nvidia.com/gpu and the GPU toleration, no selector; "
    "pool pod: the same with nodeSelector pool=<its pool>; +10Gi: with 10Gi ephemeral storage; "
    "plain: no toleration; plugin: the NVIDIA device plugin; CA: the autoscaler itself; disk: "
    "ephemeral storage the template offers; efa: vpc.amazonaws.com/efa the template offers; efa "
    "pod: every GPU and EFA of an EFA pool's node, no selector; efa plugin: the EFA device plugin)"
)
"""Under the tables (wrapped to fit 100 columns), naming their columns."""

TABLE_HEADER = (
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
    "efa",
    "gpu pod",
    "pool pod",
    "+10Gi",
    "plain",
    "plugin",
    "CA",
    "efa pod",
    "efa plugin",
)

TEMPLATE_ONLY_LABELS = ("nodegroup-name", "cluster-name", "amiType", "k8sVersion", "diskSize")
"""Labels the autoscaler invents from ASG tags and DescribeNodegroup; no real node has them."""


# --- facts read from the synthesized output -------------------------------------------------


@dataclass(frozen=True)
class GroupFacts:
    logical_id: str
    name: str
    zones: list[str]
    instance_types: list[str]
    min_size: int
    max_size: int
    nodegroup: NodegroupDescription
    root_volume_gib: int
    """From the group's launch template (or ``DiskSize``; EKS's default 20 without either)."""
    asg_tags: list[tuple[str, str]]
    """What EKS tags the ASG with, then the node-template tags our custom resource adds."""

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
    template_tags: dict[str, list[tuple[str, str]]] = {}
    for resource in resources.values():
        if resource["Type"] == "Custom::AsgNodeTemplateTags":
            owner = resource["Properties"]["NodegroupName"]["Fn::GetAtt"][0]
            template_tags.setdefault(owner, []).extend(
                sorted(resource["Properties"]["Tags"].items())
            )
    groups: list[GroupFacts] = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::EKS::Nodegroup":
            continue
        props = resource["Properties"]
        name = props["NodegroupName"]
        groups.append(
            GroupFacts(
                logical_id=logical_id,
                name=name,
                zones=sorted(zones[_import_name(s)] for s in props["Subnets"]),
                instance_types=list(props["InstanceTypes"]),
                min_size=props["ScalingConfig"]["MinSize"],
                max_size=props["ScalingConfig"]["MaxSize"],
                nodegroup=NodegroupDescription(
                    name=name,
                    ami_type=props.get("AmiType", ""),
                    capacity_type=props.get("CapacityType", ""),
                    version=props.get("Version", ""),
                    disk_size=props.get("DiskSize"),
                    labels=dict(props.get("Labels", {})),
                    tags=dict(props.get("Tags", {})),
                    taints=[
                        (t["Key"], t.get("Value"), t["Effect"]) for t in props.get("Taints", [])
                    ],
                ),
                root_volume_gib=_root_volume_gib(resources, props),
                asg_tags=[*eks_asg_tags(cluster_name, name), *template_tags.get(logical_id, [])],
            )
        )
    return sorted(groups, key=lambda g: (g.gpu, g.name))


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


# --- DaemonSets -------------------------------------------------------------------------------


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


# --- what the rules look at -------------------------------------------------------------------


@dataclass(frozen=True)
class AutoscalerDeployment:
    """The autoscaler's Deployment as attached to the cluster (``manifest`` None when it is not),
    its pod spec and its command line."""

    manifest: Mapping[str, Any] | None
    pod: Mapping[str, Any] | None
    args: tuple[str, ...]
    flags: AutoscalerFlags

    @property
    def release(self) -> str:
        image = self.pod["containers"][0]["image"] if self.pod else ""
        return image.rpartition(":")[2] if ":" in image else "(not deployed)"


def read_deployment(objects: Sequence[Mapping[str, Any]]) -> AutoscalerDeployment:
    deployment = _find(objects, "Deployment", "cluster-autoscaler")
    if deployment is None:
        return AutoscalerDeployment(None, None, (), parse_flags([]))
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = (*container.get("command", []), *container.get("args", []))
    return AutoscalerDeployment(deployment, pod, args, parse_flags(list(args)))


def efa_pod(gpus: Fraction, efa: Fraction) -> dict[str, Any]:
    """A multi-node training worker as docs/using-gpus.md ("Multi-node training") writes it: the
    GPU toleration, every GPU and every EFA of a node, no selector."""
    limits = {NVIDIA_GPU: str(int(gpus)), EFA_RESOURCE: str(int(efa))}
    return {
        "tolerations": GPU_POD["tolerations"],
        "containers": [{"name": "worker", "resources": {"limits": limits}}],
    }


def efa_pods_of(managed: Sequence[GroupFacts], templates: Mapping[str, Node]) -> dict[str, Any]:
    """Pool -> its worker pod, for the pools whose templates advertise EFA (the node-template
    resources tag): one pod each, sized to a whole node of the pool."""
    return {
        templates[g.name].labels.get(POOL_LABEL, "-"): efa_pod(
            templates[g.name].capacity.get(NVIDIA_GPU, Fraction(0)),
            templates[g.name].capacity[EFA_RESOURCE],
        )
        for g in managed
        if g.gpu and templates[g.name].capacity.get(EFA_RESOURCE)
    }


def pool_pod(pool: str) -> dict[str, Any]:
    """A GPU pod that selects a pool, as README tells users to write it."""
    return {**GPU_POD, "nodeSelector": {POOL_LABEL: pool}}


def probe_pods(
    gpu_pools: Sequence[str], efa_pods: Mapping[str, Any], autoscaler: AutoscalerDeployment
) -> dict[str, Any]:
    """Pod name -> pod spec of every pod the rules ask about (the autoscaler's own when it is
    deployed). A new kind of pending pod is one more entry here and a rule that reads its fits."""
    pods: dict[str, Any] = {
        "gpu pod": GPU_POD,
        "gpu pod +10Gi disk": GPU_POD_WITH_STORAGE,
        "plain pod": PLAIN_POD,
        **{f"pool pod {pool}": pool_pod(pool) for pool in gpu_pools},
        **{f"efa pod {pool}": pod for pool, pod in efa_pods.items()},
    }
    if autoscaler.pod is not None:
        pods["autoscaler"] = autoscaler.pod
    return pods


def plugin_fits(
    plugins: Sequence[Mapping[str, Any]],
    templates: Mapping[str, Node],
    why: tuple[str, str] = (
        "no device-plugin DaemonSet would run a pod on it",
        "no device-plugin DaemonSet",
    ),
) -> dict[str, str | None]:
    """Group -> None when one of the plugin's DaemonSets runs a pod on its template node, else
    why not (``why``: with DaemonSets, without any). The NVIDIA plugin has one DaemonSet, or one
    per time-slicing config, each selected by its node label."""
    why_not = why[0] if plugins else why[1]
    return {
        name: next(
            (
                None
                for p in plugins
                if daemon_pod_misfit(p["spec"]["template"]["spec"], node) is None
            ),
            why_not,
        )
        for name, node in templates.items()
    }


@dataclass(frozen=True)
class Scene:
    """The groups as the autoscaler sees them: what every rule below reads, none changes."""

    autoscaler: AutoscalerDeployment
    groups: list[GroupFacts]
    managed: list[GroupFacts]
    """The groups the autoscaler's flags discover."""
    daemonsets: list[DaemonSet]
    unknown_addons: list[str]
    """A problem per EKS add-on whose DaemonSets verify does not know."""
    plugins: list[Mapping[str, Any]]
    """The DaemonSets running the NVIDIA device plugin."""
    efa_plugins: list[Mapping[str, Any]]
    """The DaemonSets running the EFA device plugin."""
    efa_pods: dict[str, Any]
    """EFA pool -> its multi-node training worker pod (``efa_pods_of``)."""
    templates: dict[str, Node]
    pools: dict[str, str]
    """Group name -> its nodes' ``pool`` label (``-`` when they have none)."""
    fits: dict[str, dict[str, str | None]]
    """Pod name -> group name -> None (fits its template node) or why not."""

    @property
    def gpu_groups(self) -> list[GroupFacts]:
        return [g for g in self.managed if g.gpu]

    @property
    def system_groups(self) -> list[GroupFacts]:
        return [g for g in self.managed if not g.gpu]


def read_scene(
    cluster: Mapping[str, Any], network: Mapping[str, Any], objects: Sequence[Mapping[str, Any]]
) -> Scene:
    autoscaler = read_deployment(objects)
    manifest_daemonsets = [o for o in objects if o["kind"] == "DaemonSet"]
    addons, unknown_addons = addon_daemonsets(cluster)
    daemonsets = [*(DaemonSet.from_manifest(d) for d in manifest_daemonsets), *addons]
    groups = read_groups(cluster, network)
    managed = [g for g in groups if discovered(autoscaler.args, g.asg_tags)]
    templates = {g.name: template_node(g, daemonsets) for g in managed}
    pools = {g.name: templates[g.name].labels.get(POOL_LABEL, "-") for g in managed}
    gpu_pools = sorted({pools[g.name] for g in managed if g.gpu})
    plugins = [d for d in manifest_daemonsets if _runs_image(d, DEVICE_PLUGIN_IMAGE)]
    efa_plugins = [d for d in manifest_daemonsets if _runs_repository(d, EFA_PLUGIN_REPOSITORY)]
    efa_pods = efa_pods_of(managed, templates)
    fits = {
        pod: {name: fit_failure(spec, node) for name, node in templates.items()}
        for pod, spec in probe_pods(gpu_pools, efa_pods, autoscaler).items()
    }
    fits["device plugin"] = plugin_fits(plugins, templates)
    no_efa = "no EFA device-plugin DaemonSet would run a pod on it"
    fits["efa plugin"] = plugin_fits(efa_plugins, templates, (no_efa, no_efa))
    return Scene(
        autoscaler,
        groups,
        managed,
        daemonsets,
        unknown_addons,
        plugins,
        efa_plugins,
        efa_pods,
        templates,
        pools,
        fits,
    )


# --- the rules: each returns its problems -----------------------------------------------------


def eks_addons_are_known(scene: Scene) -> list[str]:
    return list(scene.unknown_addons)


def the_autoscaler_is_deployed(scene: Scene) -> list[str]:
    if scene.autoscaler.manifest is None:
        return ["no cluster-autoscaler Deployment is attached to the cluster"]
    return []


def every_group_is_discovered(scene: Scene) -> list[str]:
    if scene.autoscaler.manifest is None:
        return []
    return [
        f"{g.name}: its ASG is not auto-discovered by the autoscaler's flags"
        for g in scene.groups
        if g not in scene.managed
    ]


def efa_pools_scale_up_and_run_the_efa_plugin(scene: Scene) -> list[str]:
    """An EFA pool's worker pod scales its groups up from zero and no group of another pool
    without EFA; the EFA device plugin runs on every EFA group's nodes and on no other."""
    problems = []
    if scene.efa_pods and not scene.efa_plugins:
        problems.append(
            f"no DaemonSet runs the EFA device plugin: EFA nodes advertise no {EFA_RESOURCE}"
        )
    plugin = scene.fits["efa plugin"]
    for g in scene.managed:
        pool = scene.pools[g.name]
        if pool in scene.efa_pods:
            pod = scene.efa_pods[pool]["containers"][0]["resources"]["limits"]
            why = scene.fits[f"efa pod {pool}"][g.name]
            if why is not None:
                problems.append(
                    f"{g.name}: a pod asking for {pod[NVIDIA_GPU]} GPUs and {pod[EFA_RESOURCE]} "
                    f"EFA cannot scale it up from zero: {why}"
                )
            if scene.efa_plugins and plugin[g.name] is not None:
                problems.append(
                    f"{g.name}: the EFA device plugin would not run on its nodes: {plugin[g.name]}"
                )
            continue
        problems += [
            f"{g.name}: an EFA pod of pool {other} would scale it up, but its nodes have no EFA"
            for other in scene.efa_pods
            if scene.fits[f"efa pod {other}"][g.name] is None
        ]
        if plugin[g.name] is None:
            problems.append(f"{g.name}: the EFA device plugin would run on this group without EFA")
    return problems


def the_device_plugin_is_deployed(scene: Scene) -> list[str]:
    if scene.plugins or not scene.gpu_groups:
        return []
    return [f"no DaemonSet runs {DEVICE_PLUGIN_IMAGE}: GPU nodes advertise no GPUs"]


def gpu_pods_scale_up_every_gpu_group(scene: Scene) -> list[str]:
    return [
        f"{g.name}: a {pod} cannot scale it up from zero: {scene.fits[pod][g.name]}"
        for g in scene.gpu_groups
        for pod in ("gpu pod", "gpu pod +10Gi disk")
        if scene.fits[pod][g.name] is not None
    ]


def pool_pods_scale_up_their_pool(scene: Scene) -> list[str]:
    problems = []
    for g in scene.gpu_groups:
        pool = scene.pools[g.name]
        if pool == "-":
            problems.append(
                f"{g.name}: its nodes carry no {POOL_LABEL} label: no pod can select it"
            )
        elif (why := scene.fits[f"pool pod {pool}"][g.name]) is not None:
            problems.append(f"{g.name}: a GPU pod selecting pool {pool} cannot scale it up: {why}")
    return problems


def pool_pods_stay_in_their_pool(scene: Scene) -> list[str]:
    gpu_pools = sorted({scene.pools[g.name] for g in scene.gpu_groups})
    return [
        f"{name}: a GPU pod selecting pool {pool} would scale it up"
        for pool in gpu_pools
        for name in scene.templates
        if scene.pools[name] != pool and scene.fits[f"pool pod {pool}"][name] is None
    ]


def plain_pods_stay_off_gpu_groups(scene: Scene) -> list[str]:
    return [
        f"{g.name}: a plain pod (no GPU toleration) would scale up a GPU group"
        for g in scene.gpu_groups
        if scene.fits["plain pod"][g.name] is None
    ]


def the_device_plugin_runs_on_gpu_groups_only(scene: Scene) -> list[str]:
    if not scene.plugins:
        return []
    fits = scene.fits["device plugin"]
    return [
        f"{g.name}: the device plugin would not run on its nodes: {fits[g.name]}"
        for g in scene.gpu_groups
        if fits[g.name] is not None
    ] + [
        f"{g.name}: the device plugin would run on this non-GPU group"
        for g in scene.system_groups
        if fits[g.name] is None
    ]


def the_autoscaler_stays_off_gpu_groups(scene: Scene) -> list[str]:
    if scene.autoscaler.pod is None:
        return []
    return [
        f"{g.name}: the autoscaler could run on this GPU group"
        for g in scene.gpu_groups
        if scene.fits["autoscaler"][g.name] is None
    ]


def the_autoscaler_has_a_home(scene: Scene) -> list[str]:
    if scene.autoscaler.pod is None:
        return []
    homes = [g for g in scene.system_groups if scene.fits["autoscaler"][g.name] is None]
    if not homes:
        return ["the autoscaler fits no group: nothing would scale anything"]
    if all(g.min_size == 0 for g in homes):
        return [
            "the autoscaler runs only on groups with min_size 0: at zero nothing scales them up"
        ]
    return []


RULES = (
    eks_addons_are_known,
    the_autoscaler_is_deployed,
    every_group_is_discovered,
    efa_pools_scale_up_and_run_the_efa_plugin,
    the_device_plugin_is_deployed,
    gpu_pods_scale_up_every_gpu_group,
    pool_pods_scale_up_their_pool,
    plain_pods_stay_off_gpu_groups,
    the_device_plugin_runs_on_gpu_groups_only,
    the_autoscaler_stays_off_gpu_groups,
    pool_pods_stay_in_their_pool,
    the_autoscaler_has_a_home,
)
"""Each rule reads the scene and returns its problems; the order is the report's."""


def largest_pods(scene: Scene) -> tuple[dict[str, LargestPod], list[str]]:
    """Per GPU group, the largest GPU pod it takes (on each type the group may launch), and a
    problem for every resource a pod may request enough of to scale a node up it cannot run on."""
    largest: dict[str, LargestPod] = {}
    problems: list[str] = []
    for g in scene.gpu_groups:
        try:
            joined = [live_node(g, scene.daemonsets, t) for t in g.instance_types]
        except KeyError as missing:
            problems.append(f"{g.name}: nodeadm's instance list has no {missing}: maxPods unknown")
            continue
        pod = largest[g.name] = largest_pod(g, scene.templates[g.name], joined)
        problems += [
            f"{g.name}: a GPU pod requesting more than {_amount(r, pod.runs[r])} and up to "
            f"{_amount(r, pod.scales_up[r])} of {r} scales a node up from zero that it "
            "cannot run on (the template does not know the kubelet's reservations)"
            for r in pod.gaps()
        ]
    return largest, problems


# --- the check ------------------------------------------------------------------------------


@dataclass(frozen=True)
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
    table: list[str]
    release: str
    """The autoscaler's image tag (``(not deployed)`` without its Deployment)."""
    buffers: dict[str, list[str]]
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


def warm_buffers(
    scene: Scene, objects: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, list[str]], list[str]]:
    """Buffer -> the groups its pods scale up, and the problems: a buffer the autoscaler's flags
    ignore, pods that fit no group or another pool's, or that scale up a group whose joining node
    they do not fit (the autoscaler would add node after node)."""
    buffers, problems = buffer_pods(objects)
    if any(b.name.startswith("CapacityBuffer/") for b in buffers):
        problems += [
            f"CapacityBuffers exist but the autoscaler lacks {flag}"
            for flag in CAPACITY_BUFFER_FLAGS
            if flag not in scene.autoscaler.args
        ]
    scaled: dict[str, list[str]] = {}
    for buffer in buffers:
        selected = buffer.pod.get("nodeSelector", {}).get(POOL_LABEL)
        scaled[buffer.name] = [
            n for n, node in scene.templates.items() if fit_failure(buffer.pod, node) is None
        ]
        if not scaled[buffer.name]:
            problems.append(
                f"{buffer.name}: its pods fit no group's template: nothing is kept warm"
            )
        problems += [
            f"{buffer.name}: its pods would scale up {n}, not a group of pool {selected}"
            for n in scaled[buffer.name]
            if scene.pools[n] != selected
        ]
        problems += _misfits_on_joining_nodes(scene, buffer, scaled[buffer.name])
    return scaled, problems


def _misfits_on_joining_nodes(scene: Scene, buffer: BufferPods, scaled: Sequence[str]) -> list[str]:
    problems = []
    for g in (g for g in scene.gpu_groups if g.name in scaled):
        for instance in g.instance_types:
            try:
                why = fit_failure(buffer.pod, live_node(g, scene.daemonsets, instance))
            except KeyError:
                continue  # reported by largest_pods (maxPods unknown)
            if why is not None:
                problems.append(
                    f"{buffer.name}: its pod scales up {g.name} but does not fit the "
                    f"{instance} node that joins ({why}): the autoscaler would add node "
                    "after node"
                )
    return problems


def simulate(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
) -> Simulation:
    """Run the autoscaler's decisions over the synthesized groups and manifests."""
    scene = read_scene(cluster, network, objects)
    largest, largest_problems = largest_pods(scene)
    buffers, buffer_problems = warm_buffers(scene, objects)
    balancing = balance(scene)
    problems = [p for rule in RULES for p in rule(scene)]
    problems += largest_problems + buffer_problems + balancing.problems
    return Simulation(
        flags=scene.autoscaler.flags,
        groups=scene.groups,
        templates=scene.templates,
        fits=scene.fits,
        similar_at_zero=balancing.at_zero,
        similar_live=balancing.live,
        pools=scene.pools,
        largest=largest,
        problems=problems,
        table=_table(scene, largest, balancing, buffers),
        release=scene.autoscaler.release,
        buffers=buffers,
    )


def _shape(node: Node) -> tuple[Any, ...]:
    return (
        node.capacity.get("cpu"),
        node.capacity.get("memory"),
        node.capacity.get(NVIDIA_GPU),
        node.labels.get("k8s.amazonaws.com/accelerator"),
    )


@dataclass(frozen=True)
class Balancing:
    """Group -> other group -> None (a scale-up is balanced across both) or why not: all at zero,
    and with the group's one live node against the others' templates; and what is wrong."""

    at_zero: dict[str, dict[str, str | None]]
    live: dict[str, dict[str, str | None]]
    problems: list[str]


def balance(scene: Scene) -> Balancing:
    """Which groups a scale-up is balanced across: a GPU pod's for GPU groups, a plain pod's for
    the others. Groups of one pool and capacity type (one shape by construction) must be
    balanced; groups of different pools, capacity types or shapes must not be; the system group
    with none."""
    flags = scene.autoscaler.flags
    at_zero: dict[str, dict[str, str | None]] = {}
    live: dict[str, dict[str, str | None]] = {}
    for g in scene.managed:
        pod = GPU_POD if g.gpu else PLAIN_POD

        def fits(node: Node, pod: Mapping[str, Any] = pod) -> bool:
            return fit_failure(pod, node) is None

        at_zero[g.name] = similar_groups(g.name, scene.templates, flags, fits)
        nodes = {**scene.templates, g.name: live_template(g, scene.daemonsets, flags)}
        live[g.name] = similar_groups(g.name, nodes, flags, fits)
    problems = [
        problem
        for state, result in (("all at zero", at_zero), ("one live node", live))
        for group, other, why in _pairs(state, result)
        if (problem := _pair_problem(scene, state, group, other, why)) is not None
    ]
    return Balancing(at_zero, live, problems)


def _pairs(
    state: str, result: Mapping[str, Mapping[str, str | None]]
) -> list[tuple[str, str, str | None]]:
    """(group, other, why) of every compared pair; all at zero, each unordered pair once."""
    seen: set[frozenset[str]] = set()
    pairs = []
    for group, others in result.items():
        for other, why in others.items():
            if state == "all at zero" and frozenset((group, other)) in seen:
                continue
            seen.add(frozenset((group, other)))
            pairs.append((group, other, why))
    return pairs


def _pair_problem(scene: Scene, state: str, group: str, other: str, why: str | None) -> str | None:
    """What is wrong with the autoscaler balancing (``why`` None) or not balancing two groups."""
    by_name = {g.name: g for g in scene.managed}
    a, b = by_name[group], by_name[other]
    pools = scene.pools
    same_shape = _shape(scene.templates[group]) == _shape(scene.templates[other])
    expected = (
        a.gpu
        and b.gpu
        and pools[group] == pools[other] != "-"
        and a.nodegroup.capacity_type == b.nodegroup.capacity_type
    )
    where = state if state == "all at zero" else f"a live node in {group}"
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
        return f"{group} and {other} are balanced ({where}) although {differ}"
    if why is not None and expected:
        if same_shape:
            return f"{group} and {other} are not balanced ({where}): {why}"
        if state == "all at zero":
            return f"pool {pools[group]} has groups of different shapes: {group} and {other}"
    return None


# --- the report -------------------------------------------------------------------------------


def _table(
    scene: Scene,
    largest: Mapping[str, LargestPod],
    balancing: Balancing,
    buffers: Mapping[str, Sequence[str]],
) -> list[str]:
    return [
        *_group_rows(scene),
        *textwrap.wrap(TABLE_LEGEND, 88),
        *_balancing_lines(scene, balancing),
        *_largest_lines(scene, largest),
        *_buffer_lines(buffers),
    ]


def _group_rows(scene: Scene) -> list[str]:
    def yes(pod: str, name: str) -> str:
        return "yes" if scene.fits.get(pod, {}).get(name, "absent") is None else "no"

    def efa_pod_fits(name: str) -> str:
        """Its own pool's EFA pod on an EFA group; any EFA pod on another ("-" without one)."""
        efa = [pod for pod in scene.fits if pod.startswith("efa pod ")]
        own = f"efa pod {scene.pools[name]}"
        if own in efa:
            return yes(own, name)
        if not efa:
            return "-"
        return "yes" if any(scene.fits[pod][name] is None for pod in efa) else "no"

    def quantity(node: Node, name: str, unit: int, suffix: str) -> str:
        value = node.capacity.get(name)
        if not value:
            return "-"
        if name == "cpu" and value.denominator != 1:
            return f"{int(value * 1000)}m"
        return f"{int(value // unit)}{suffix}"

    rows = [TABLE_HEADER]
    for group in scene.managed:
        node = scene.templates[group.name]
        pool = scene.pools[group.name]
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
                quantity(node, EFA_RESOURCE, 1, ""),
                yes("gpu pod", group.name),
                yes(f"pool pod {pool}", group.name) if group.gpu else "-",
                yes("gpu pod +10Gi disk", group.name),
                yes("plain pod", group.name),
                yes("device plugin", group.name),
                yes("autoscaler", group.name),
                efa_pod_fits(group.name),
                yes("efa plugin", group.name),
            )
        )
    efa = TABLE_HEADER.index("efa")
    parts = TABLE_COLUMNS + ((EFA_TABLE_COLUMNS,) if any(r[efa] != "-" for r in rows[1:]) else ())
    return [line for columns in parts for line in _columns(rows, columns)]


def _balancing_lines(scene: Scene, balancing: Balancing) -> list[str]:
    flags = scene.autoscaler.flags
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
    lines = [f"balancing ({how}):"]
    by_name = {g.name: g for g in scene.managed}
    for state, result in (
        ("all at zero", balancing.at_zero),
        ("one live node, others at zero", balancing.live),
    ):
        sets = {
            tuple(sorted([group, *(o for o, why in others.items() if why is None)]))
            for group, others in result.items()
        }
        for members in sorted(sets, key=lambda s: (not by_name[s[0]].gpu, s)):
            first = by_name[members[0]]
            what = (
                f"pool {scene.pools[first.name]} ({first.nodegroup.capacity_type or '-'})"
                if first.gpu
                else f"system group {first.name}"
            )
            spread = " + ".join(members) if len(members) > 1 else f"{members[0]} alone"
            lines.append(f"  {state}: {what}: a scale-up is spread over {spread}")
    return lines


def _largest_lines(scene: Scene, largest: Mapping[str, LargestPod]) -> list[str]:
    if not largest:
        return []

    def amounts(values: Mapping[str, Fraction]) -> str:
        return ", ".join(_amount(r, values[r]) for r in LARGEST_POD_RESOURCES)

    lines = [
        "largest single GPU pod (cpu, memory, ephemeral-storage): what scales a group up "
        "from zero / what the node that joins can run:"
    ]
    shown: set[tuple[str, str]] = set()
    for group in scene.managed:
        pod = largest.get(group.name)
        key = (scene.pools[group.name], group.instance_types[0])
        if pod is None or key in shown:
            continue
        shown.add(key)
        lines.append(f"  pool {key[0]} ({key[1]}): {amounts(pod.scales_up)} / {amounts(pod.runs)}")
    return lines


def _buffer_lines(buffers: Mapping[str, Sequence[str]]) -> list[str]:
    if not buffers:
        return []
    return ["warm capacity (buffer pods the autoscaler must find room for):"] + [
        f"  {name}: scales up {' + '.join(groups) if groups else 'no group'}"
        for name, groups in buffers.items()
    ]


def _runs_image(obj: Mapping[str, Any], image: str) -> bool:
    """Whether a container runs ``image`` (from its registry, or from a mirror of it)."""
    containers = obj["spec"]["template"]["spec"]["containers"]
    repositories = [repository_of(c.get("image", "")) for c in containers]
    return any(r == image or r.endswith(f"/{image}") for r in repositories)


def _runs_repository(obj: Mapping[str, Any], repository: str) -> bool:
    """A container image ``<any registry><repository>:<tag>``."""
    containers = obj["spec"]["template"]["spec"]["containers"]
    return any(f"{repository}:" in c.get("image", "") for c in containers)


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
    pools = sorted({simulation.pools[g.name] for g in gpu if g.name in simulation.pools})
    summary = (
        f"{len(simulation.templates)} groups ({len(gpu)} GPU, {len(pools)} "
        f"pool{'s' if len(pools) != 1 else ''}) as cluster-autoscaler {simulation.release} sees "
        "them: scale-from-zero, placement, balancing, largest pod"
    )
    status: Status = "FAIL" if simulation.problems else "PASS"
    return CheckResult("autoscaler", status, summary, simulation.problems, simulation.table)


def _columns(rows: Sequence[tuple[str, ...]], columns: tuple[str, ...]) -> list[str]:
    """``columns`` of ``rows`` (the first row names them), each padded to its widest cell."""
    picked = [tuple(str(r[rows[0].index(c)]) for c in columns) for r in rows]
    widths = [max(len(r[i]) for r in picked) for i in range(len(columns))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in picked]
