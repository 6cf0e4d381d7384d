"""The ``cost`` line: a monthly estimate of the config from the dated price file."""

from __future__ import annotations

from cluster_config import ClusterConfig
from cluster_config.cost import estimate
from verify.report import CheckResult


def check_cost(config: ClusterConfig) -> CheckResult:
    """Always PASS or SKIP: an estimate informs, it cannot fail a deploy."""
    try:
        cost = estimate(config)
    except ValueError as error:
        return CheckResult("cost", "SKIP", str(error))
    details = [
        f"{name}: up to {cost.groups[name].text()}/month at max_size "
        + (
            f"(spot range; on-demand ${round(cost.groups_on_demand[name])})"
            if _is_spot(config, name)
            else "(on-demand list price)"
        )
        for name in cost.groups
    ]
    details += [
        f"{name}: an idle GPU node costs {_hourly_range(rate.low, rate.high)}/hour"
        f" ({_hourly(rate.high * config.autoscaler.scale_down_unneeded_minutes / 60)} "
        f"until scale-down after {config.autoscaler.scale_down_unneeded_minutes} min idle)"
        for name, rate in cost.idle_gpu_node_hour.items()
    ]
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


def _is_spot(config: ClusterConfig, name: str) -> bool:
    groups = {config.system_node_group.name: config.system_node_group.capacity_type}
    groups.update({g.name: g.capacity_type for g in config.gpu_node_groups})
    return groups[name] == "SPOT"


def _hourly_range(low: float, high: float) -> str:
    return _hourly(low) if _hourly(low) == _hourly(high) else f"{_hourly(low)}-{_hourly(high)}"


def _hourly(value: float) -> str:
    return f"${value:.2f}"
