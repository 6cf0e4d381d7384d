"""Write cluster_config/data/ec2-zone-offerings.tsv from the installed (pinned) moto release.

    .venv/bin/python scripts/generate_zone_offerings.py [--date YYYY-MM-DD] [--output PATH]

moto ships, per region, what EC2 DescribeInstanceTypeOfferings returned for
``LocationType=availability-zone-id`` (``moto/ec2/resources/instance_type_offerings/
availability-zone-id/<region>.json.gz``: a list of ``{"InstanceType", "Location"}``). The file
keeps only the instance types this project's catalog accepts (GPU and system groups), since no
other type can reach a node group, and writes one row per type with one column per region: the
numbers of the zone IDs that offer it. That is about 730 rows instead of moto's 64,000 offerings.
Run it after bumping moto in requirements-dev.txt; tests/test_zone_offerings.py fails until then.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import re
import sys
from collections import defaultdict
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cluster_config.catalog import GENERAL_INSTANCE_TYPES, GPU_INSTANCE_TYPES  # noqa: E402
from cluster_config.zone_offerings import MOTO_OFFERINGS_DIR, OFFERINGS_FILE  # noqa: E402

ZONE_ID = re.compile(r"^(?P<prefix>[a-z]+\d+)-az(?P<number>\d)$")
"""A regional zone ID such as ``usw2-az4``; one digit, so a cell can list numbers unseparated."""


def moto_offerings() -> dict[str, dict[str, set[str]]]:
    """Region -> zone ID -> instance types it offers, as moto ships them (every type)."""
    directory = Path(str(metadata.distribution("moto").locate_file(MOTO_OFFERINGS_DIR)))
    regions: dict[str, dict[str, set[str]]] = {}
    for path in sorted(directory.glob("*.json.gz")):
        zones: dict[str, set[str]] = defaultdict(set)
        for offering in json.loads(gzip.decompress(path.read_bytes())):
            zones[offering["Location"]].add(offering["InstanceType"])
        regions[path.name.removesuffix(".json.gz")] = dict(zones)
    return regions


def render(regions: dict[str, dict[str, set[str]]], version: str, date: str) -> str:
    accepted = sorted({*GPU_INSTANCE_TYPES, *GENERAL_INSTANCE_TYPES})
    header = ["instance_type"]
    for region, zones in regions.items():
        matches = [ZONE_ID.match(zone) for zone in zones]
        prefixes = {m["prefix"] for m in matches if m}
        if None in matches or len(prefixes) != 1:
            raise SystemExit(f"{region}: zone IDs {sorted(zones)} are not <prefix>-az<digit>")
        numbers = "".join(sorted(m["number"] for m in matches if m))
        header.append(f"{region}:{prefixes.pop()}:{numbers}")
    lines = [
        "# EC2 instance-type offerings per availability-zone ID, for the instance types "
        "cluster_config/catalog.py accepts (GPU and system groups).",
        f"# source: moto {version} (PyPI), {MOTO_OFFERINGS_DIR}/<region>.json.gz "
        "(EC2 DescribeInstanceTypeOfferings, LocationType availability-zone-id, as moto's "
        f"maintainers collected it); generated {date} by scripts/generate_zone_offerings.py; "
        "tests/test_zone_offerings.py compares it with the installed moto.",
        "# columns: one per region, headed <region>:<zone ID prefix>:<numbers of its zone IDs>; "
        'a cell lists the numbers of the zone IDs that offer the type ("134": usw2-az1, usw2-az3, '
        'usw2-az4), "-" none. Offered is not the same as having capacity.',
        "\t".join(header),
    ]
    for instance_type in accepted:
        cells = [instance_type]
        for zones in regions.values():
            numbers = sorted(z[-1] for z, offered in zones.items() if instance_type in offered)
            cells.append("".join(numbers) or "-")
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    parser.add_argument("--output", type=Path, default=OFFERINGS_FILE)
    args = parser.parse_args()
    text = render(moto_offerings(), metadata.version("moto"), args.date)
    args.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
