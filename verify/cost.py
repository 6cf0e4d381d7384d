"""The ``cost`` line: a monthly estimate of the config from the dated price file, per pool."""

from __future__ import annotations

from cluster_config import ClusterConfig
from cluster_config.cost import PoolCost, estimate
from cluster_config.labels import SYSTEM_POOL
from cluster_config.node_groups import NodeGroupSpecs
from verify.report import CheckResult


def check_cost(config: ClusterConfig, node_groups: NodeGroupSpecs) -> CheckResult:
    """Always PASS or SKIP: an estimate informs, it cannot fail a deploy."""
    try:
        cost = estimate(config, node_groups)
    except ValueError as error:
        return CheckResult("cost", "SKIP", str(error))
    unneeded = config.autoscaler.scale_down_unneeded_minutes
    details = []
    for pool, figures in cost.pools.items():
        name = f"{SYSTEM_POOL} ({node_groups.system.name})" if pool == SYSTEM_POOL else pool
        details.append(f"{name}: {_pool_line(figures)}")
        if pool != SYSTEM_POOL:
            rate = figures.node_hour
            idle_node = (
                f"{pool}: an idle node costs {_hourly_range(rate.low, rate.high)}/hour "
                f"({_hourly(rate.high * unneeded / 60)} until scale-down after {unneeded} min idle)"
            )
            if figures.fallback_node_hour is not None:
                idle_node += (
                    f"; an on-demand fallback node {_hourly(figures.fallback_node_hour)}/hour"
                )
            details.append(idle_node)
            if figures.warm_nodes:
                details.append(
                    f"{pool}: warm_nodes keep {figures.warm_nodes} node(s) beyond min_size "
                    f"running: {figures.warm.text()}/month (in idle)"
                )
    if cost.observability is not None:
        details.append(
            f"gpu_metrics (Container Insights): {cost.observability.text()}/month from idle to "
            f"full scale, included above; assumes {cost.observations_per_node_minute} "
            f"observations per node and minute at ${cost.observation_million} per million, "
            "container logs off"
        )
    if cost.unpriced:
        details.append(f"no price in data/prices.json for: {', '.join(cost.unpriced)}")
    details.append(
        f"estimates, not live: prices recorded {cost.recorded_on} in data/prices.json (on-demand "
        "list price, spot a typical range; no data transfer or NAT data processing)"
    )
    return CheckResult(
        "cost",
        "PASS",
        f"idle {cost.idle.text()}/month, full scale {cost.full.text()}/month (estimate, USD)",
        details,
    )


def _pool_line(cost: PoolCost) -> str:
    groups = f"{cost.groups} group{'s' if cost.groups > 1 else ''}"
    if cost.capacity_types == ("ON_DEMAND",):
        price = "on-demand list price"
    else:
        price = f"spot range; all on-demand ${round(cost.full_on_demand)}"
        if "ON_DEMAND" in cost.capacity_types:
            price += "; fallback groups at on-demand price"
    full = f"up to {cost.full.text()}/month at max_size"
    return f"idle {cost.idle.text()}/month, {full} ({groups}, {price})"


def _hourly_range(low: float, high: float) -> str:
    return _hourly(low) if _hourly(low) == _hourly(high) else f"{_hourly(low)}-{_hourly(high)}"


def _hourly(value: float) -> str:
    return f"${value:.2f}"
