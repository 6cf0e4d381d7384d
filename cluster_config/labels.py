"""Node labels and the GPU taint: one definition for the node groups, the config rules and the
charts, so the autoscaler's node selector and the labels the nodes carry cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cluster_config.catalog import accelerator_label, gpu_memory_gb

POOL_LABEL = "pool"
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
GPU_MEMORY_LABEL = "gpu-memory-gb"
"""Memory of one GPU in GB (``"24"``), from the catalog, so a pod can select on it while the group
is at zero (``nodeAffinity`` ``Gt``/``Lt`` compare it as an integer). Our own key, not NVIDIA GPU
feature discovery's ``nvidia.com/gpu.memory``: GFD writes the device's real MiB there (23028 on an
A10G, not 24576), which the catalog cannot know, and GFD would overwrite the label on a live node
so the node and the autoscaler's template would disagree."""

SYSTEM_NODE_LABELS = {POOL_LABEL: "system"}
"""Labels of the system group's nodes; also the autoscaler's node selector."""

GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT = "NoSchedule"

RESERVED_GPU_LABELS = frozenset(
    {POOL_LABEL, ACCELERATOR_LABEL, GPU_PRESENT_LABEL, GPU_MEMORY_LABEL}
)
"""Labels ``gpu_node_labels`` sets; a config may not set them itself."""


def gpu_node_labels(instance_types: Sequence[str], extra: Mapping[str, str]) -> dict[str, str]:
    """Labels of a GPU group's nodes; equal across groups so the autoscaler balances them."""
    return {
        POOL_LABEL: "gpu",
        ACCELERATOR_LABEL: accelerator_label(tuple(instance_types)),
        GPU_PRESENT_LABEL: "true",
        GPU_MEMORY_LABEL: str(gpu_memory_gb(instance_types)),
        **extra,
    }
