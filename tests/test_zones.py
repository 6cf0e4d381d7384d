"""Zones that can run the pool: ``availability_zone_ids``, its subnet metadata, the ``zones`` check.

Config rules, the network stack, the check on synthesized templates, and ``scripts/verify.sh``
as a user runs it. Facts (which zone ID offers what) come from the data file, itself checked
against moto in ``tests/test_zone_offerings.py``.
"""

from __future__ import annotations

import copy
import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster_config import ConfigError
from cluster_config.loader import merge_override, validate_config
from cluster_config.zone_offerings import OFFERINGS_FILE
from stacks.network_stack import ZONE_ID_METADATA
from tests.support import (
    FULL_MATRIX,
    ROOT,
    config_with,
    default_data,
    resources,
    synthesize,
)
from verify.autoscaler.nodes import model_zone_id
from verify.replacement import compare
from verify.report import CheckResult, print_report
from verify.synth import Synthesis
from verify.zones import check_zones

US_EAST_1_ZONES = [f"us-east-1{letter}" for letter in "abcdef"]


def gpu_groups(zones: list[str], instance_types: list[str]) -> dict[str, Any]:
    """The default pool (groups ``gpu-spot-ng-<letter>``) over ``zones`` with ``instance_types``."""
    return {
        "gpu_pools": [
            {
                "name": "gpu-spot-ng",
                "instance_types": instance_types,
                "availability_zones": zones,
                "min_size": 0,
                "max_size": 4,
            }
        ]
    }


ALL_SIX_US_EAST_1 = {
    "region": "us-east-1",
    "availability_zones": US_EAST_1_ZONES,
    **gpu_groups(US_EAST_1_ZONES[:3], ["g5.xlarge", "g6.xlarge"]),
}
"""The default cluster moved to us-east-1, over every zone name it has."""

A_IS_USW2_AZ4_WITH_G5_ONLY = {
    "availability_zone_ids": ["usw2-az4", "usw2-az1", "usw2-az2"],
    **gpu_groups(["us-west-2a", "us-west-2b"], ["g5.xlarge"]),
}
"""An account where us-west-2a is usw2-az4, which offers no g5.xlarge."""


def problems(overrides: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, field) of each problem."""
    with pytest.raises(ConfigError) as error:
        config_with(overrides)
    return error.value.codes


def readme_example() -> dict[str, Any]:
    """docs/verify.md's "Zones and zone IDs" block: the default zones with an account's zone IDs."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "verify.md").read_text(), re.DOTALL)
    [block] = [b for b in blocks if "availability_zone_ids:" in b]
    example: dict[str, Any] = yaml.safe_load(block)
    return example


def example_config() -> Any:
    return validate_config(merge_override(default_data(), readme_example()))


# --- Config -----------------------------------------------------------------------------------


def test_zone_ids_are_unset_by_default() -> None:
    assert config_with().availability_zone_ids is None


def test_zone_ids_are_kept_in_the_order_of_the_zones() -> None:
    config = config_with({"availability_zone_ids": ["usw2-az4", "usw2-az1", "usw2-az2"]})
    assert config.availability_zone_ids == ("usw2-az4", "usw2-az1", "usw2-az2")


def test_one_zone_id_per_zone_is_required() -> None:
    assert problems({"availability_zone_ids": ["usw2-az1", "usw2-az2"]}) == [
        ("ZoneIdCount", "availability_zone_ids")
    ]


def test_a_zone_id_of_another_region_is_refused() -> None:
    assert problems({"availability_zone_ids": ["usw2-az1", "use1-az2", "usw2-az3"]}) == [
        ("ZoneIdNotInRegion", "availability_zone_ids.1")
    ]


def test_a_zone_name_given_as_zone_id_is_refused() -> None:
    assert problems({"availability_zone_ids": ["us-west-2a", "usw2-az2", "usw2-az3"]}) == [
        ("BadFormat", "availability_zone_ids.0")
    ]


def test_a_zone_id_given_twice_is_refused() -> None:
    assert problems({"availability_zone_ids": ["usw2-az1", "usw2-az1", "usw2-az3"]}) == [
        ("DuplicateItem", "availability_zone_ids.1")
    ]


# --- Network stack ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return synthesize(example_config(), tmp_path_factory.mktemp("zone-ids"))


