"""GPU time-slicing as the NVIDIA device plugin understands it (NVIDIA/k8s-device-plugin v0.20.0).

Rules, each from upstream:
- config file ``version: v1``, ``sharing.timeSlicing.resources[]`` of ``name``/``devices``/
  ``replicas`` (``api/config/v1/config.go`` ``Config``, ``replicas.go`` ``ReplicatedResource``);
- ``replicas`` must be >= 2 (``replicas.go`` ``ReplicatedResource.UnmarshalJSON``);
- time-slicing and MPS are mutually exclusive, MPS is experimental (README, "Shared Access to
  GPUs"; ``sharing.go`` ``Sharing.SharingStrategy``): not supported here;
- ``renameByDefault: true`` advertises ``nvidia.com/gpu.shared`` instead of ``nvidia.com/gpu``
  (README): not supported here, because the GPU taint's workloads, the autoscaler's
  ``resources/nvidia.com/gpu`` template tag and its GPU utilization all count ``nvidia.com/gpu``;
- with N replicas a node with G GPUs advertises G x N ``nvidia.com/gpu`` (README example: 8
  GPUs x 10 replicas = 80);
- a node picks its config by the label ``nvidia.com/device-plugin.config`` (README, "Updating
  Per-Node Configuration With a Node Label").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cluster_config.catalog import GPU_INSTANCE_TYPES

if TYPE_CHECKING:
    from cluster_config.model import ClusterConfig, GpuNodeGroupConfig, GpuSharingConfig

SHARING_CONFIG_LABEL = "nvidia.com/device-plugin.config"
GPU_RESOURCE = "nvidia.com/gpu"
NO_SHARING = "none"
"""Label value of a GPU group without sharing (upstream: ``nvidia.com/gpu.sharing-strategy``)."""
MIN_REPLICAS = 2  # upstream: "number of replicas must be >= 2"
MAX_REPLICAS = 32
"""Project bound: every CUDA context reserves GPU memory (a few hundred MiB), so beyond ~32
sharers a 16 GB T4 has little left per pod; time-slicing gives no memory isolation."""


def sharing_problems(sharing: GpuSharingConfig) -> list[str]:
    """What upstream or this project does not support in ``sharing``; one line each."""
    problems = []
    if sharing.strategy == "mps":
        problems.append(
            "strategy: 'mps' is not supported (upstream calls MPS experimental and it needs the "
            "MPS control daemon); allowed: 'time-slicing'"
        )
    elif sharing.strategy != "time-slicing":
        problems.append(f"strategy: {sharing.strategy!r} is unknown; allowed: 'time-slicing'")
    if not MIN_REPLICAS <= sharing.replicas <= MAX_REPLICAS:
        problems.append(
            f"replicas: {sharing.replicas} is out of range; allowed: {MIN_REPLICAS} to "
            f"{MAX_REPLICAS} (the device plugin needs >= 2)"
        )
    if sharing.rename_by_default:
        problems.append(
            "rename_by_default: true would advertise 'nvidia.com/gpu.shared', which the GPU "
            "taint's workloads and the autoscaler's GPU accounting do not count; allowed: false"
        )
    return problems


def effective_sharing(config: ClusterConfig, group: GpuNodeGroupConfig) -> GpuSharingConfig | None:
    """The group's own ``gpu_sharing``, else the cluster-wide one, else none."""
    return group.gpu_sharing or config.gpu_sharing


def sharing_config_name(sharing: GpuSharingConfig) -> str:
    """The device-plugin config name (a node label value): ``time-slicing-<replicas>[-multi]``."""
    suffix = "" if sharing.fail_requests_greater_than_one else "-multi"
    return f"time-slicing-{sharing.replicas}{suffix}"


def device_plugin_config(sharing: GpuSharingConfig) -> dict[str, Any]:
    """The device plugin's config file (``api/config/v1`` ``Config``) for ``sharing``."""
    return {
        "version": "v1",
        "sharing": {
            "timeSlicing": {
                "failRequestsGreaterThanOne": sharing.fail_requests_greater_than_one,
                "resources": [
                    {"name": GPU_RESOURCE, "devices": "all", "replicas": sharing.replicas}
                ],
            }
        },
    }


def device_plugin_configs(config: ClusterConfig) -> dict[str, dict[str, Any]]:
    """Every config any GPU group uses, by name (empty when no group shares its GPUs)."""
    configs = {}
    for group in config.gpu_node_groups:
        sharing = effective_sharing(config, group)
        if sharing is not None:
            configs[sharing_config_name(sharing)] = device_plugin_config(sharing)
    return dict(sorted(configs.items()))


def sharing_labels(config: ClusterConfig, group: GpuNodeGroupConfig) -> dict[str, str]:
    """The node label that selects the group's device-plugin config.

    Empty when no GPU group shares its GPUs. Otherwise every GPU group carries it, ``none``
    without sharing: ``--balancing-label`` treats a missing label as a difference
    (``processors/nodegroupset/label_nodegroups.go`` ``areLabelsSame``), so two plain groups
    would no longer be balanced with each other.
    """
    if not any(effective_sharing(config, g) for g in config.gpu_node_groups):
        return {}
    sharing = effective_sharing(config, group)
    return {SHARING_CONFIG_LABEL: NO_SHARING if sharing is None else sharing_config_name(sharing)}


def advertised_gpus(config: ClusterConfig, group: GpuNodeGroupConfig) -> int:
    """``nvidia.com/gpu`` one node of ``group`` advertises: physical GPUs x replicas."""
    physical = GPU_INSTANCE_TYPES[group.instance_types[0]].gpus
    sharing = effective_sharing(config, group)
    return physical * (sharing.replicas if sharing is not None else 1)


def advertised_gpu_resources(config: ClusterConfig) -> dict[str, int]:
    """Configured GPU group name -> ``nvidia.com/gpu`` per node (for the autoscaler model)."""
    return {g.name: advertised_gpus(config, g) for g in config.gpu_node_groups}
