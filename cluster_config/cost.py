"""Monthly cost estimate of a config, from the dated price file ``data/prices.json``.

Estimates only: on-demand at list price, spot as a typical range, no data transfer, NAT data
processing, CloudWatch logs or KMS requests. A group's hourly price is that of its most
expensive priced type (the one a scale-up may get). Figures are per pool, summed over its groups
(``cluster_config.node_groups``). With ``observability.gpu_metrics`` on, Container Insights is
added per node from an assumed number of observations per node and minute (``prices.json``
``assumptions``, stated in the report).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster_config import ebs
from cluster_config.model import ClusterConfig
from cluster_config.node_groups import NodeGroupSpec, NodeGroupSpecs

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
class PoolCost:
    """One pool (or the system group): every one of its groups, from ``node_group_specs``."""

    groups: int
    capacity_types: tuple[str, ...]
    """Of its groups, spot first (a pool with an on-demand fallback has both)."""
    idle: Range
    """Monthly, every group at ``min_size``."""
    full: Range
    """Monthly, every group at ``max_size`` at its own capacity type, volumes included."""
    full_on_demand: float
    """Monthly, every group at ``max_size`` at on-demand list price, volumes included."""
    node_hour: Range
    """One node of the pool's first group (spot when it has spot) for an hour, its volume
    included: what an idle node costs until the autoscaler removes it."""
    fallback_node_hour: float | None
    """One on-demand fallback node for an hour, when the pool has a fallback."""
    warm_nodes: int = 0
    """Nodes kept ready by ``warm_nodes`` beyond the groups' ``min_size`` (priced in ``idle``:
    the buffer keeps them running with no pod of yours on them)."""
    warm: Range = Range(0, 0)
    """Monthly, those nodes (at the first group's price)."""


@dataclass(frozen=True)
class CostEstimate:
    idle: Range
    """Control plane, NAT gateways and their IPv4 addresses, every group at min_size."""
    full: Range
    """Everything at max_size."""
    pools: dict[str, PoolCost]
    """Pool name (``system`` for the system group) -> its cost; pools without a price are left
    out (their types are in ``unpriced``)."""
    unpriced: tuple[str, ...]
    recorded_on: str
    observability: Range | None = None
    """Container Insights per month, every group at min_size to every group at max_size;
    ``None`` when ``gpu_metrics`` is off. Already included in idle and full."""
    observations_per_node_minute: int = 0
    observation_million: float = 0.0


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


def estimate(
    config: ClusterConfig, node_groups: NodeGroupSpecs, prices: dict[str, Any] | None = None
) -> CostEstimate:
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
    pools: dict[str, PoolCost] = {}
    idle, full = fixed, fixed
    by_pool = {node_groups.system.pool: (node_groups.system,), **node_groups.pools}
    for pool, specs in by_pool.items():
        for spec in specs:
            missing = [t for t in spec.instance_types if t not in prices["instances"]]
            unpriced.extend(t for t in missing if t not in unpriced)
        cost = _pool_cost(prices, specs)
        if cost is not None:
            pools[pool] = cost
            idle, full = idle + cost.idle, full + cost.full
    per_minute = prices["assumptions"]["container_insights_observations_per_node_minute"]
    per_million = prices["container_insights_observation_million"]
    observability = None
    if config.observability.gpu_metrics:
        node_month = per_minute * 60 * hours / 1e6 * per_million
        every = [s for group in by_pool.values() for s in group]
        observability = Range(
            node_month * sum(s.min_size for s in every),
            node_month * sum(s.max_size for s in every),
        )
        idle = idle + Range(observability.low, observability.low)
        full = full + Range(observability.high, observability.high)
    return CostEstimate(
        idle=idle,
        full=full,
        pools=pools,
        unpriced=tuple(unpriced),
        recorded_on=prices["recorded_on"],
        observability=observability,
        observations_per_node_minute=per_minute,
        observation_million=per_million,
    )


def _pool_cost(prices: dict[str, Any], specs: tuple[NodeGroupSpec, ...]) -> PoolCost | None:
    hours = prices["hours_per_month"]
    ordered = sorted(specs, key=lambda s: (s.fallback, s.capacity_type != "SPOT"))
    node_hours: list[Range] = []
    on_demand_hours: list[float] = []
    for spec in ordered:
        hour = _node_hour(prices, spec.instance_types, spec.capacity_type)[0]
        on_demand = _node_hour(prices, spec.instance_types, "ON_DEMAND")[0]
        if hour is None or on_demand is None:
            return None
        volume_hour = _volume_month(prices, spec) / hours
        node_hours.append(hour + Range(volume_hour, volume_hour))
        on_demand_hours.append(on_demand.high + volume_hour)
    zero = Range(0, 0)
    fallback = [h for s, h in zip(ordered, on_demand_hours, strict=True) if s.fallback]
    # A buffer's pods fill the groups' min_size nodes first; only the rest are extra nodes.
    primary = [s for s in ordered if not s.fallback]
    warm_nodes = max(ordered[0].warm_nodes - sum(s.min_size for s in primary), 0)
    warm = node_hours[0].scaled(warm_nodes * hours)
    return PoolCost(
        groups=len(ordered),
        capacity_types=tuple(dict.fromkeys(s.capacity_type for s in ordered)),
        idle=sum(
            (h.scaled(s.min_size * hours) for s, h in zip(ordered, node_hours, strict=True)), warm
        ),
        full=sum(
            (h.scaled(s.max_size * hours) for s, h in zip(ordered, node_hours, strict=True)), zero
        ),
        full_on_demand=sum(
            h * s.max_size * hours for s, h in zip(ordered, on_demand_hours, strict=True)
        ),
        node_hour=node_hours[0],
        fallback_node_hour=fallback[0] if fallback else None,
        warm_nodes=warm_nodes,
        warm=warm,
    )


def _volume_month(prices: dict[str, Any], spec: NodeGroupSpec) -> float:
    """A node's root volume per month: size, and throughput and IOPS above gp3's baseline."""
    launch = spec.launch
    extra_throughput = launch.effective_throughput_mibps - ebs.GP3_BASELINE_THROUGHPUT_MIBPS
    extra_iops = (launch.iops or ebs.GP3_BASELINE_IOPS) - ebs.GP3_BASELINE_IOPS
    return float(
        spec.root_volume_gib * prices["ebs_gp3_gb_month"]
        + extra_throughput * prices["ebs_gp3_mibps_month"]
        + extra_iops * prices["ebs_gp3_iops_month"]
    )