def subnets(synth: Synthesis) -> dict[str, dict[str, Any]]:
    return resources(synth.network, "AWS::EC2::Subnet")


def test_each_subnet_records_the_zone_id_of_its_zone(example_synth: Synthesis) -> None:
    """Catches: a subnet given another zone's ID (the zones check would then judge the wrong
    zone). docs/verify.md's example pairs a, b, c with usw2-az2, usw2-az1, usw2-az3: written
    out here, not zipped back from the config the stack reads."""
    found = sorted(
        (s["Properties"]["AvailabilityZone"], s["Metadata"][ZONE_ID_METADATA])
        for s in subnets(example_synth).values()
    )
    # public and private subnet in each zone
    assert found == [
        ("us-west-2a", "usw2-az2"),
        ("us-west-2a", "usw2-az2"),
        ("us-west-2b", "usw2-az1"),
        ("us-west-2b", "usw2-az1"),
        ("us-west-2c", "usw2-az3"),
        ("us-west-2c", "usw2-az3"),
    ]


def test_subnets_keep_their_zone_name_and_get_no_zone_id_property(
    example_synth: Synthesis,
) -> None:
    for subnet in subnets(example_synth).values():
        assert "AvailabilityZone" in subnet["Properties"]
        assert "AvailabilityZoneId" not in subnet["Properties"]


def test_default_subnets_carry_no_zone_id(default_synth: Synthesis) -> None:
    assert all(
        ZONE_ID_METADATA not in s.get("Metadata", {}) for s in subnets(default_synth).values()
    )


def test_adding_zone_ids_to_a_deployed_default_config_replaces_nothing(
    default_synth: Synthesis, example_synth: Synthesis
) -> None:
    missing_stacks, changes = compare(default_synth.templates, example_synth.templates, "us-west-2")
    assert (missing_stacks, changes) == ([], [])
    without_metadata = copy.deepcopy(example_synth.network)
    for subnet in resources(without_metadata, "AWS::EC2::Subnet").values():
        assert set(subnet.pop("Metadata")) == {ZONE_ID_METADATA}
    assert without_metadata == default_synth.network
    assert example_synth.cluster == default_synth.cluster


# --- The check, on synthesized templates ------------------------------------------------------


def zones_of(synth: Synthesis) -> CheckResult:
    return check_zones(synth.cluster, synth.network, synth.config.region)


def test_default_config_passes_naming_the_zone_id_that_lacks_g5(
    default_synth: Synthesis,
) -> None:
    result = zones_of(default_synth)
    assert result.status == "PASS", result.details
    assert result.details == ["usw2-az4 lacks g5.xlarge (pool gpu-spot-ng)"]
    assert "all 4 zone IDs of us-west-2" in result.summary
    gpu_row = next(line for line in result.table if line.startswith("gpu-spot-ng "))
    assert gpu_row.split() == ["gpu-spot-ng", "SPOT", "2/2", "2/2", "2/2", "1/2"]


def with_zone_id(synth: Synthesis, zone: str, zone_id: str) -> dict[str, Any]:
    """The network template as if the config had given ``zone_id`` for ``zone``."""
    network = copy.deepcopy(synth.network)
    for subnet in resources(network, "AWS::EC2::Subnet").values():
        if subnet["Properties"]["AvailabilityZone"] == zone:
            subnet["Metadata"][ZONE_ID_METADATA] = zone_id
    return network


def test_zone_ids_that_offer_every_type_pass_exactly(example_synth: Synthesis) -> None:
    result = zones_of(example_synth)
    assert (result.status, result.details) == ("PASS", [])
    assert "exact" in result.summary


def test_a_spot_pool_with_one_offered_type_in_a_zone_warns_in_exact_mode(
    example_synth: Synthesis,
) -> None:
    result = check_zones(
        example_synth.cluster, with_zone_id(example_synth, "us-west-2a", "usw2-az4"), "us-west-2"
    )
    assert result.status == "WARN"
    [warning] = result.details
    assert "pool gpu-spot-ng (spot: gpu-spot-ng-a-" in warning
    assert "in us-west-2a = usw2-az4: spot from 1 of its instance types only (g6.xlarge)" in warning


