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

The functions take any object with the fields of a pool's ``gpu_sharing`` (``SharingSettings``),
so this module does not depend on the config model (which imports it for its rules).
"""

from __future__ import annotations

from typing import Any, Protocol

SHARING_CONFIG_LABEL = "nvidia.com/device-plugin.config"
GPU_RESOURCE = "nvidia.com/gpu"
MIN_REPLICAS = 2  # upstream: "number of replicas must be >= 2"
MAX_REPLICAS = 32
"""Project bound: every CUDA context reserves GPU memory (a few hundred MiB), so beyond ~32
sharers a 16 GB T4 has little left per pod; time-slicing gives no memory isolation."""


class SharingSettings(Protocol):
    """What a pool's ``gpu_sharing`` holds (``cluster_config.model.GpuSharingConfig``)."""

    @property
    def strategy(self) -> str: ...
    @property
    def replicas(self) -> int: ...
    @property
    def rename_by_default(self) -> bool: ...
    @property
    def fail_requests_greater_than_one(self) -> bool: ...


def strategy_problem(strategy: str) -> str | None:
    """Why ``strategy`` is not supported here, or None."""
    if strategy == "time-slicing":
        return None
    if strategy == "mps":
        return (
            "'mps' is not supported (upstream calls MPS experimental and it needs the MPS "
            "control daemon); allowed: 'time-slicing'"
        )
    return f"{strategy!r} is unknown; allowed: 'time-slicing'"


def rename_problem(rename_by_default: bool) -> str | None:
    """Why ``renameByDefault`` cannot be on here, or None."""
    if not rename_by_default:
        return None
    return (
        "true would advertise 'nvidia.com/gpu.shared', which the GPU taint's workloads and the "
        "autoscaler's GPU accounting do not count; allowed: false"
    )


def sharing_config_name(sharing: SharingSettings) -> str:
    """The device-plugin config name (a node label value): ``time-slicing-<replicas>[-multi]``."""
    suffix = "" if sharing.fail_requests_greater_than_one else "-multi"
    return f"time-slicing-{sharing.replicas}{suffix}"


def device_plugin_config(sharing: SharingSettings) -> dict[str, Any]:
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


def advertised_gpus(physical_gpus: int, sharing: SharingSettings | None) -> int:
    """``nvidia.com/gpu`` a node advertises: physical GPUs x time-slicing replicas."""
    return physical_gpus * (sharing.replicas if sharing is not None else 1)
