"""Write cluster_config/data/ec2-instance-types.tsv from the installed (pinned) moto release.

    .venv/bin/python scripts/generate_instance_types.py --date YYYY-MM-DD [--output PATH]

moto ships what EC2 DescribeInstanceTypes returns (``moto/ec2/resources/instance_types.json.gz``:
instance type -> ``InstanceTypeInfo``, the union over every region, refreshed by moto's monthly
data job, getmoto/moto ``scripts/get_instance_info.py``). The file keeps every type (so a refusal
can say exactly why) and, per type, the figures this project uses: the shape the cluster
autoscaler builds its template node from (aws_util.go ``transformInstanceType``), the GPUs, other
accelerators, EFA and network cards, and the usage classes.

moto's data carries no date of its own: ``--date`` is the day it was generated, written into the
header, so regenerating with the same moto and the same date gives the same bytes. Run it after
bumping moto in requirements-dev.txt; tests/test_instance_types.py fails until then.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cluster_config.ec2_instance_types import (  # noqa: E402
    COLUMNS,
    INSTANCE_TYPES_FILE,
    MOTO_INSTANCE_TYPES,
)

OTHER_ACCELERATORS = {
    "InferenceAcceleratorInfo": "inference",
    "NeuronInfo": "neuron",
    "FpgaInfo": "fpga",
    "MediaAcceleratorInfo": "media",
}
"""DescribeInstanceTypes' accelerator blocks other than ``GpuInfo``, and their short names."""


def moto_instance_types() -> dict[str, dict[str, Any]]:
    """Instance type -> EC2 ``InstanceTypeInfo``, as moto ships it."""
    path = Path(str(metadata.distribution("moto").locate_file(MOTO_INSTANCE_TYPES)))
    data: dict[str, dict[str, Any]] = json.loads(gzip.decompress(path.read_bytes()))
    return data


def _indexes(indexes: list[int]) -> str:
    """``[1, 2, ..., 16]`` -> ``1-16``; ``[0, 2]`` -> ``0,2``; ``[]`` -> ``-``."""
    runs: list[list[int]] = []
    for index in sorted(indexes):
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or "-"


def row(info: dict[str, Any]) -> list[str]:
    name = info["InstanceType"]
    gpus = info.get("GpuInfo", {}).get("Gpus", [])
    if len(gpus) > 1:
        raise SystemExit(f"{name}: {len(gpus)} GPU kinds; the file has columns for one")
    gpu = gpus[0] if gpus else {}
    network = info["NetworkInfo"]
    cards = sorted(network.get("NetworkCards", []), key=lambda c: c["NetworkCardIndex"])
    per_card = [str(c["MaximumNetworkInterfaces"]) for c in cards]
    efa_cards = [c["NetworkCardIndex"] for c in cards if "efa" in c.get("InterfaceTypes", [])]
    others = [short for key, short in OTHER_ACCELERATORS.items() if key in info]
    cells = {
        "instance_type": name,
        "vcpus": str(info["VCpuInfo"]["DefaultVCpus"]),
        "memory_mib": str(info["MemoryInfo"]["SizeInMiB"]),
        "architectures": ",".join(info["ProcessorInfo"]["SupportedArchitectures"]),
        # aws_util.go getGpuCount: the sum of Gpus[].Count (0 for a fractional GPU).
        "gpus": str(sum(g.get("Count", 0) for g in gpus)),
        "gpu_manufacturer": gpu.get("Manufacturer", "-"),
        "gpu_name": gpu.get("Name", "-"),
        "gpu_memory_mib": str(gpu["MemoryInfo"]["SizeInMiB"]) if gpu else "-",
        "other_accelerators": ",".join(others) or "-",
        "efa_supported": str(network.get("EfaSupported", False)).lower(),
        "max_efa_interfaces": str(network.get("EfaInfo", {}).get("MaximumEfaInterfaces", 0)),
        "network_cards": str(network.get("MaximumNetworkCards", 1)),
        "efa_cards": _indexes(efa_cards),
        "interfaces_per_card": per_card[0] if len(set(per_card)) == 1 else ",".join(per_card),
        "usage_classes": ",".join(info.get("SupportedUsageClasses", [])),
        "current_generation": str(info.get("CurrentGeneration", False)).lower(),
    }
    return [cells[column] for column in COLUMNS]


def render(types: dict[str, dict[str, Any]], version: str, date: str) -> str:
    lines = [
        "# EC2 instance types (every one moto ships), with the figures cluster_config/catalog.py "
        "and verify use.",
        f"# source: moto {version} (PyPI), {MOTO_INSTANCE_TYPES} (EC2 DescribeInstanceTypes over "
        "all regions, as moto's monthly data job collects it); that data carries no date: "
        f"generated {date} by scripts/generate_instance_types.py; "
        "tests/test_instance_types.py compares it with the installed moto.",
        "# columns: vcpus = VCpuInfo.DefaultVCpus; memory_mib = MemoryInfo.SizeInMiB; gpus = sum "
        "of GpuInfo.Gpus[].Count (0 for fractional GPUs); gpu_memory_mib = memory of one GPU; "
        "other_accelerators = inference/neuron/fpga/media blocks present; efa_cards = indexes "
        "of the network cards that take an EFA interface; interfaces_per_card = "
        "MaximumNetworkInterfaces of each card (one value when all cards agree); '-' = none.",
        "\t".join(COLUMNS),
    ]
    lines += ["\t".join(row(types[name])) for name in sorted(types)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", required=True, help="generation date written to the header")
    parser.add_argument("--output", type=Path, default=INSTANCE_TYPES_FILE)
    args = parser.parse_args()
    text = render(moto_instance_types(), metadata.version("moto"), args.date)
    args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