def test_a_zone_id_the_data_lacks_cannot_be_judged(example_synth: Synthesis) -> None:
    result = check_zones(
        example_synth.cluster, with_zone_id(example_synth, "us-west-2c", "usw2-az7"), "us-west-2"
    )
    assert result.status == "WARN"
    assert any("us-west-2c = usw2-az7: the data has no such zone ID" in d for d in result.details)


def test_types_the_snapshot_lists_in_no_zone_warn_with_the_command_to_ask_the_account(
    default_synth: Synthesis,
) -> None:
    """Bug caught: a stale snapshot (g6 in eu-west-1) was a hard FAIL with no way out."""
    cluster = copy.deepcopy(default_synth.cluster)
    for group in resources(cluster, "AWS::EKS::Nodegroup").values():
        if group["Properties"]["Labels"].get("pool") == "gpu-spot-ng":
            group["Properties"]["InstanceTypes"] = ["p3.2xlarge"]  # retired: moto has it nowhere
    result = check_zones(cluster, default_synth.network, "us-west-2")
    assert result.status == "WARN"
    [warning] = result.details
    assert warning.startswith("pool gpu-spot-ng (spot: gpu-spot-ng-a-")
    assert "the snapshot lists no zone ID of us-west-2 offering any of p3.2xlarge" in warning
    assert (
        "aws ec2 describe-instance-type-offerings --region us-west-2 --location-type "
        "availability-zone-id --filters Name=instance-type,Values=p3.2xlarge "
    ) in "\n".join(result.table)


SNAPSHOT_DATE = re.search(
    r"^# source: .*generated (\d{4}-\d{2}-\d{2}) ", OFFERINGS_FILE.read_text(), re.MULTILINE
)[1]  # type: ignore[index]
"""The generation date the offerings file's own header states (read here, not by the code)."""


def test_every_offline_verdict_names_the_snapshot_and_its_date(
    default_synth: Synthesis, example_synth: Synthesis
) -> None:
    """Bug caught: a verdict from bundled data that does not say how old the data is."""
    for synth in (default_synth, example_synth):
        summary = zones_of(synth).summary
        label = f"offline snapshot: moto 5.2.5's EC2 offerings, file generated {SNAPSHOT_DATE}"
        assert label in summary


@pytest.mark.slow
def test_a_region_without_data_is_skipped(tmp_path_factory: pytest.TempPathFactory) -> None:
    zones = ["ap-east-2a", "ap-east-2b"]
    config = config_with(
        {"region": "ap-east-2", "availability_zones": zones, **gpu_groups(zones, ["g6.xlarge"])}
    )
    result = zones_of(synthesize(config, tmp_path_factory.mktemp("ap-east-2")))
    assert result.status == "SKIP"
    assert result.summary.startswith(
        "no offerings data for ap-east-2 (moto 5.2.5 has 30 regions; offline snapshot: moto "
        f"5.2.5's EC2 offerings, file generated {SNAPSHOT_DATE}); check your zones yourself, "
        "or run verify --live:"
    )
    assert result.table[0].startswith("aws ec2 describe-availability-zones --region ap-east-2 ")


# --- The report, and scripts/verify.sh as a user runs it ---------------------------------------


@dataclass(frozen=True)
class Report:
    returncode: int
    stdout: str


