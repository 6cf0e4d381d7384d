"""EC2 vCPU quotas: what a config needs (``verify.quota_needs``) and the ``quotas`` line.

Pure functions of the node-group specs and the catalog's vCPUs; the account's values (``--live``)
are handed in as a mapping here (``tests/test_live.py`` reads them through boto3).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster_config.node_groups import node_group_specs
from tests.support import ROOT, config_with
from verify.quota_needs import QUOTAS_FILE, instance_class, instance_generation, quota_needs
from verify.quotas import check_quotas

ON_DEMAND_SYSTEM = {
    "system_node_group": {
        "instance_types": ["m6i.2xlarge"],
        "capacity_type": "ON_DEMAND",
        "min_size": 2,
        "max_size": 4,
    }
}


def needs_of(overrides: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    """Quota code -> (vCPUs at min scale, at max scale, number of groups)."""
    needs = quota_needs(node_group_specs(config_with(overrides)))
    return {n.quota.code: (n.min_vcpus, n.max_vcpus, len(n.groups)) for n in needs.needs}


def test_default_config_needs_standard_spot_for_the_system_group_and_g_spot_for_gpus() -> None:
    # system: 2..20 x 4 vCPUs; GPU pool: 3 zone groups of 0..4 x 4 vCPUs (g5/g6.xlarge)
    assert needs_of({}) == {"L-34B43A08": (8, 80, 1), "L-3819A6DF": (0, 48, 3)}


def test_an_on_demand_system_group_draws_from_the_standard_on_demand_quota() -> None:
    assert needs_of(ON_DEMAND_SYSTEM)["L-1216C47A"] == (16, 32, 1)  # m6i.2xlarge: 8 vCPUs


def test_on_demand_fallback_groups_count_against_the_g_on_demand_quota() -> None:
    """Bug caught: fallback groups left out of the quota sums (they are what runs when spot is
    out, and a new account's G on-demand quota is what blocks them)."""
    example = yaml.safe_load((ROOT / "examples" / "inference-and-training.yaml").read_text())
    needs = needs_of(example)
    assert needs["L-DB2E81BA"] == (0, 96, 2)  # training-od-a/b: 1 x g6e.12xlarge (48 vCPUs)
    assert needs["L-3819A6DF"] == (0, 12 * 4 + 2 * 2 * 48, 5)


@pytest.mark.parametrize(
    ("instance_type", "cls"),
    [("g6e.xlarge", "g"), ("p6-b200.48xlarge", "p"), ("vt1.3xlarge", "vt"), ("m6i.large", "m")],
)
def test_instance_class_is_the_family_s_leading_letters(instance_type: str, cls: str) -> None:
    assert instance_class(instance_type) == cls


def spot_pool(instance_type: str, **extra: Any) -> dict[str, Any]:
    pool = {"name": "gpu", "instance_types": [instance_type], "min_size": 0, "max_size": 2}
    return {"gpu_pools": [{**pool, **extra}]}


@pytest.mark.parametrize(
    ("instance_type", "code", "name"),
    [
        ("p5e.48xlarge", "L-C4BD4855", "All P5 Spot Instance Requests"),
        ("p5.48xlarge", "L-C4BD4855", "All P5 Spot Instance Requests"),
        ("p5en.48xlarge", "L-C4BD4855", "All P5 Spot Instance Requests"),
        ("p4d.24xlarge", "L-7212CCBC", "All P4, P3 and P2 Spot Instance Requests"),
        ("p4de.24xlarge", "L-7212CCBC", "All P4, P3 and P2 Spot Instance Requests"),
        ("p3dn.24xlarge", "L-7212CCBC", "All P4, P3 and P2 Spot Instance Requests"),
    ],
)
def test_p_spot_pools_name_the_p5_or_the_p4_p3_p2_spot_quota(
    instance_type: str, code: str, name: str
) -> None:
    """Bug caught: every P spot type mapped to one 'All P Spot Instance Requests' (L-7212CCBC);
    AWS's Spot Instance quotas page (read 2026-12-02) splits it, and p5/p5e/p5en count against
    'All P5 Spot Instance Requests' (L-C4BD4855): verify told p5e users to raise the wrong one."""
    config = config_with(spot_pool(instance_type))
    needs = quota_needs(node_group_specs(config))
    gpu = [n for n in needs.needs if n.quota.code not in ("L-34B43A08",)]
    assert [(n.quota.code, n.quota.name) for n in gpu] == [(code, name)]
    result = check_quotas(config.region, node_group_specs(config))
    assert code in result.summary  # above a new account's default (0)
    assert any(f"--quota-code {code} --desired-value" in line for line in result.table)


def test_p6_spot_quota_is_unknown_and_no_code_is_named_for_it() -> None:
    """Bug caught: p6-b200 spot counted against a P spot code no source names for it (the data
    file says 'unknown'); the line must say so and say what to look for instead of guessing."""
    config = config_with(spot_pool("p6-b200.48xlarge", max_size=1))
    needs = quota_needs(node_group_specs(config))
    assert [n.quota.code for n in needs.needs] == ["L-34B43A08"]  # the system group only
    # one group per zone, each 0..1 x 192 vCPUs
    assert [(u.families, u.look_for, u.max_vcpus) for u in needs.unknown] == [
        (("p6-b200",), "P6", 192)
    ] * len(node_group_specs(config).pools["gpu"])
    result = check_quotas(config.region, node_group_specs(config))
    assert result.status == "WARN"
    assert "quota class unknown for p6-b200 spot" in result.summary
    line = next(d for d in result.details if d.startswith("quota class unknown for p6-b200"))
    assert line.startswith(
        "quota class unknown for p6-b200 spot (gpu-a, gpu-b, gpu-c: 0 vCPUs at min scale, 576 at "
        "max scale)"
    )
    assert "check Service Quotas for EC2 'P6'" in line
    assert not any(code in " ".join(result.table) for code in ("L-7212CCBC", "L-C4BD4855"))
    live = check_quotas(config.region, node_group_specs(config), {"L-34B43A08": 80.0}, "today")
    assert live.status == "WARN"
    assert live.summary.endswith("quota class unknown for p6-b200 spot")


def test_p6_on_demand_counts_against_the_one_running_on_demand_p_quota() -> None:
    """AWS lists one 'Running On-Demand P instances' quota (L-417A185B), no P5 or P6 one."""
    for instance_type in ("p6-b200.48xlarge", "p5e.48xlarge", "p4d.24xlarge"):
        config = config_with(spot_pool(instance_type, capacity_type="ON_DEMAND"))
        needs = quota_needs(node_group_specs(config))
        assert "L-417A185B" in {n.quota.code for n in needs.needs}, instance_type
        assert needs.unknown == ()


@pytest.mark.parametrize(
    ("instance_type", "generation"),
    [("p4de.24xlarge", "p4"), ("p5en.48xlarge", "p5"), ("p6-b300.48xlarge", "p6")],
)
def test_instance_generation_is_letters_and_digits(instance_type: str, generation: str) -> None:
    assert instance_generation(instance_type) == generation


def test_inf_is_not_mistaken_for_the_standard_i_class() -> None:
    assert instance_class("inf2.xlarge") == "inf"


def test_the_quota_table_names_each_code_once_with_its_source_date() -> None:
    data = json.loads(Path(QUOTAS_FILE).read_text())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["read_on"])
    codes = [q["code"] for q in data["quotas"]]
    assert len(set(codes)) == len(codes) == 7
    assert all(re.fullmatch(r"L-[0-9A-F]{8}", code) for code in codes)
    for capacity in ("SPOT", "ON_DEMAND"):
        quotas = [q for q in data["quotas"] if q["capacity_type"] == capacity]
        classes = [c for q in quotas for c in q.get("classes", [])]
        assert len(classes) == len(set(classes)), capacity  # a class falls under one quota
        unknown = [
            g for u in data["unknown"] if u["capacity_type"] == capacity for g in u["generations"]
        ]
        generations = [g for q in quotas for g in q.get("generations", [])] + unknown
        assert len(generations) == len(set(generations)), capacity  # one quota, or unknown
        # a generation's class is not also a whole class of the same capacity type
        assert not {instance_class(g) for g in generations} & set(classes), capacity
    assert all(u["quota"] == "unknown" for u in data["unknown"])
    assert {"spot", "on_demand", "codes", "unknown"} <= set(data["sources"])


