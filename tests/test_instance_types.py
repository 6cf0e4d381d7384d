"""The EC2 instance-type data file against the pinned moto release it is generated from.

``cluster_config/data/ec2-instance-types.tsv`` must say exactly what moto's
``ec2/resources/instance_types.json.gz`` says; these tests read moto's file themselves (not
through the generator) and also regenerate the file byte for byte.
"""

from __future__ import annotations

import gzip
import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from cluster_config.ec2_instance_types import (
    INSTANCE_TYPES_FILE,
    MOTO_INSTANCE_TYPES,
    ec2_instance_types,
)
from tests.support import ROOT, regenerate

MOTO: dict[str, dict[str, Any]] = json.loads(
    gzip.decompress(
        Path(str(metadata.distribution("moto").locate_file(MOTO_INSTANCE_TYPES))).read_bytes()
    )
)


def test_file_holds_every_type_moto_ships_with_its_figures() -> None:
    types = ec2_instance_types().types
    assert set(types) == set(MOTO)
    for name, t in types.items():
        info = MOTO[name]
        gpus = info.get("GpuInfo", {}).get("Gpus", [])
        network = info["NetworkInfo"]
        assert (t.vcpus, t.memory_mib) == (
            info["VCpuInfo"]["DefaultVCpus"],
            info["MemoryInfo"]["SizeInMiB"],
        ), name
        assert t.architectures == tuple(info["ProcessorInfo"]["SupportedArchitectures"]), name
        assert t.gpus == sum(g["Count"] for g in gpus), name
        assert t.gpu_name == (gpus[0]["Name"] if gpus else None), name
        assert t.efa_supported == network["EfaSupported"], name
        assert t.max_efa_interfaces == network.get("EfaInfo", {}).get("MaximumEfaInterfaces", 0)
        assert t.network_cards == network["MaximumNetworkCards"], name
        cards = sorted(network["NetworkCards"], key=lambda c: c["NetworkCardIndex"])
        assert t.interfaces_per_card == tuple(c["MaximumNetworkInterfaces"] for c in cards)
        efa = tuple(c["NetworkCardIndex"] for c in cards if "efa" in c["InterfaceTypes"])
        assert t.efa_cards == efa, name
        assert t.usage_classes == tuple(info["SupportedUsageClasses"]), name


def test_efa_figures_the_efa_pools_rely_on() -> None:
    # One EFA interface per network card on p5/p5e (32 cards), 16 on p5en, none on p6-b300's
    # card 0 (cards 1-16 take EFA): what an EFA launch template has to lay out.
    types = ec2_instance_types().types
    p5e, p5en, b300 = types["p5e.48xlarge"], types["p5en.48xlarge"], types["p6-b300.48xlarge"]
    assert (p5e.max_efa_interfaces, p5e.network_cards, p5e.efa_cards) == (32, 32, tuple(range(32)))
    assert (p5en.max_efa_interfaces, p5en.network_cards) == (16, 16)
    assert (b300.max_efa_interfaces, b300.network_cards) == (16, 17)
    assert b300.efa_cards == tuple(range(1, 17))
    assert types["g6f.xlarge"].gpus == 0 and types["g6f.xlarge"].gpu_name == "L4"
    assert "p3.2xlarge" not in types


def test_file_names_the_installed_moto_and_its_generation_date() -> None:
    data = ec2_instance_types()
    assert data.source.startswith(
        f"source: moto {metadata.version('moto')} (PyPI), {MOTO_INSTANCE_TYPES} "
        "(EC2 DescribeInstanceTypes"
    )
    generated = r"generated \d{4}-\d{2}-\d{2} by scripts/generate_instance_types.py"
    assert re.search(generated, data.source)
    assert re.fullmatch(
        rf"EC2's instance-type data \(moto {re.escape(metadata.version('moto'))}, "
        r"generated \d{4}-\d{2}-\d{2}\)",
        data.described_as,
    )
    pinned = (ROOT / "requirements-dev.txt").read_text()
    assert f"moto=={metadata.version('moto')}\n" in pinned


def test_generator_reproduces_the_file(tmp_path: Path) -> None:
    written = regenerate(
        "generate_instance_types.py", ec2_instance_types().source, tmp_path / "instance-types.tsv"
    )
    assert written == INSTANCE_TYPES_FILE.read_bytes()
