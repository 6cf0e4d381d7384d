"""The offerings data file against the pinned moto release it is generated from.

``cluster_config/data/ec2-zone-offerings.tsv`` must say exactly what moto's
``instance_type_offerings/availability-zone-id/*.json.gz`` say for the catalog's types; these
tests read moto's files themselves (not through the generator) and also regenerate the file.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from importlib import metadata
from pathlib import Path

import pytest

from cluster_config.catalog import GENERAL_INSTANCE_TYPES, GPU_INSTANCE_TYPES
from cluster_config.zone_offerings import (
    MOTO_OFFERINGS_DIR,
    OFFERINGS_FILE,
    zone_id_prefix,
    zone_id_problem,
    zone_offerings,
)
from tests.support import ROOT, regenerate


def moto_offerings() -> set[tuple[str, str, str]]:
    """Every (region, zone ID, instance type) moto ships, straight from the installed wheel."""
    directory = Path(str(metadata.distribution("moto").locate_file(MOTO_OFFERINGS_DIR)))
    files = sorted(directory.glob("*.json.gz"))
    assert len(files) >= 30  # the files are where the generator looks
    return {
        (path.name.removesuffix(".json.gz"), offering["Location"], offering["InstanceType"])
        for path in files
        for offering in json.loads(gzip.decompress(path.read_bytes()))
    }


MOTO_OFFERINGS = moto_offerings()
MOTO: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
"""Region -> zone ID -> instance types it offers."""
for _region, _zone, _type in MOTO_OFFERINGS:
    MOTO[_region][_zone].add(_type)
ACCEPTED = {*GPU_INSTANCE_TYPES, *GENERAL_INSTANCE_TYPES}


def test_file_holds_exactly_moto_s_offerings_of_the_accepted_types() -> None:
    regions = zone_offerings().regions
    in_file = {
        (region, zone, instance_type)
        for region, offers in regions.items()
        for instance_type, zones in offers.offered_in.items()
        for zone in zones
    }
    assert in_file == {o for o in MOTO_OFFERINGS if o[2] in ACCEPTED}


def test_file_lists_every_zone_id_of_moto_and_every_accepted_type() -> None:
    regions = zone_offerings().regions
    assert {r: o.zone_ids for r, o in regions.items()} == {
        r: tuple(sorted(zones)) for r, zones in MOTO.items()
    }
    assert all(set(o.offered_in) == ACCEPTED for o in regions.values())


def test_file_names_the_installed_moto_and_its_generation_date() -> None:
    source = zone_offerings().source
    assert source.startswith(
        f"source: moto {metadata.version('moto')} (PyPI), {MOTO_OFFERINGS_DIR}"
    )
    assert re.search(r"generated \d{4}-\d{2}-\d{2} by scripts/generate_zone_offerings.py", source)
    pinned = (ROOT / "requirements-dev.txt").read_text()
    assert f"moto=={metadata.version('moto')}\n" in pinned


@pytest.mark.slow
def test_generator_reproduces_the_file(tmp_path: Path) -> None:
    written = regenerate(
        "generate_zone_offerings.py", zone_offerings().source, tmp_path / "offerings.tsv"
    )
    assert written == OFFERINGS_FILE.read_bytes()


# --- Facts the issue and README rely on, read from moto itself --------------------------------


def test_g6_xlarge_is_offered_in_every_us_west_2_zone_id() -> None:
    zones = MOTO["us-west-2"]
    assert sorted(zones) == ["usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"]
    assert all("g6.xlarge" in types for types in zones.values())
    assert zone_offerings().regions["us-west-2"].zones_offering("g6.xlarge") == set(zones)


def test_usw2_az4_offers_no_g5_xlarge_or_g4dn_xlarge() -> None:
    assert {"g5.xlarge", "g4dn.xlarge"}.isdisjoint(MOTO["us-west-2"]["usw2-az4"])
    assert "usw2-az4" not in zone_offerings().regions["us-west-2"].zones_offering("g5.xlarge")


def test_use1_az3_offers_68_types_and_none_of_g5_g6_m6i() -> None:
    offered = MOTO["us-east-1"]["use1-az3"]
    assert len(offered) == 68
    assert not {t for t in offered if t.split(".")[0] in ("g5", "g6", "m6i")}


# --- Zone IDs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("region", sorted(MOTO))
def test_zone_id_prefix_rule_holds_for_every_region_of_the_data(region: str) -> None:
    assert {zone.rsplit("-", 1)[0] for zone in MOTO[region]} == {zone_id_prefix(region)}


@pytest.mark.parametrize(
    ("region", "prefix"),
    [("us-gov-west-1", "usgw1"), ("cn-northwest-1", "cnnw1"), ("mx-central-1", "mxc1")],
)
def test_zone_id_prefix_of_regions_without_data(region: str, prefix: str) -> None:
    assert zone_id_prefix(region) == prefix


@pytest.mark.parametrize(
    ("zone_id", "problem"),
    [
        ("usw2-az4", None),
        ("usw2-az7", None),  # the format holds; the zones check says the data lacks it
        ("use1-az1", "'use1-az1' is not a zone ID of region us-west-2; allowed: usw2-az<N>"),
        ("us-west-2a", "'us-west-2a' is not an availability-zone ID; allowed: <prefix>-az<N>"),
        ("usw2-lax1-az1", "'usw2-lax1-az1' is not an availability-zone ID; allowed: <prefix>"),
    ],
)
def test_zone_id_problem(zone_id: str, problem: str | None) -> None:
    found = zone_id_problem(zone_id, "us-west-2")
    assert found == problem if problem is None else (found or "").startswith(problem)
