"""Instance-type facts the config is checked against, offline (no ``ec2:DescribeInstanceTypes``).

Generated at import from two data files in ``cluster_config/data/``, never written by hand:

- ``ca-ec2-instance-types.tsv``: the cluster autoscaler's own static instance list (vCPUs, memory
  MiB, GPU count, architecture), the numbers it builds a scale-from-zero template node from; its
  header names the upstream file and list date. To take a newer list, copy the new file over it.
- ``instance-families.tsv``: what that list lacks, per family: which families a GPU group may use
  (the EKS AL2023 x86_64 NVIDIA AMI supports them), the GPU model (the
  ``k8s.amazonaws.com/accelerator`` label value) and the memory of one GPU; and the accelerated or
  special families no group may use. Its header cites the sources.

A type is accepted for a GPU group when the list has it (amd64, at least one GPU) and its family is
a ``gpu`` family; for the system group when the list has it (amd64, no GPU) and its family is not in
``instance-families.tsv``. Nothing else is accepted.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
AUTOSCALER_LIST = DATA_DIR / "ca-ec2-instance-types.tsv"
FAMILY_FACTS = DATA_DIR / "instance-families.tsv"

NODE_ARCHITECTURE = "amd64"
"""Both AMI types of this project (AL2023 x86_64 standard and NVIDIA) are x86_64."""


@dataclass(frozen=True)
class InstanceShape:
    vcpus: int
    memory_mib: int
    """Exactly as the autoscaler's list gives it (its ``MemoryMb`` is MiB)."""
    gpus: int = 0
    architecture: str = NODE_ARCHITECTURE
    gpu_model: str | None = None
    """Value for the ``k8s.amazonaws.com/accelerator`` node label."""
    gpu_memory_gb: int | None = None
    """Memory of one GPU in GB, as NVIDIA and AWS publish it."""

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / 1024


@dataclass(frozen=True)
class FamilyFacts:
    use: str
    """``gpu``: GPU groups may use it; ``none``: no group may (``note`` says why)."""
    accelerator: str | None
    gpu_memory_gb: int | None
    note: str


def _rows(path: Path) -> Iterator[list[str]]:
    with path.open(encoding="utf-8") as lines:
        yield from csv.reader((line for line in lines if not line.startswith("#")), delimiter="\t")


def _family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def _load_families() -> dict[str, FamilyFacts]:
    rows = _rows(FAMILY_FACTS)
    if next(rows) != ["family", "use", "accelerator", "gpu_memory_gb", "note"]:
        raise ValueError(f"{FAMILY_FACTS}: unexpected columns")
    return {
        family: FamilyFacts(
            use, None if model == "-" else model, None if memory == "-" else int(memory), note
        )
        for family, use, model, memory, note in rows
    }


def _load_instance_types(families: dict[str, FamilyFacts]) -> dict[str, InstanceShape]:
    shapes = {}
    for name, vcpus, memory_mib, gpus, arch in _rows(AUTOSCALER_LIST):
        facts = families.get(_family(name))
        gpu_facts = facts if facts is not None and facts.use == "gpu" else None
        shapes[name] = InstanceShape(
            vcpus=int(vcpus),
            memory_mib=int(memory_mib),
            gpus=int(gpus),
            architecture=arch,
            gpu_model=gpu_facts.accelerator if gpu_facts else None,
            gpu_memory_gb=gpu_facts.gpu_memory_gb if gpu_facts else None,
        )
    return shapes


INSTANCE_FAMILIES: dict[str, FamilyFacts] = _load_families()

ALL_INSTANCE_TYPES: dict[str, InstanceShape] = _load_instance_types(INSTANCE_FAMILIES)
"""Every type in the autoscaler's list, accepted or not (what the autoscaler itself knows)."""

GPU_INSTANCE_TYPES: dict[str, InstanceShape] = {
    name: shape
    for name, shape in ALL_INSTANCE_TYPES.items()
    if shape.architecture == NODE_ARCHITECTURE
    and shape.gpus > 0
    and getattr(INSTANCE_FAMILIES.get(_family(name)), "use", None) == "gpu"
}
"""Types a GPU group may use."""

