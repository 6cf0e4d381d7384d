"""What the kubelet of an EKS AL2023 node offers, as AL2023's ``nodeadm`` configures it.

Read in awslabs/amazon-eks-ami at tag v20260724 (``nodeadm/internal/kubelet/config.go``) and
kubernetes/kubernetes ``pkg/kubelet/cm/node_container_manager_linux.go``. The cluster
autoscaler cannot know these numbers (its template node has allocatable = capacity), so the
``node-template/resources/ephemeral-storage`` tag must carry what the kubelet will really offer.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

MIB = 1024 * 1024

KUBE_RESERVED_EPHEMERAL_STORAGE_MIB = 1024
"""``kubeReserved["ephemeral-storage"] = "1Gi"``: config.go ``withDefaultReservedResources``."""

EVICTION_HARD_NODEFS_AVAILABLE = 0.10
"""``evictionHard["nodefs.available"] = "10%"``: config.go ``defaultKubeletSubConfig``."""

EVICTION_HARD_MEMORY_AVAILABLE_MIB = 100
"""``evictionHard["memory.available"] = "100Mi"``: config.go ``defaultKubeletSubConfig``."""

ROOT_FILESYSTEM_OVERHEAD_MIB = 512
"""Our allowance, not an upstream number: the root volume holds the AMI's boot partitions and an
XFS filesystem whose log is not counted in its size. A 20 GiB EKS root volume shows 20959212
1K-blocks (12 MiB less; awslabs/amazon-eks-ami PR #1126); 512 MiB errs on the small side, the
safe side: a template that promises more than the node has makes the autoscaler add nodes the
pod still does not fit on."""


def ephemeral_storage_capacity_mib(root_volume_gib: int) -> int:
    """The kubelet's nodefs capacity: the root filesystem (``/var/lib/kubelet`` is on it)."""
    return root_volume_gib * 1024 - ROOT_FILESYSTEM_OVERHEAD_MIB


def allocatable_ephemeral_storage_bytes(capacity_bytes: int) -> int:
    """Allocatable = capacity - kube-reserved - system-reserved (none) - hard eviction threshold
    (node_container_manager_linux.go ``getNodeAllocatableAbsoluteImpl``/``hardEvictionReservation``:
    a percentage threshold is taken of capacity)."""
    kube_reserved = KUBE_RESERVED_EPHEMERAL_STORAGE_MIB * MIB
    eviction = math.ceil(capacity_bytes * EVICTION_HARD_NODEFS_AVAILABLE)
    return capacity_bytes - kube_reserved - eviction


def ephemeral_storage_allocatable_mib(root_volume_gib: int) -> int:
    """What the kubelet offers on a root volume of this size, rounded down to whole MiB."""
    capacity = ephemeral_storage_capacity_mib(root_volume_gib) * MIB
    return allocatable_ephemeral_storage_bytes(capacity) // MIB


def ephemeral_storage_quantity(root_volume_gib: int) -> str:
    """The ``node-template/resources/ephemeral-storage`` tag value (``"90675Mi"`` for 100 GiB)."""
    return f"{ephemeral_storage_allocatable_mib(root_volume_gib)}Mi"


def kube_reserved_cpu_millicores(vcpus: int) -> int:
    """6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% above: config.go
    ``getCPUMillicoresToReserve``/``getResourceToReserveInRange`` (hundredths of a percent)."""
    total = vcpus * 1000
    ranges = ((0, 1000, 600), (1000, 2000, 100), (2000, 4000, 50), (4000, total, 25))
    return sum(
        (min(total, end) - start) * pct // 10000 for start, end, pct in ranges if total > start
    )


def kube_reserved_memory_mib(max_pods: int) -> int:
    """``11 * maxPods + 255``: config.go ``getMemoryMebibytesToReserve``."""
    return 11 * max_pods + 255


INSTANCE_INFO = Path(__file__).parent / "data" / "nodeadm-instance-info.tsv"
"""Per instance type, the ENIs of its default network card and the IPv4 addresses per ENI:
nodeadm's embedded ``internal/kubelet/instance-info.jsonl`` (facts copied at tag v20260724)."""


def _load_instance_info() -> dict[str, tuple[int, int]]:
    with INSTANCE_INFO.open(encoding="utf-8") as lines:
        rows = [line.rstrip("\n").split("\t") for line in lines if not line.startswith("#")]
    return {name: (int(enis), int(ips)) for name, enis, ips in rows}


_INSTANCE_INFO = _load_instance_info()


def standard_max_pods(default_enis: int, ipv4_per_eni: int) -> int:
    """``ENIs * (IPv4 per ENI - 1) + 2``: eni_max_pods.go ``calculateStandardMaxPods``."""
    return default_enis * (ipv4_per_eni - 1) + 2


def max_pods(instance_type: str) -> int:
    """The kubelet's ``maxPods`` on an AL2023 node without a ``maxPodsExpression``: config.go
    ``withDefaultReservedResources`` -> eni_max_pods.go ``CalcMaxPods`` over the embedded list.
    ``KeyError`` for a type the list lacks (nodeadm would ask EC2, which is not done offline)."""
    default_enis, ipv4_per_eni = _INSTANCE_INFO[instance_type]
    return standard_max_pods(default_enis, ipv4_per_eni)


def allocatable_cpu_millicores(vcpus: int) -> int:
    """Capacity less kube-reserved; nodeadm sets no ``systemReserved`` (only its cgroup) and the
    kubelet has no CPU eviction threshold (node_container_manager_linux.go
    ``getNodeAllocatableAbsoluteImpl``)."""
    return vcpus * 1000 - kube_reserved_cpu_millicores(vcpus)


def allocatable_memory_mib(memory_capacity_mib: int, instance_type: str) -> int:
    """A node's allocatable memory given the memory its kernel reports: capacity less
    kube-reserved (from ``maxPods``) less the ``memory.available`` hard eviction threshold."""
    reserved = kube_reserved_memory_mib(max_pods(instance_type))
    return memory_capacity_mib - reserved - EVICTION_HARD_MEMORY_AVAILABLE_MIB


REPORTED_MEMORY_FRACTION = Fraction(15944120, 16 * 1024 * 1024)
"""The share of its instance type's memory a running node's kernel reports (the kubelet's memory
capacity), 95.03%: of two real m5.xlarge nodes (16 GiB) in cluster-autoscaler
processors/nodegroupset/compare_nodegroups_test.go
``TestNodesSimilarVariousLargeMemoryRequirementsM5XLarge`` (1.36.1), one reports 16116152Ki and
one 15944120Ki; this is the smaller. Not a nodeadm number: nodeadm (config.go
``withDefaultReservedResources``, v20260724) reserves memory from ``maxPods`` alone and never
reads the machine's memory; the kernel (firmware and its own reservations) decides it."""

TEMPLATE_MEMORY_FRACTION = Fraction(94, 100)
"""Our allowance, not an upstream number: the node-template memory tag takes 94% of the instance
type's memory as what the kernel reports, below ``REPORTED_MEMORY_FRACTION`` because that is one
instance type's figure and larger types' kernels keep a different share. It errs on the small
side, the safe side: a template that promises more than the node offers makes the autoscaler add
nodes the pod still does not fit on (verify's largest-pod check fails if it ever does)."""


def reported_memory_mib(instance_memory_mib: int, fraction: Fraction) -> int:
    """The memory a node of ``instance_memory_mib`` reports, as a share of it, in whole MiB."""
    return int(instance_memory_mib * fraction)


def cpu_quantity(vcpus: int) -> str:
    """The ``node-template/resources/cpu`` tag value: what the kubelet will offer, e.g.
    ``"3920m"`` for 4 vCPUs."""
    return f"{allocatable_cpu_millicores(vcpus)}m"


def memory_quantity(instance_memory_mib: int, instance_types: tuple[str, ...]) -> str:
    """The ``node-template/resources/memory`` tag value: what the kubelet will offer on the
    group's smallest node (its types share one shape; kube-reserved follows each type's
    ``maxPods``), with the memory the kernel reports taken as the instance's less the allowance."""
    reported = reported_memory_mib(instance_memory_mib, TEMPLATE_MEMORY_FRACTION)
    return f"{min(allocatable_memory_mib(reported, t) for t in instance_types)}Mi"


# Fast image pull: the ``FastImagePull`` feature gate of a NodeConfig (read in
# awslabs/amazon-eks-ami at tag v20260724, commit 81fec2e).
FAST_IMAGE_PULL_GATE = "FastImagePull"
"""``api/v1alpha1/nodeconfig_types.go`` ``Feature``: "enables a parallel image pull ... will use
more instance CPU, Memory, and EBS I/O"; marked experimental in ``doc/examples.md``."""

FAST_IMAGE_PULL_MIN_CPU_MILLICORES = 4000
FAST_IMAGE_PULL_MIN_MEMORY_MIB = 7 * 1024
"""``internal/containerd/config.go`` ``UseSOCISnapshotter``: the gate is ignored unless the node
has ``totalCPUMillicores >= 4000`` and online memory ``>= 7*gibibyte``."""

FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS = 600
"""``doc/examples.md``, "Enabling fast image pull": "We recommend at least 600MiB/s throughput.
Below that value, you may see longer image pull times with this flag. Higher values up to
1000MiB/s and 16k IOPs may result in better performance." """


def fast_image_pull_ignored(vcpus: int, memory_mib: int) -> str | None:
    """Why nodeadm would ignore ``FastImagePull`` on an instance of this shape, or ``None``.

    The memory nodeadm reads is what the kernel reports, a few percent below the instance's
    (``TEMPLATE_MEMORY_FRACTION``, our margin below ``REPORTED_MEMORY_FRACTION``): the check uses
    that lower figure.
    """
    reported_mib = reported_memory_mib(memory_mib, TEMPLATE_MEMORY_FRACTION)
    if vcpus * 1000 < FAST_IMAGE_PULL_MIN_CPU_MILLICORES:
        return f"{vcpus} vCPUs, nodeadm needs {FAST_IMAGE_PULL_MIN_CPU_MILLICORES // 1000}"
    if reported_mib < FAST_IMAGE_PULL_MIN_MEMORY_MIB:
        return (
            f"about {reported_mib} MiB of memory as the kernel reports it, nodeadm needs "
            f"{FAST_IMAGE_PULL_MIN_MEMORY_MIB} MiB (7 GiB)"
        )
    return None


NODECONFIG_API_VERSION = "node.eks.aws/v1alpha1"


def node_config(*, fast_image_pull: bool) -> dict[str, Any] | None:
    """The NodeConfig a launch template's user data carries, or ``None`` when it needs none.

    Only feature gates are set: EKS writes the
    cluster's details into its own part and nodeadm merges the two (``configprovider/mime.go``
    ``ParseMultipart`` -> ``MergeNodeConfigs``).
    """
    if not fast_image_pull:
        return None
    return {
        "apiVersion": NODECONFIG_API_VERSION,
        "kind": "NodeConfig",
        "spec": {"featureGates": {FAST_IMAGE_PULL_GATE: True}},
    }
