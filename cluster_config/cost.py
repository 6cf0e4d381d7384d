"""Monthly cost estimate of a config, from the dated price file ``data/prices.json``.

Estimates only: on-demand at list price, spot as a typical range, no data transfer, NAT data
processing, CloudWatch logs or KMS requests. A group's hourly price is that of its most
expensive priced type (the one a scale-up may get). With ``observability.gpu_metrics`` on,
Container Insights is added per node-hour from an assumed number of observations per node and
minute (``prices.json`` ``assumptions``, stated in the report).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster_config.model import ClusterConfig

PRICES_PATH = Path(__file__).resolve().parents[1] / "data" / "prices.json"


@dataclass(frozen=True)
class Range:
    low: float
    high: float

    def __add__(self, other: Range) -> Range:
        return Range(self.low + other.low, self.high + other.high)

    def scaled(self, factor: float) -> Range:
        return Range(self.low * factor, self.high * factor)

    def text(self) -> str:
        low, high = round(self.low), round(self.high)
        return f"${low}" if low == high else f"${low}-{high}"


@dataclass(frozen=True)
class CostEstimate:
    idle: Range
    """Control plane, NAT gateways and their IPv4 addresses, system nodes at min_size."""
    full: Range
    """Everything at max_size."""
    groups: dict[str, Range]
    """Per group at max_size at its own capacity type, including its volumes."""
    groups_on_demand: dict[str, float]
    """Per group at max_size at on-demand list price, including its volumes."""
    idle_gpu_node_hour: dict[str, Range]
    """Per GPU group: one node for one hour."""
    observability: Range | None
    """Container Insights per month, idle (system nodes at min_size) to full scale (every group
    at max_size); ``None`` when ``gpu_metrics`` is off. Already included in idle and full."""
    observations_per_node_minute: int
    observation_million: float
    unpriced: tuple[str, ...]
    recorded_on: str


def load_prices(path: Path = PRICES_PATH) -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return prices


def _node_hour(
    prices: dict[str, Any], types: tuple[str, ...], capacity: str
) -> tuple[Range | None, list[str]]:
    table = prices["instances"]
    missing = [t for t in types if t not in table]
    priced = [table[t] for t in types if t in table]
    if not priced:
        return None, missing
    if capacity == "ON_DEMAND":
        top = max(p["on_demand"] for p in priced)
        return Range(top, top), missing
    return Range(max(p["spot"][0] for p in priced), max(p["spot"][1] for p in priced)), missing


def estimate(config: ClusterConfig, prices: dict[str, Any] | None = None) -> CostEstimate:
    """Monthly figures for ``config``; raises ``ValueError`` for a region without prices."""
    prices = prices or load_prices()
    if prices["region"] != config.region:
        raise ValueError(f"no price data for region {config.region} (have {prices['region']})")
    hours = prices["hours_per_month"]
    fixed_hour = prices["eks_cluster_hour"] + config.nat_gateways * (
        prices["nat_gateway_hour"] + prices["public_ipv4_hour"]
    )
    fixed = Range(fixed_hour * hours, fixed_hour * hours)
    unpriced: list[str] = []
    groups: dict[str, Range] = {}
    groups_on_demand: dict[str, float] = {}
    node_hours: dict[str, Range] = {}
    on_demand_hours: dict[str, float] = {}
    system = config.system_node_group
    members = [
        (system.name, system.instance_types, system.capacity_type, system.root_volume_gib),
        *(
            (g.name, g.instance_types, g.capacity_type, config.gpu_root_volume_gib)
            for g in config.gpu_node_groups
        ),
    ]
    for name, types, capacity, volume_gib in members:
        hour, missing = _node_hour(prices, types, capacity)
        unpriced.extend(t for t in missing if t not in unpriced)
        if hour is None:
            continue
        volume_hour = volume_gib * prices["ebs_gp3_gb_month"] / hours
        node_hours[name] = hour + Range(volume_hour, volume_hour)
        on_demand = _node_hour(prices, types, "ON_DEMAND")[0]
        assert on_demand is not None
        on_demand_hours[name] = on_demand.high + volume_hour
    system_node = node_hours.get(system.name, Range(0, 0))
    idle = fixed + system_node.scaled(system.min_size * hours)
    full = fixed
    per_minute = prices["assumptions"]["container_insights_observations_per_node_minute"]
    node_month = per_minute * 60 * hours / 1e6 * prices["container_insights_observation_million"]
    observability = None
    if config.observability.gpu_metrics:
        nodes_at_max = system.max_size + sum(g.max_size for g in config.gpu_node_groups)
        observability = Range(node_month * system.min_size, node_month * nodes_at_max)
        idle = idle + Range(observability.low, observability.low)
        full = full + Range(observability.high, observability.high)
    for name, _types, _capacity, _volume in members:
        if name not in node_hours:
            continue
        size = system.max_size if name == system.name else _max_size(config, name)
        groups[name] = node_hours[name].scaled(size * hours)
        groups_on_demand[name] = on_demand_hours[name] * size * hours
        full = full + groups[name]
    return CostEstimate(
        idle=idle,
        full=full,
        groups=groups,
        groups_on_demand=groups_on_demand,
        idle_gpu_node_hour={
            g.name: node_hours[g.name] for g in config.gpu_node_groups if g.name in node_hours
        },
        observability=observability,
        observations_per_node_minute=per_minute,
        observation_million=prices["container_insights_observation_million"],
        unpriced=tuple(unpriced),
        recorded_on=prices["recorded_on"],
    )


def _max_size(config: ClusterConfig, name: str) -> int:
    return next(g.max_size for g in config.gpu_node_groups if g.name == name)
