"""The ``autoscaler`` check: what the cluster autoscaler will decide about the synthesized groups.

From the templates (``AWS::EKS::Nodegroup``, ``Custom::AsgNodeTemplateTags``, the subnets'
zones) and the attached manifests (the autoscaler's flags, the DaemonSets), it builds each
group's template node as the autoscaler's AWS provider does (``verify/autoscaler_model.py``),
then asks: can a GPU pod scale each GPU group up from zero, can a plain pod only reach the
system group, does the device plugin land on every GPU node, does the autoscaler itself run
only on the system group, and which groups does it balance, all at zero and with one live node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cluster_config.catalog import ALL_INSTANCE_TYPES, InstanceShape
from cluster_config.nodeadm import (
    EVICTION_HARD_MEMORY_AVAILABLE_MIB,
    ephemeral_storage_allocatable_mib,
    ephemeral_storage_capacity_mib,
    kube_reserved_cpu_millicores,
    kube_reserved_memory_mib,
)
from verify.autoscaler_model import (
    NVIDIA_GPU,
    TEMPLATE_PODS,
    AutoscalerFlags,
    InstanceType,
    ManagedNodegroup,
    Node,
    build_node_from_template,
    parse_flags,
    similar_groups,
)
from verify.report import CheckResult
from verify.scheduler_model import add_pod, fit_failure

GPU_TAINT_KEY = "nvidia.com/gpu"
CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin"

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

LIVE_MEMORY_FRACTION = Fraction(15944120, 16 * 1024 * 1024)
"""A live node reports less memory than its instance type (kernel, firmware): an m5.xlarge
(16 GiB) reports 15944120Ki in cluster-autoscaler's compare_nodegroups_test.go
``TestNodesSimilarVariousLargeMemoryRequirementsM5XLarge``: 95%."""

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


def template_node(group: GroupFacts, daemonsets: Sequence[Mapping[str, Any]]) -> Node:
    """The group's template node at zero, with the DaemonSet pods that would run on it
    (cluster-autoscaler simulator/node_info_utils.go ``TemplateNodeInfoFromNodeGroupTemplate``).
    The instance type is the first of the group: EKS lists them as the ASG's mixed-instances
    overrides, and aws_wrapper.go ``getInstanceTypesForAsgs`` takes
    ``instanceTypesOverrides[0]``."""
    node = build_node_from_template(
        f"eks-{group.name}",
        group.zones,
        instance_type(group.instance_types[0]),
        group.asg_tags,
        group.nodegroup,
    )
    _add_daemonset_pods(node, daemonsets)
    return node


def live_node(template: Node, group: GroupFacts, daemonsets: Sequence[Mapping[str, Any]]) -> Node:
    """A running node of the group as the kubelet and EKS register it (our model, not the
    autoscaler's): kubelet, cloud-provider-aws and EKS labels instead of the invented ones;
    memory as a real node reports it; allocatable per AL2023 nodeadm (cluster_config/nodeadm.py).
    Resources only the template has are kept, as processors/nodeinfosprovider/
    asg_tag_resource_node_info_provider.go ``Process`` adds them to a live node's info."""
    instance = instance_type(group.instance_types[0])
    disk_gib = group.root_volume_gib
    zone = template.labels["topology.kubernetes.io/zone"]
    labels = {k: v for k, v in template.labels.items() if k not in TEMPLATE_ONLY_LABELS}
    labels.pop("topology.ebs.csi.aws.com/zone", None)  # set by the EBS CSI driver: not installed
    labels.update(
        {
            "kubernetes.io/hostname": f"ip-10-0-{len(group.name)}-1.ec2.internal",
            "beta.kubernetes.io/arch": instance.architecture,
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/instance-type": instance.name,
            "failure-domain.beta.kubernetes.io/region": zone[:-1],
            "failure-domain.beta.kubernetes.io/zone": zone,
            "topology.k8s.aws/zone-id": f"usw2-az{ord(zone[-1]) - 96}",
            "k8s.io/cloud-provider-aws": "a1b2c3d4e5f6",
            "eks.amazonaws.com/nodegroup-image": "ami-0123456789abcdef0",
            "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0123456789abcdef0",
            "eks.amazonaws.com/sourceLaunchTemplateVersion": "1",
        }
    )
    memory = Fraction(instance.memory_mib * 1024 * 1024) * LIVE_MEMORY_FRACTION
    memory = Fraction(int(memory) // 1024 * 1024)
    mib = Fraction(1024 * 1024)
    capacity = dict(template.capacity)
    capacity.update(
        {
            "memory": memory,
            "ephemeral-storage": ephemeral_storage_capacity_mib(disk_gib) * mib,
        }
    )
    allocatable = dict(capacity)
    allocatable.update(
        {
            "cpu": capacity["cpu"] - Fraction(kube_reserved_cpu_millicores(instance.vcpu), 1000),
            "memory": memory
            - (kube_reserved_memory_mib(TEMPLATE_PODS) + EVICTION_HARD_MEMORY_AVAILABLE_MIB) * mib,
            "ephemeral-storage": ephemeral_storage_allocatable_mib(disk_gib) * mib,
        }
    )
    node = Node(f"{group.name}-live", labels, list(template.taints), capacity, allocatable)
    _add_daemonset_pods(node, daemonsets)
    return node


def _add_daemonset_pods(node: Node, daemonsets: Sequence[Mapping[str, Any]]) -> None:
    for daemonset in daemonsets:
        spec = daemonset["spec"]["template"]["spec"]
        if fit_failure(spec, node) is None:
            add_pod(node, spec)


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
    problems: list[str]
    table: list[str]


def simulate(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
) -> Simulation:
    """Run the autoscaler's decisions over the synthesized groups and manifests."""
    problems: list[str] = []
    deployment = _find(objects, "Deployment", "cluster-autoscaler")
    daemonsets = [o for o in objects if o["kind"] == "DaemonSet"]
    # One DaemonSet, or one per time-slicing config (each selected by its node label): a node
    # gets the plugin if any of them lands on it.
    plugins = [d for d in daemonsets if _runs_image(d, DEVICE_PLUGIN_IMAGE)]
    plugin = plugins[0] if plugins else None
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

    pods: dict[str, Mapping[str, Any]] = {
        "gpu pod": GPU_POD,
        "gpu pod +10Gi disk": GPU_POD_WITH_STORAGE,
        "plain pod": PLAIN_POD,
    }
    if autoscaler_pod:
        pods["autoscaler"] = autoscaler_pod
    if plugin is not None:
        pods["device plugin"] = plugin["spec"]["template"]["spec"]
    fits = {
        pod: {name: fit_failure(spec, node) for name, node in templates.items()}
        for pod, spec in pods.items()
    }
    for other in plugins[1:]:
        for name, node in templates.items():
            if fit_failure(other["spec"]["template"]["spec"], node) is None:
                fits["device plugin"][name] = None

    if plugin is None and gpu_groups:
        problems.append(f"no DaemonSet runs {DEVICE_PLUGIN_IMAGE}: GPU nodes advertise no GPUs")
    for g in gpu_groups:
        for pod in ("gpu pod", "gpu pod +10Gi disk"):
            if fits[pod][g.name] is not None:
                problems.append(
                    f"{g.name}: a {pod} cannot scale it up from zero: {fits[pod][g.name]}"
                )
        if fits["plain pod"][g.name] is None:
            problems.append(f"{g.name}: a plain pod (no GPU toleration) would scale up a GPU group")
        if plugin is not None and fits["device plugin"][g.name] is not None:
            why = fits["device plugin"][g.name]
            problems.append(f"{g.name}: the device plugin would not run on its nodes: {why}")
        if autoscaler_pod and fits["autoscaler"][g.name] is None:
            problems.append(f"{g.name}: the autoscaler could run on this GPU group")
    for g in system_groups:
        if plugin is not None and fits["device plugin"][g.name] is None:
            problems.append(f"{g.name}: the device plugin would run on this non-GPU group")
    if autoscaler_pod:
        homes = [g for g in system_groups if fits["autoscaler"][g.name] is None]
        if not homes:
            problems.append("the autoscaler fits no group: nothing would scale anything")
        elif all(g.min_size == 0 for g in homes):
            problems.append(
                "the autoscaler runs only on groups with min_size 0: at zero nothing scales them up"
            )

    similar_at_zero, similar_live = _balancing(flags, gpu_groups, templates, daemonsets, problems)
    simulation = Simulation(
        flags, groups, templates, fits, similar_at_zero, similar_live, problems, []
    )
    simulation.table = _table(simulation, managed)
    return simulation


def _shape(node: Node) -> tuple[Any, ...]:
    return (
        node.capacity.get("cpu"),
        node.capacity.get("memory"),
        node.capacity.get(NVIDIA_GPU),
        node.labels.get("k8s.amazonaws.com/accelerator"),
    )


def _balance_set(node: Node) -> tuple[Any, ...]:
    """What groups a scale-up should be spread over share: the node shape, the ``pool`` label
    (one pool's groups; two pools of one shape stay apart) and the capacity type (a pool's
    on-demand fallback is not balanced with its spot groups)."""
    return (node.labels.get("pool"), node.labels.get(CAPACITY_TYPE_LABEL), *_shape(node))


def _balancing(
    flags: AutoscalerFlags,
    gpu_groups: Sequence[GroupFacts],
    templates: Mapping[str, Node],
    daemonsets: Sequence[Mapping[str, Any]],
    problems: list[str],
) -> tuple[dict[str, dict[str, str | None]], dict[str, dict[str, str | None]]]:
    """Which GPU groups a GPU pod's scale-up is balanced across: all at zero, and with the
    group's one live node against the others' templates. Groups of one shape must balance;
    groups of different shapes must not."""
    gpu_templates = {g.name: templates[g.name] for g in gpu_groups}

    def fits(node: Node) -> bool:
        return fit_failure(GPU_POD, node) is None

    at_zero = {g: similar_groups(g, gpu_templates, flags, fits) for g in gpu_templates}
    live: dict[str, dict[str, str | None]] = {}
    for g in gpu_groups:
        nodes = dict(gpu_templates)
        nodes[g.name] = live_node(templates[g.name], g, daemonsets)
        live[g.name] = similar_groups(g.name, nodes, flags, fits)
    seen: set[tuple[str, frozenset[str]]] = set()
    for state, result in (("all at zero", at_zero), ("one live node", live)):
        for group, others in result.items():
            for other, why in others.items():
                if state == "all at zero" and (state, frozenset((group, other))) in seen:
                    continue
                seen.add((state, frozenset((group, other))))
                where = state if state == "all at zero" else f"a live node in {group}"
                same_shape = _balance_set(gpu_templates[group]) == _balance_set(
                    gpu_templates[other]
                )
                if same_shape and why is not None:
                    problems.append(f"{group} and {other} are not balanced ({where}): {why}")
                if not same_shape and why is None:
                    problems.append(
                        f"{group} and {other} are balanced ({where}) although their nodes differ"
                    )
    return at_zero, live


def _table(simulation: Simulation, managed: Sequence[GroupFacts]) -> list[str]:
    def yes(pod: str, name: str) -> str:
        return "yes" if simulation.fits.get(pod, {}).get(name, "absent") is None else "no"

    def quantity(node: Node, name: str, unit: int, suffix: str) -> str:
        value = node.capacity.get(name)
        return "-" if not value else f"{int(value // unit)}{suffix}"

    rows = [
        (
            "group",
            "zone",
            "type",
            "cpu",
            "memory",
            "gpu",
            "disk",
            "taint",
            "gpu pod",
            "+10Gi",
            "plain",
            "plugin",
            "CA",
        ),
    ]
    for group in managed:
        node = simulation.templates[group.name]
        rows.append(
            (
                group.name,
                ",".join(z[-1] for z in group.zones) if len(group.zones) > 1 else group.zones[0],
                group.instance_types[0],
                quantity(node, "cpu", 1, ""),
                quantity(node, "memory", 2**30, "Gi"),
                quantity(node, NVIDIA_GPU, 1, ""),
                quantity(node, "ephemeral-storage", 2**30, "Gi"),
                ",".join(sorted({f"{t.key}:{t.effect}" for t in node.taints})) or "-",
                yes("gpu pod", group.name),
                yes("gpu pod +10Gi disk", group.name),
                yes("plain pod", group.name),
                yes("device plugin", group.name),
                yes("autoscaler", group.name),
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
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
    for state, result in (
        ("all at zero", simulation.similar_at_zero),
        ("one live node, others at zero", simulation.similar_live),
    ):
        sets = {
            tuple(sorted([group, *(o for o, why in others.items() if why is None)]))
            for group, others in result.items()
        }
        spread = "; ".join(" + ".join(s) for s in sorted(sets)) or "no GPU group"
        lines.append(f"  {state}: a GPU pod's scale-up is spread over {spread}")
    return lines


def _runs_image(obj: Mapping[str, Any], image: str) -> bool:
    containers = obj["spec"]["template"]["spec"]["containers"]
    return any(c.get("image", "").startswith(f"{image}:") for c in containers)


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
    summary = (
        f"{len(simulation.templates)} groups ({len(gpu)} GPU) as cluster-autoscaler {release} "
        "sees them: scale-from-zero, placement, balancing"
    )
    if simulation.problems:
        return CheckResult("autoscaler", "FAIL", summary, simulation.problems, simulation.table)
    return CheckResult("autoscaler", "PASS", summary, simulation.problems, simulation.table)
