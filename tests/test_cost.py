"""The cost estimate (``verify.pricing``) and the ``cost`` line (``verify.cost``).

Prices are the committed data (Karpenter's generated us-east-1 table,
``verify/data/prices.json``, the EKS calendar) or, for ``--live``, handed in as ``with_live``
receives them from ``verify.live``.
The date is injected, so the extended-support verdicts do not change with the calendar.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
import yaml

from cluster_config.node_groups import NodeGroupSpecs, node_group_specs
from cluster_config.versions import KUBERNETES_RELEASES
from tests.support import ROOT, config_with
from verify.cost import check_cost
from verify.pricing import (
    EKS_VERSIONS_PATH,
    InstancePrices,
    control_plane,
    estimate,
    offline_prices,
    with_live,
)

TODAY = datetime.date(2026, 12, 2)
HOURS = 730
FIXED = 73 + 32.85 + 3.65
"""Control plane (standard support) + one NAT gateway + its public IPv4, per month."""
US_EAST_1 = {
    "region": "us-east-1",
    "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
}
ON_DEMAND_SYSTEM = {
    "system_node_group": {
        "instance_types": ["m6i.2xlarge"],
        "capacity_type": "ON_DEMAND",
        "min_size": 2,
        "max_size": 4,
    }
}


def specs(config: Any) -> NodeGroupSpecs:
    return node_group_specs(config)


def capacity_example() -> Any:
    return config_with(yaml.safe_load((ROOT / "examples" / "capacity-strategy.yaml").read_text()))


def test_us_east_1_default_is_priced_from_the_generated_table() -> None:
    """Done when: us-east-1 gets a cost figure (it was skipped: prices existed for us-west-2)."""
    config = config_with(US_EAST_1)
    cost = estimate(config, specs(config), today=TODAY)
    assert not cost.partial
    # 2 system nodes at the dearest default type's on-demand cap (m7i.xlarge $0.2016) + 50 GiB gp3
    assert cost.idle.low == pytest.approx(FIXED + 2 * (0.2016 * HOURS + 4))
    pool = cost.pools["gpu-spot-ng"]
    assert pool.full_on_demand == pytest.approx(3 * 4 * (1.006 * HOURS + 8))  # g5.xlarge
    result = check_cost(config, specs(config), today=TODAY)
    assert result.status == "PASS"
    assert result.summary == (
        "idle $412/month, full scale $12041/month (estimate, USD, spot at its on-demand cap)"
    )
    assert any("zz_generated.pricing_aws.go at 1d92708" in d for d in result.details)
    assert any("prices as of 2026-07-20" in d for d in result.details)


def test_a_region_without_offline_prices_says_the_headline_is_partial() -> None:
    """Done when: in every region the headline includes every group or says it is partial."""
    result = check_cost(config_with(), specs(config_with()), today=TODAY)
    assert result.summary == (
        "at least $110/month idle, $110/month at full scale (estimate, USD); 4 groups unpriced: "
        "spot-ng, gpu-spot-ng-a, gpu-spot-ng-b, gpu-spot-ng-c"
    )
    assert any(
        d.startswith("prices: no offline on-demand prices for us-west-2") for d in result.details
    )


def test_an_on_demand_system_group_is_in_the_headline() -> None:
    """Bug caught: an unpriced system group was left out of "idle $227/month" without a word."""
    config = config_with({**US_EAST_1, **ON_DEMAND_SYSTEM})
    cost = estimate(config, specs(config), today=TODAY)
    system = 2 * (0.384 * HOURS + 4)  # m6i.2xlarge on-demand + 50 GiB gp3
    assert cost.pools["system"].idle.low == pytest.approx(system)
    assert cost.idle.low == pytest.approx(FIXED + system)
    summary = check_cost(config, specs(config), today=TODAY).summary
    assert summary.startswith(f"idle ${round(FIXED + system)}/month, ")


def test_a_group_with_an_unpriced_type_is_named_and_the_total_is_a_floor() -> None:
    config = config_with(US_EAST_1)
    table = dict(offline_prices("us-east-1").on_demand)
    del table["g5.xlarge"]
    prices = InstancePrices("us-east-1", "USD", table, "a test table")
    cost = estimate(config, specs(config), today=TODAY, prices=prices)
    assert cost.unpriced_groups == ("gpu-spot-ng-a", "gpu-spot-ng-b", "gpu-spot-ng-c")
    assert cost.unpriced_types == ("g5.xlarge",)
    assert "gpu-spot-ng" not in cost.pools
    summary = check_cost(config, specs(config), today=TODAY, prices=prices).summary
    assert summary.startswith("at least $")
    assert summary.endswith("3 groups unpriced: gpu-spot-ng-a, gpu-spot-ng-b, gpu-spot-ng-c")


def test_a_fallback_is_priced_on_demand_and_spot_at_its_cap_offline() -> None:
    config = capacity_example()
    prices = offline_prices("us-east-1")  # the example is in us-west-2: no offline table
    cost = estimate(config, specs(config), today=TODAY, prices=prices)
    pool = cost.pools["gpu-spot"]
    assert pool.capacity_types == ("SPOT", "ON_DEMAND")
    assert pool.fallback_node_hour == pytest.approx(1.006 + 8 / HOURS)
    assert pool.spot_capped
    lines = check_cost(config, specs(config), today=TODAY, prices=prices).details
    assert any("on-demand fallback node $1.02/hour" in line for line in lines), lines
    assert any(line.startswith("gpu-dev: idle $0/month") for line in lines), lines
    assert any("spot at most its on-demand price" in line for line in lines), lines


def test_live_spot_prices_replace_the_cap_with_a_dated_range() -> None:
    config = config_with(US_EAST_1)
    spot = {
        "g5.xlarge": {"us-east-1a": 0.45, "us-east-1b": 0.52},
        "g6.xlarge": {"us-east-1a": 0.31},
        **{t: {"us-east-1a": 0.07} for t in config.system_node_group.instance_types},
    }
    prices = with_live(offline_prices("us-east-1"), {}, spot, "2026-12-02")
    cost = estimate(config, specs(config), today=TODAY, prices=prices)
    pool = cost.pools["gpu-spot-ng"]
    assert not cost.spot_capped
    assert pool.node_hour.low == pytest.approx(0.31 + 8 / HOURS)
    assert pool.node_hour.high == pytest.approx(0.52 + 8 / HOURS)
    details = check_cost(config, specs(config), today=TODAY, prices=prices).details
    assert any("DescribeSpotPriceHistory, 2026-12-02" in d for d in details)


def test_live_price_list_prices_complete_a_region_without_offline_prices() -> None:
    config = config_with()
    types = {t for s in specs(config).all for t in s.instance_types}
    live = {t: 1.0 for t in types}
    prices = with_live(offline_prices("us-west-2"), live, {}, "2026-12-02")
    result = check_cost(config, specs(config), today=TODAY, prices=prices)
    assert result.summary.startswith("idle $")
    assert any(
        "live Price List API 2026-12-02 for g5.xlarge, g6.xlarge" in d for d in result.details
    )


def test_china_is_priced_in_cny_and_says_what_it_cannot_price() -> None:
    config = config_with(
        {"region": "cn-north-1", "availability_zones": ["cn-north-1a", "cn-north-1b"]}
    )
    cost = estimate(config, specs(config), today=TODAY)
    assert cost.currency == "CNY"
    summary = check_cost(config, specs(config), today=TODAY).summary
    assert summary.startswith("at least CNY ")
    assert "unpriced: control plane, NAT gateways, public IPv4, EBS volumes" in summary


@pytest.mark.parametrize(
    ("minor", "today", "status", "hour"),
    [
        ("1.33", TODAY, "WARN", 0.60),  # extended since 2026-07-29
        ("1.34", TODAY, "WARN", 0.60),  # extended from 2026-12-02
        ("1.34", datetime.date(2026, 10, 3), "WARN", 0.10),  # 60 days before
        ("1.34", datetime.date(2026, 10, 2), "PASS", 0.10),  # 61 days before
        ("1.35", TODAY, "PASS", 0.10),
        ("1.36", TODAY, "PASS", 0.10),
    ],
)
def test_control_plane_follows_the_eks_support_calendar(
    minor: str, today: datetime.date, status: str, hour: float
) -> None:
    config = config_with({**US_EAST_1, "kubernetes_version": minor})
    assert control_plane(minor, today).hour_usd == hour
    result = check_cost(config, specs(config), today=today)
    assert result.status == status
    assert result.details[0].startswith(f"control plane: Kubernetes {minor}, EKS ")
    assert f"${hour:.2f}/hour" in result.details[0]
    if status == "WARN":
        assert "extended support" in result.summary


def test_every_supported_minor_has_a_dated_calendar_entry() -> None:
    data = json.loads(EKS_VERSIONS_PATH.read_text())
    assert set(KUBERNETES_RELEASES) <= set(data["minors"])
    assert data["cluster_hour_usd"] == {"standard": 0.10, "extended": 0.60}
    for entry in data["minors"].values():
        dates = [datetime.date.fromisoformat(entry[k]) for k in entry]
        assert dates == sorted(dates)  # release < end of standard < end of extended
    datetime.date.fromisoformat(data["read_on"])


def test_gpu_metrics_add_their_container_insights_cost_with_the_assumption() -> None:
    plain, metered = (
        config_with(US_EAST_1),
        config_with({**US_EAST_1, "observability": {"gpu_metrics": True}}),
    )
    off = estimate(plain, specs(plain), today=TODAY)
    on = estimate(metered, specs(metered), today=TODAY)
    assert off.observability is None
    # 300 observations/node-minute x 60 x 730 h = 13.14 M per node-month at $0.21 per million
    node_month = 300 * 60 * 730 / 1e6 * 0.21
    # cdk.json's default: system group 2..20 nodes, GPU pool 0..4 in each of 3 zones
    at_min, at_max = 2, 20 + 3 * 4
    assert on.observability is not None
    assert on.observability.low == pytest.approx(at_min * node_month)
    assert on.observability.high == pytest.approx(at_max * node_month)
    assert on.idle.low - off.idle.low == pytest.approx(at_min * node_month)
    assert on.full.high - off.full.high == pytest.approx(at_max * node_month)
    (line,) = [
        d
        for d in check_cost(metered, specs(metered), today=TODAY).details
        if d.startswith("gpu_metrics")
    ]
    assert "assumes 300 observations per node and minute at $0.21 per million" in line
    assert not any(
        d.startswith("gpu_metrics") for d in check_cost(plain, specs(plain), today=TODAY).details
    )
