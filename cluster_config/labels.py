"""Node labels and the GPU taint: one definition for the node groups, the config rules and the
charts, so the autoscaler's node selector and the labels the nodes carry cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cluster_config.catalog import accelerator_label

POOL_LABEL = "pool"
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"

SYSTEM_NODE_LABELS = {POOL_LABEL: "system"}
"""Labels of the system group's nodes; also the autoscaler's node selector."""

GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT = "NoSchedule"

RESERVED_GPU_LABELS = frozenset({POOL_LABEL, ACCELERATOR_LABEL, GPU_PRESENT_LABEL})
"""Labels ``gpu_node_labels`` sets; a config may not set them itself."""


def gpu_node_labels(instance_types: Sequence[str], extra: Mapping[str, str]) -> dict[str, str]:
    """Labels of a GPU group's nodes; equal across groups so the autoscaler balances them."""
    return {
        POOL_LABEL: "gpu",
        ACCELERATOR_LABEL: accelerator_label(tuple(instance_types)),
        GPU_PRESENT_LABEL: "true",
        **extra,
    }