def verify_report(config: dict[str, Any], tmp: Path) -> Report:
    """The verify report of ``config``.

    With ``CI`` set, ``bash scripts/verify.sh`` as a user runs it (every check). Locally, the
    same report of the ``zones`` check alone on an in-process synth (``print_report``, the exit
    code verify derives from it): the other checks' cfn-lint and checkov runs on these configs
    are what made the local suite slow, and the CLI tier runs verify.sh on other configs there.
    """
    path = tmp / "cluster.yaml"
    path.write_text(yaml.safe_dump(config))
    outdir = tmp / "cdk.out"
    if FULL_MATRIX:
        result = subprocess.run(
            ["bash", "scripts/verify.sh", "-c", f"config={path}", "--outdir", str(outdir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return Report(result.returncode, result.stdout + result.stderr)
    synth = synthesize(validate_config(merge_override(default_data(), config)), outdir)
    out = io.StringIO()
    ok = print_report(
        "zones", [check_zones(synth.cluster, synth.network, synth.config.region)], out
    )
    return Report(0 if ok else 1, out.getvalue())


def zones_lines(report: str) -> list[str]:
    """The ``zones`` line and the lines printed under it."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line[8:].startswith("zones "))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("          "))
    return lines[start:end]


@pytest.fixture(scope="module")
def us_east_1_run(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return verify_report(ALL_SIX_US_EAST_1, tmp_path_factory.mktemp("us-east-1"))


@pytest.fixture(scope="module")
def exact_fail_run(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return verify_report(A_IS_USW2_AZ4_WITH_G5_ONLY, tmp_path_factory.mktemp("usw2-az4"))


@pytest.mark.slow
def test_verify_warns_about_use1_az3_over_all_six_us_east_1_zones(
    us_east_1_run: Report,
) -> None:
    result = us_east_1_run
    assert result.returncode == 0, result.stdout  # a warning does not fail
    lines = zones_lines(result.stdout)
    assert lines[0].startswith("  WARN  zones ")
    text = "\n".join(lines)
    assert "use1-az3 offers none of g5.xlarge, g6.xlarge" in text
    assert (
        "use1-az3 offers none of m6i.xlarge, m6a.xlarge, m5.xlarge, m5a.xlarge, m7i.xlarge" in text
    )
    assert "may be use1-az3 in yours" in text
    commands = [line.strip() for line in lines if line.strip().startswith("aws ec2 ")]
    assert commands == [
        "aws ec2 describe-availability-zones --region us-east-1 "
        '--query "AvailabilityZones[].[ZoneName,ZoneId]" --output text',
        "aws ec2 describe-instance-type-offerings --region us-east-1 --location-type "
        "availability-zone-id --filters Name=instance-type,Values=g5.xlarge,g6.xlarge,m5.xlarge,"
        "m5a.xlarge,m6a.xlarge,m6i.xlarge,m7i.xlarge "
        '--query "InstanceTypeOfferings[].[Location,InstanceType]" --output text',
    ]


@pytest.mark.slow
def test_verify_warns_about_a_gpu_group_in_a_zone_id_the_snapshot_lists_without_its_types(
    exact_fail_run: Report,
) -> None:
    """Offline the snapshot may be older than the type's launch in that zone: a WARN with the
    command, not a FAIL (bug caught: a stale snapshot failing a deployable config)."""
    result = exact_fail_run
    assert result.returncode == 0, result.stdout
    lines = zones_lines(result.stdout)
    assert lines[0].startswith("  WARN  zones ")
    failing = [line for line in lines if "the zone offers none" in line]
    assert len(failing) == 1
    assert "gpu-spot-ng-a-" in failing[0]
    assert (
        "in us-west-2a = usw2-az4: the zone offers none of g5.xlarge in the snapshot"
        in (failing[0])
    )
    assert any(
        "describe-instance-type-offerings --region us-west-2 --location-type "
        "availability-zone-id --filters Name=instance-type,Values=g5.xlarge " in line
        for line in lines
    )


@pytest.mark.slow
def test_verify_prints_the_table_of_offered_types_per_zone(
    exact_fail_run: Report,
) -> None:
    table = [line.split() for line in zones_lines(exact_fail_run.stdout)]
    assert table[-3][:4] == ["pool", "capacity", "us-west-2a=usw2-az4", "us-west-2b=usw2-az1"]
    assert table[-2] == ["gpu-spot-ng", "SPOT", "0/1", "1/1", "-"]
    assert table[-1] == ["system", "SPOT", "5/5", "5/5", "5/5"]


def test_readme_example_adds_only_zone_ids_to_the_defaults() -> None:
    example = readme_example()
    assert example["availability_zones"] == default_data()["availability_zones"]
    assert set(example) == {"availability_zones", "availability_zone_ids"}


@pytest.mark.parametrize(
    ("zone", "zone_id"),
    [("us-west-2a", "usw2-az1"), ("eu-west-1b", "euw1-az2"), ("ap-northeast-1c", "apne1-az3")],
)
def test_model_nodes_carry_a_zone_id_of_their_own_region(zone: str, zone_id: str) -> None:
    """Bug caught: the autoscaler model labelled every region's nodes ``usw2-az*``."""
    assert model_zone_id(zone) == zone_id
