"""Instance-type facts the config is checked against, offline (no ``ec2:DescribeInstanceTypes``).

Built at import from two data files in ``cluster_config/data/``, never written by hand:

- ``ec2-instance-types.tsv``: EC2's own DescribeInstanceTypes data for every type (vCPUs, memory
  MiB, architectures, GPUs, EFA, network cards), generated from the pinned moto release
  (``cluster_config/ec2_instance_types.py``). The cluster autoscaler builds its instance list
  from the same API at start-up (cluster-autoscaler-1.36.1 ``cloudprovider/aws/
  aws_cloud_provider.go`` ``BuildAWS``; ``--aws-use-static-instance-list`` defaults to false and
  the chart does not set it; its role grants ``ec2:DescribeInstanceTypes``), so these are the
  figures of its scale-from-zero template nodes too. Its static ``ec2_instance_types.go`` only
  fills in types the API does not return, i.e. types EC2 no longer lists, which are refused here.
- ``instance-families.tsv``: per family, what EC2's data does not say: which families a GPU group
  may use (the EKS AL2023 x86_64 NVIDIA AMI supports them), the ``k8s.amazonaws.com/accelerator``
  label value and the published memory of one GPU; and the families no group may use. Its
  header cites the sources.

A type is accepted for a GPU group when EC2's data lists it (x86_64, at least one whole NVIDIA
GPU, no other accelerator) and its family is a ``gpu`` family; for the system group when EC2's
data lists it (x86_64, no GPU or other accelerator) and its family is not in
``instance-families.tsv``. Nothing else is accepted.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cluster_config.ec2_instance_types import (
    INSTANCE_TYPES_FILE,
    Ec2InstanceType,
    ec2_instance_types,
)

DATA_DIR = Path(__file__).parent / "data"
FAMILY_FACTS = DATA_DIR / "instance-families.tsv"

NODE_ARCHITECTURE = "amd64"
"""Both AMI types of this project (AL2023 x86_64 standard and NVIDIA) are x86_64."""
EC2_NODE_ARCHITECTURE = "x86_64"
GPU_MANUFACTURER = "NVIDIA"


@dataclass(frozen=True)
class InstanceShape:
    vcpus: int
    memory_mib: int
    """EC2's ``MemoryInfo.SizeInMiB``, what the autoscaler's template node gets (aws_util.go
    ``transformInstanceType``, 1.36.1)."""
    gpus: int = 0
    architecture: str = NODE_ARCHITECTURE
    """The autoscaler's ``kubernetes.io/arch`` for the type (its first EC2 architecture)."""
    gpu_model: str | None = None
    """Value for the ``k8s.amazonaws.com/accelerator`` node label."""
    gpu_memory_gb: int | None = None
    """Memory of one GPU in GB, as NVIDIA and AWS publish it."""
    efa_supported: bool = False
    max_efa_interfaces: int = 0
    """``NetworkInfo.EfaInfo.MaximumEfaInterfaces`` (0 without EFA)."""
    network_cards: int = 1
    efa_cards: tuple[int, ...] = ()
    """Indexes of the network cards that take an EFA interface (p6-b300.48xlarge: 1-16)."""

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


def _shape(ec2: Ec2InstanceType, families: dict[str, FamilyFacts]) -> InstanceShape:
    facts = families.get(_family(ec2.name))
    gpu_facts = facts if facts is not None and facts.use == "gpu" else None
    return InstanceShape(
        vcpus=ec2.vcpus,
        memory_mib=ec2.memory_mib,
        gpus=ec2.gpus,
        architecture=ec2.autoscaler_architecture,
        gpu_model=gpu_facts.accelerator if gpu_facts else None,
        gpu_memory_gb=gpu_facts.gpu_memory_gb if gpu_facts else None,
        efa_supported=ec2.efa_supported,
        max_efa_interfaces=ec2.max_efa_interfaces,
        network_cards=ec2.network_cards,
        efa_cards=ec2.efa_cards,
    )


EC2_DATA = ec2_instance_types()
INSTANCE_FAMILIES: dict[str, FamilyFacts] = _load_families()

ALL_INSTANCE_TYPES: dict[str, InstanceShape] = {
    name: _shape(ec2, INSTANCE_FAMILIES) for name, ec2 in EC2_DATA.types.items()
}
"""Every type EC2's data lists, accepted or not (what a running autoscaler knows)."""


def _is_gpu_type(ec2: Ec2InstanceType) -> bool:
    return (
        EC2_NODE_ARCHITECTURE in ec2.architectures
        and ec2.gpus > 0
        and ec2.gpu_manufacturer == GPU_MANUFACTURER
        and not ec2.other_accelerators
        and getattr(INSTANCE_FAMILIES.get(_family(ec2.name)), "use", None) == "gpu"
    )


def _is_general_type(ec2: Ec2InstanceType) -> bool:
    return (
        EC2_NODE_ARCHITECTURE in ec2.architectures
        and ec2.autoscaler_architecture == NODE_ARCHITECTURE
        and ec2.gpu_name is None
        and not ec2.other_accelerators
        and _family(ec2.name) not in INSTANCE_FAMILIES
    )


GPU_INSTANCE_TYPES: dict[str, InstanceShape] = {
    name: ALL_INSTANCE_TYPES[name] for name, ec2 in EC2_DATA.types.items() if _is_gpu_type(ec2)
}
"""Types a GPU group may use."""

GENERAL_INSTANCE_TYPES: dict[str, InstanceShape] = {
    name: ALL_INSTANCE_TYPES[name] for name, ec2 in EC2_DATA.types.items() if _is_general_type(ec2)
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
    ec2 = EC2_DATA.types.get(name)
    family = _family(name)
    facts = INSTANCE_FAMILIES.get(family)
    data = EC2_DATA.described_as
    listed = f"listed in cluster_config/data/{INSTANCE_TYPES_FILE.name}"
    allowed = (
        f"a {', '.join(GPU_FAMILIES)} type {listed}"
        if gpu
        else f"an x86_64 type without GPU or other accelerator {listed}"
    )
    if ec2 is None:
        sizes = sorted(
            (n.split(".", 1)[1] for n in ALL_INSTANCE_TYPES if _family(n) == family),
            key=_size_order,
        )
        if sizes:
            reason = f"{data} has no such type; {family} sizes: " + ", ".join(sizes)
        else:
            close = difflib.get_close_matches(
                name, GPU_INSTANCE_TYPES if gpu else ALL_INSTANCE_TYPES
            )
            reason = f"{data} does not list it" + (f" (close: {', '.join(close)})" if close else "")
            if facts is not None:
                reason += f"; {family}: {facts.note}"
    elif facts is not None and facts.use == "none":
        reason = f"{family} is not usable here: {facts.note}"
    elif EC2_NODE_ARCHITECTURE not in ec2.architectures:
        reason = f"it is {'/'.join(ec2.architectures)}; nodes here are x86_64 (amd64)"
    elif ec2.other_accelerators:
        reason = f"it has a {'/'.join(ec2.other_accelerators)} accelerator"
    elif gpu and ec2.gpus == 0:
        reason = "it has no GPU"
    elif not gpu and ec2.gpu_name is not None:
        reason = "it is a GPU type"
    elif ec2.gpu_manufacturer != GPU_MANUFACTURER:
        reason = f"its GPUs are {ec2.gpu_manufacturer} {ec2.gpu_name}, not NVIDIA"
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
