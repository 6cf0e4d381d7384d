"""The ``cost`` line: a monthly estimate of the config, per pool, every price's source dated.

The headline includes every group, or says it is partial ("at least ...; 2 groups unpriced: ...").
PASS, or WARN when the cluster's Kubernetes minor is in EKS extended support or enters it within
``EXTENDED_SUPPORT_NOTICE_DAYS`` (the control plane then costs six times as much).
"""

from __future__ import annotations

import datetime

from cluster_config import ClusterConfig
from cluster_config.labels import SYSTEM_POOL
from cluster_config.node_groups import NodeGroupSpecs
from verify.pricing import (
    EXTENDED_SUPPORT_NOTICE_DAYS,
    ControlPlane,
    CostEstimate,
    InstancePrices,
    PoolCost,
    estimate,
    load_prices,
)
from verify.report import CheckResult, Status

SYMBOLS = {"USD": "$", "CNY": "CNY "}


def check_cost(
    config: ClusterConfig,
    node_groups: NodeGroupSpecs,
    *,
    today: datetime.date | None = None,
    prices: InstancePrices | None = None,
) -> CheckResult:
    today = today or datetime.date.today()
    cost = estimate(config, node_groups, today=today, prices=prices)
    symbol = SYMBOLS.get(cost.currency, f"{cost.currency} ")
    unneeded = config.autoscaler.scale_down_unneeded_minutes
    plane, notice = _control_plane(cost.control_plane)
    details = [plane]
    for pool, figures in cost.pools.items():
        name = f"{SYSTEM_POOL} ({node_groups.system.name})" if pool == SYSTEM_POOL else pool
        details.append(f"{name}: {_pool_line(figures, symbol)}")
        if pool != SYSTEM_POOL:
            rate = figures.node_hour
            idle_node = (
                f"{pool}: an idle node costs {_hourly_range(rate.low, rate.high, symbol)}/hour "
                f"({_hourly(rate.high * unneeded / 60, symbol)} until scale-down after "
                f"{unneeded} min idle)"
            )
            if figures.fallback_node_hour is not None:
                fallback = _hourly(figures.fallback_node_hour, symbol)
                idle_node += f"; an on-demand fallback node {fallback}/hour"
            details.append(idle_node)
            if figures.warm_nodes:
                details.append(
                    f"{pool}: warm_nodes keep {figures.warm_nodes} node(s) beyond min_size "
                    f"running: {figures.warm.text(symbol)}/month (in idle)"
                )
    if cost.observability is not None:
        details.append(
            f"gpu_metrics (Container Insights): {cost.observability.text()}/month from idle to "
            f"full scale, included above; assumes {cost.observations_per_node_minute} "
            f"observations per node and minute at ${cost.observation_million} per million, "
            "container logs off"
        )
    if cost.unpriced_groups:
        details.append(
            f"unpriced: {', '.join(cost.unpriced_groups)} (no on-demand price for "
            f"{', '.join(cost.unpriced_types)} in {config.region})"
        )
    details += [f"unpriced: {item}" for item in cost.unpriced_items]
    details += _bases(cost)
    status: Status = "WARN" if notice else "PASS"
    return CheckResult("cost", status, _headline(cost, symbol, notice), details)


def _headline(cost: CostEstimate, symbol: str, notice: str | None) -> str:
    unit = f"estimate, {cost.currency}"
    if cost.spot_capped:
        unit += ", spot at its on-demand cap"
    if cost.partial:
        parts = []
        if cost.unpriced_groups:
            count = len(cost.unpriced_groups)
            names = ", ".join(cost.unpriced_groups)
            parts.append(f"{count} group{'s' if count > 1 else ''} unpriced: {names}")
        parts += [f"unpriced: {item}" for item in cost.unpriced_items]
        text = (
            f"at least {cost.idle.text(symbol)}/month idle, {cost.full.text(symbol)}/month at full "
            f"scale ({unit}); {'; '.join(parts)}"
        )
    else:
        idle, full = cost.idle.text(symbol), cost.full.text(symbol)
        text = f"idle {idle}/month, full scale {full}/month ({unit})"
    return f"{text}; {notice}" if notice else text


def _control_plane(plane: ControlPlane) -> tuple[str, str | None]:
    """The control plane's detail line, and the headline notice of extended support."""
    if plane.hour_usd is None or plane.end_of_standard is None or plane.days_to_extended is None:
        return (
            f"control plane: Kubernetes {plane.minor}: not in the EKS calendar ({plane.basis})",
            None,
        )
    extended = plane.extended_hour_usd
    month = plane.hour_usd * load_prices()["hours_per_month"]
    line = f"control plane: Kubernetes {plane.minor}, EKS {plane.support} support, "
    line += f"${plane.hour_usd:.2f}/hour (${round(month)}/month); "
    if plane.support == "extended":
        line += f"standard support ended {plane.end_of_standard}"
        notice = f"Kubernetes {plane.minor} is in EKS extended support (${plane.hour_usd:.2f}/hour)"
    else:
        line += f"standard support until {plane.end_of_standard}"
        notice = None
        if plane.days_to_extended <= EXTENDED_SUPPORT_NOTICE_DAYS:
            notice = (
                f"Kubernetes {plane.minor} enters EKS extended support on {plane.end_of_standard} "
                f"(control plane ${extended:.2f}/hour instead of ${plane.hour_usd:.2f})"
            )
    if notice:
        line += "; upgrade the minor (README, Upgrading Kubernetes) to stay on standard support"
    return f"{line} ({plane.basis})", notice


def _bases(cost: CostEstimate) -> list[str]:
    fixed = load_prices()
    return [
        f"prices: {cost.prices.on_demand_basis}",
        f"prices: {cost.prices.spot_basis}",
        f"prices: NAT gateway, public IPv4, EBS gp3 and Container Insights at US East/West list "
        f"prices recorded {fixed['recorded_on']} in verify/data/prices.json (other regions differ "
        "slightly); no data transfer or NAT data processing",
    ]


def _pool_line(cost: PoolCost, symbol: str) -> str:
    groups = f"{cost.groups} group{'s' if cost.groups > 1 else ''}"
    if cost.capacity_types == ("ON_DEMAND",):
        price = "on-demand list price"
    else:
        spot = "spot at most on-demand" if cost.spot_capped else "spot range"
        price = f"{spot}; all on-demand {symbol}{round(cost.full_on_demand)}"
        if "ON_DEMAND" in cost.capacity_types:
            price += "; fallback groups at on-demand price"
    full = f"up to {cost.full.text(symbol)}/month at max_size"
    return f"idle {cost.idle.text(symbol)}/month, {full} ({groups}, {price})"


def _hourly_range(low: float, high: float, symbol: str) -> str:
    if _hourly(low, symbol) == _hourly(high, symbol):
        return _hourly(low, symbol)
    return f"{_hourly(low, symbol)}-{_hourly(high, symbol)}"


def _hourly(value: float, symbol: str = "$") -> str:
    return f"{symbol}{value:.2f}"
