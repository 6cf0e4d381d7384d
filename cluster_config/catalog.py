"""Instance-type facts the config is checked against, offline (no ``ec2:DescribeInstanceTypes``).

The cluster autoscaler builds a scale-from-zero template node from the FIRST instance type of a
group, so every type in one group must have the same shape (vCPUs, memory, GPUs). The GPU list
holds only families the EKS AL2023 NVIDIA AMI supports (no p2/g3: their drivers are gone).
To allow another type, add it here with its published shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceShape:
    vcpus: int
    memory_gib: int
    gpus: int = 0
    gpu_model: str | None = None
    """Value for the ``k8s.amazonaws.com/accelerator`` node label."""


def _gpu_family(
    family: str, model: str, sizes: dict[str, tuple[int, int, int]]
) -> dict[str, InstanceShape]:
    return {
        f"{family}.{size}": InstanceShape(vcpus, memory, gpus, model)
        for size, (vcpus, memory, gpus) in sizes.items()
    }


_SINGLE_GPU_16GIB_PER_4VCPU = {
    "xlarge": (4, 16, 1),
    "2xlarge": (8, 32, 1),
    "4xlarge": (16, 64, 1),
    "8xlarge": (32, 128, 1),
    "16xlarge": (64, 256, 1),
}

GPU_INSTANCE_TYPES: dict[str, InstanceShape] = {
    **_gpu_family(
        "g4dn", "nvidia-tesla-t4", {**_SINGLE_GPU_16GIB_PER_4VCPU, "12xlarge": (48, 192, 4)}
    ),
    **_gpu_family(
        "g5",
        "nvidia-a10g",
        {
            **_SINGLE_GPU_16GIB_PER_4VCPU,
            "12xlarge": (48, 192, 4),
            "24xlarge": (96, 384, 4),
            "48xlarge": (192, 768, 8),
        },
    ),
    **_gpu_family(
        "g6",
        "nvidia-l4",
        {
            **_SINGLE_GPU_16GIB_PER_4VCPU,
            "12xlarge": (48, 192, 4),
            "24xlarge": (96, 384, 4),
            "48xlarge": (192, 768, 8),
        },
    ),
    **_gpu_family(
        "g6e",
        "nvidia-l40s",
        {
            "xlarge": (4, 32, 1),
            "2xlarge": (8, 64, 1),
            "4xlarge": (16, 128, 1),
            "8xlarge": (32, 256, 1),
            "16xlarge": (64, 512, 1),
            "12xlarge": (48, 384, 2),
            "24xlarge": (96, 768, 4),
            "48xlarge": (192, 1536, 8),
        },
    ),
    **_gpu_family("p4d", "nvidia-a100", {"24xlarge": (96, 1152, 8)}),
    **_gpu_family("p5", "nvidia-h100", {"48xlarge": (192, 2048, 8)}),
    **_gpu_family("p5e", "nvidia-h200", {"48xlarge": (192, 2048, 8)}),
    **_gpu_family("p5en", "nvidia-h200", {"48xlarge": (192, 2048, 8)}),
}

_MEMORY_GIB_PER_VCPU = {"c": 2, "m": 4, "r": 8}
_GENERAL_FAMILIES = (
    "c5",
    "c5a",
    "c6i",
    "c6a",
    "c7i",
    "c7a",
    "m5",
    "m5a",
    "m6i",
    "m6a",
    "m7i",
    "m7a",
    "r5",
    "r5a",
    "r6i",
    "r6a",
    "r7i",
    "r7a",
)
_GENERAL_SIZES = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32}

GENERAL_INSTANCE_TYPES: dict[str, InstanceShape] = {
    f"{family}.{size}": InstanceShape(vcpus, vcpus * _MEMORY_GIB_PER_VCPU[family[0]])
    for family in _GENERAL_FAMILIES
    for size, vcpus in _GENERAL_SIZES.items()
}

ALL_INSTANCE_TYPES: dict[str, InstanceShape] = {**GENERAL_INSTANCE_TYPES, **GPU_INSTANCE_TYPES}

GENERIC_GPU_ACCELERATOR = "nvidia"
"""Accelerator label value for a group whose types carry different GPU models."""


def accelerator_label(instance_types: list[str] | tuple[str, ...]) -> str:
    """One ``k8s.amazonaws.com/accelerator`` value that is true for every type in the group."""
    models = {GPU_INSTANCE_TYPES[name].gpu_model for name in instance_types}
    return models.pop() if len(models) == 1 else GENERIC_GPU_ACCELERATOR  # type: ignore[return-value]
