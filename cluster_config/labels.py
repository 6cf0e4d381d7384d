"""Node label keys and the GPU taint: one definition for the node-group specs, the config rules
and the charts, so the autoscaler's node selector and the labels the nodes carry cannot drift
apart. The labels of each group are assembled in one place: ``cluster_config.node_groups``."""

from __future__ import annotations

from typing import Final

from cluster_config.gpu_sharing import SHARING_CONFIG_LABEL

POOL_LABEL = "pool"
"""``pool=<pool name>`` on a GPU pool's nodes, ``pool=system`` on the system group's: the
autoscaler balances groups whose ``pool`` is equal (``--balancing-label=pool``), and a workload
picks a pool with ``nodeSelector: {pool: <name>}``."""
SYSTEM_POOL = "system"
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
GPU_MEMORY_LABEL = "gpu-memory-gb"
"""Memory of one GPU in GB (``"24"``), from the catalog, so a pod can select on it while the group
is at zero (``nodeAffinity`` ``Gt``/``Lt`` compare it as an integer). Our own key, not NVIDIA GPU
feature discovery's ``nvidia.com/gpu.memory``: GFD writes the device's real MiB there (23028 on an
A10G, not 24576), which the catalog cannot know, and GFD would overwrite the label on a live node
so the node and the autoscaler's template would disagree."""
CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"
"""Set by EKS on every managed node (and by the autoscaler on its template nodes)."""

SYSTEM_NODE_LABELS = {POOL_LABEL: SYSTEM_POOL}
"""Labels of the system group's nodes; also the autoscaler's node selector."""

NODE_TEMPLATE_PREFIX = "k8s.io/cluster-autoscaler/node-template"
"""ASG tags the autoscaler builds a group's template node from while it has no node:
``<prefix>/label/<k>``, ``<prefix>/taint/<k>``, ``<prefix>/resources/<name>`` (cluster-autoscaler
``cloudprovider/aws/aws_manager.go`` ``buildNodeFromTemplate``, 1.36.1). The node-group ops Lambda
keeps its own copy (``constructs_lib/nodegroup_ops_handler/index.py``): it is deployed alone and
checks tag keys against it whatever its inputs say (its IAM condition is built from that copy); a
test checks it accepts every tag made here."""

GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT: Final = "NoSchedule"

RESERVED_GPU_LABELS = frozenset(
    {POOL_LABEL, ACCELERATOR_LABEL, GPU_PRESENT_LABEL, GPU_MEMORY_LABEL, SHARING_CONFIG_LABEL}
)
"""Labels this project sets on GPU nodes; a pool's ``labels`` may not set them."""