def test_offline_line_warns_above_a_new_account_s_default_and_prints_the_commands() -> None:
    config = config_with({})
    result = check_quotas(config.region, node_group_specs(config))
    assert result.status == "WARN"
    assert "above a new account's default for L-34B43A08, L-3819A6DF" in result.summary
    assert (
        "G and VT spot (All G and VT Spot Instance Requests, L-3819A6DF): 0 vCPUs at min scale, "
        "48 at max scale (3 groups); a new account starts at 0: request at least 48 (L-3819A6DF) "
        "unless yours was raised"
    ) in result.details
    assert any("read 2026-12-02" in line for line in result.details)
    assert (
        "aws service-quotas request-service-quota-increase --region us-west-2 --service-code ec2 "
        "--quota-code L-3819A6DF --desired-value 48"
    ) in result.table


def test_offline_line_passes_when_no_quota_has_a_published_default() -> None:
    overrides = {
        **ON_DEMAND_SYSTEM,
        "gpu_pools": [
            {
                "name": "gpu",
                "instance_types": ["g6.xlarge"],
                "capacity_type": "ON_DEMAND",
                "min_size": 0,
                "max_size": 2,
            }
        ],
    }
    config = config_with(overrides)
    result = check_quotas(config.region, node_group_specs(config))
    assert result.status == "PASS", result.details
    assert "no default published" in result.details[0]


def test_live_quota_below_max_scale_warns_naming_the_code_to_request() -> None:
    config = config_with({})
    live = {"L-34B43A08": 640.0, "L-3819A6DF": 8.0}
    result = check_quotas(config.region, node_group_specs(config), live, "2026-12-02")
    assert result.status == "WARN"
    assert result.details[0] == (
        "G and VT spot quota 8 vCPUs; this config can ask for 48 at max scale: request L-3819A6DF"
    )
    assert "asked 2026-12-02" in result.summary


def test_live_quota_below_min_scale_fails() -> None:
    """Certain: the system group's two on-demand nodes cannot start on 8 vCPUs."""
    config = config_with(ON_DEMAND_SYSTEM)
    live = {"L-1216C47A": 8.0, "L-3819A6DF": 48.0}
    result = check_quotas(config.region, node_group_specs(config), live, "2026-12-02")
    assert result.status == "FAIL"
    assert result.details[0].startswith(
        "Standard on-demand quota 8 vCPUs; this config needs 16 at min scale (spot-ng)"
    )


def test_live_quotas_that_cover_max_scale_pass() -> None:
    config = config_with({})
    live = {"L-34B43A08": 80.0, "L-3819A6DF": 48.0}
    result = check_quotas(config.region, node_group_specs(config), live, "2026-12-02")
    assert (result.status, result.table) == ("PASS", [])
