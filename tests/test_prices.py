"""``verify/data/ec2-on-demand-prices.json`` and its generator.

The generator reads a clone of aws/karpenter-provider-aws, which CI does not have: CI cannot
regenerate the whole file. What it can: run the generator byte for byte on a committed excerpt of
Karpenter's three tables (``tests/data/karpenter-pricing/``), check that the excerpt's prices are
the committed file's, and check the committed file's structure, provenance and dates.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cluster_config.node_groups import node_group_specs
from tests.support import ROOT, config_with
from verify.pricing import ON_DEMAND_PATH

EXCERPT = ROOT / "tests" / "data" / "karpenter-pricing"
COMMIT = "1d927085dd81a9df9301e613f371dac5b4d16bfe"
COMMIT_DATE = "2026-08-21T16:33:55-07:00"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_prices", ROOT / "scripts" / "generate_prices.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(ON_DEMAND_PATH.read_text())
    return loaded


def test_generator_reproduces_the_excerpt_byte_for_byte() -> None:
    text = generator().render(EXCERPT, COMMIT, COMMIT_DATE, "2026-12-02")
    assert text == (EXCERPT / "expected.json").read_text()


def test_the_excerpt_s_prices_are_the_committed_file_s(data: dict[str, Any]) -> None:
    """The excerpt is Karpenter's lines unchanged, so the full file must agree with it."""
    excerpt = json.loads((EXCERPT / "expected.json").read_text())
    assert excerpt["source"] == data["source"]
    for region, table in excerpt["regions"].items():
        committed = data["regions"][region]
        assert {k: v for k, v in table.items() if k != "on_demand_hourly"} == {
            k: v for k, v in committed.items() if k != "on_demand_hourly"
        }
        for instance_type, price in table["on_demand_hourly"].items():
            assert committed["on_demand_hourly"][instance_type] == price, (region, instance_type)


def test_the_file_names_its_source_commit_and_dates(data: dict[str, Any]) -> None:
    source = data["source"]
    assert source["repository"] == "aws/karpenter-provider-aws"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    generated = datetime.date.fromisoformat(data["generated_on"])
    committed = datetime.datetime.fromisoformat(source["commit_date"])
    assert committed.date() <= generated
    for region, table in data["regions"].items():
        as_of = datetime.datetime.fromisoformat(table["prices_as_of"].replace("Z", "+00:00"))
        assert as_of <= committed, region  # prices are older than the commit that holds them
        assert table["file"] in source["files"]


def test_every_region_of_karpenter_s_three_tables_is_there_in_its_currency(
    data: dict[str, Any],
) -> None:
    currencies = {r: t["currency"] for r, t in data["regions"].items()}
    assert currencies == {
        "cn-north-1": "CNY",
        "us-east-1": "USD",
        "us-gov-east-1": "USD",
        "us-gov-west-1": "USD",
    }
    for table in data["regions"].values():
        prices = table["on_demand_hourly"]
        assert len(prices) > 300
        assert all(isinstance(p, float) and p > 0 for p in prices.values())


def test_us_east_1_prices_every_type_of_the_default_config(data: dict[str, Any]) -> None:
    types = {t for s in node_group_specs(config_with()).all for t in s.instance_types}
    assert types <= set(data["regions"]["us-east-1"]["on_demand_hourly"])


def test_the_generator_refuses_a_file_that_is_not_a_price_table(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="generated at"):
        generator().read_table("package pricing\n")