GENERAL_INSTANCE_TYPES: dict[str, InstanceShape] = {
    name: shape
    for name, shape in ALL_INSTANCE_TYPES.items()
    if shape.architecture == NODE_ARCHITECTURE
    and shape.gpus == 0
    and _family(name) not in INSTANCE_FAMILIES
}
"""Types the system group may use."""

GPU_FAMILIES: tuple[str, ...] = tuple(
    sorted({_family(name) for name in GPU_INSTANCE_TYPES}, key=lambda f: (f[0], f))
)

GENERIC_GPU_ACCELERATOR = "nvidia"
"""Accelerator label value for a group whose types carry different GPU models."""


def accelerator_label(instance_types: Sequence[str]) -> str:
    """One ``k8s.amazonaws.com/accelerator`` value that is true for every type in the group.

    A group may mix models of equal GPU memory and count (g5 A10G with g6 L4): its nodes get
    ``nvidia``, which still marks them as GPU nodes for the autoscaler (it waits for their GPUs
    instead of scaling up twice) but is not one of its known models, so ``--gpu-total`` and
    GPU metrics ignore it.
    """
    models = {GPU_INSTANCE_TYPES[name].gpu_model for name in instance_types}
    model = models.pop() if len(models) == 1 else None
    return model or GENERIC_GPU_ACCELERATOR


def gpu_memory_gb(instance_types: Sequence[str]) -> int:
    """Memory of one GPU, shared by every type of the group (the config refuses a mix)."""
    sizes = {GPU_INSTANCE_TYPES[name].gpu_memory_gb for name in instance_types}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"{list(instance_types)} do not share one GPU memory size")
    return sizes.pop()  # type: ignore[return-value]


def gpu_count(instance_types: Sequence[str]) -> int:
    """GPUs per node, shared by every type of the group (the config refuses a mix)."""
    counts = {GPU_INSTANCE_TYPES[name].gpus for name in instance_types}
    if len(counts) != 1:
        raise ValueError(f"{list(instance_types)} do not share one GPU count")
    return counts.pop()


def why_not_accepted(name: str, *, gpu: bool) -> str:
    """Why ``name`` is not accepted for a GPU (``gpu``) or the system group, and what is."""
    shape = ALL_INSTANCE_TYPES.get(name)
    family = _family(name)
    facts = INSTANCE_FAMILIES.get(family)
    listed = f"listed in cluster_config/data/{AUTOSCALER_LIST.name}"
    allowed = (
        f"a {', '.join(GPU_FAMILIES)} type {listed}"
        if gpu
        else f"an amd64 type without GPU or other accelerator {listed}"
    )
    if shape is None:
        sizes = sorted(
            (n.split(".", 1)[1] for n in ALL_INSTANCE_TYPES if _family(n) == family),
            key=_size_order,
        )
        if sizes:
            reason = (
                f"the autoscaler's instance list has no such type; {family} sizes: "
                + ", ".join(sizes)
            )
        else:
            close = difflib.get_close_matches(
                name, GPU_INSTANCE_TYPES if gpu else ALL_INSTANCE_TYPES
            )
            reason = "the autoscaler's instance list has no such type" + (
                f" (close: {', '.join(close)})" if close else ""
            )
            if facts is not None:
                reason += f"; {family}: {facts.note}"
    elif facts is not None and facts.use == "none":
        reason = f"{family} is not usable here: {facts.note}"
    elif shape.architecture != NODE_ARCHITECTURE:
        reason = f"it is {shape.architecture}; nodes here are x86_64 (amd64)"
    elif gpu and shape.gpus == 0:
        reason = "it has no GPU"
    elif not gpu and shape.gpus > 0:
        reason = "it is a GPU type"
    else:
        reason = f"the EKS AL2023 NVIDIA AMI does not support {family}"
    return f"{reason}; allowed: {allowed}"


def _size_order(size: str) -> tuple[int, str]:
    """``large`` < ``xlarge`` < ``2xlarge`` < ... < ``metal``."""
    if size.endswith("xlarge"):
        factor = size.removesuffix("xlarge")
        return (int(factor) if factor.isdigit() else 1) * 8, size
    if size in ("nano", "micro", "small", "medium", "large"):
        return ("nano", "micro", "small", "medium", "large").index(size), size
    return 10_000, size
