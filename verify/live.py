"""``verify --live``: what the deploying account says today, read-only, through boto3.

Opt-in. Credentials come from boto3's standard chain (environment, shared config and SSO
profiles, container and instance roles); without any, the report gets one SKIP line and the
offline checks stand. Every call has bounded timeouts and few retries (``CLIENT_CONFIG``), and a
call that fails (no permission, no network, throttled) becomes a note in the ``live`` line, never
a crash or a hang. The calls, all read-only (IAM actions in docs/verify.md):

- EC2 DescribeAvailabilityZones: the account's zone-name -> zone-ID map;
- EC2 DescribeInstanceTypeOfferings (``availability-zone-id``): what each zone ID offers today;
- EC2 GetSpotPlacementScores: per spot pool, how likely a single-zone request for its max size
  succeeds in each zone (1-10);
- EC2 DescribeSpotPriceHistory: the newest spot price of each type in each zone;
- Service Quotas GetServiceQuota: the vCPU quotas the config draws from;
- Price List GetProducts (``pricing``, us-east-1 endpoint): on-demand prices, asked only for the
  types the offline price file lacks in the region.

This module only asks and collects (``LiveFacts``); the checks judge (``verify.zones``,
``verify.quotas``, ``verify.cost``, and ``check_live`` here for the ``live`` line itself).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cluster_config.node_groups import NodeGroupSpecs
from cluster_config.zone_offerings import RegionOfferings
from verify.quota_needs import SERVICE_CODE, quota_needs
from verify.report import CheckResult, Status
from verify.zones import LiveOfferings

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 15
MAX_ATTEMPTS = 2
"""botocore "standard" retry mode: the first try and one retry."""
PRICING_REGION = "us-east-1"
"""The Price List API answers from us-east-1 (and a few others) for every region of ``aws``."""
LOW_PLACEMENT_SCORE = 3
"""GetSpotPlacementScores: 10 means a request is highly likely to succeed, 1 not likely (EC2
User Guide, "Spot placement score"); at or below this a pool's zone is warned about."""


def client_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )


@dataclass
class LiveFacts:
    region: str
    asked_on: str
    zones: LiveOfferings | None = None
    quotas: dict[str, float | None] = field(default_factory=dict)
    quota_names: dict[str, str] = field(default_factory=dict)
    spot_prices: dict[str, dict[str, float]] = field(default_factory=dict)
    """Instance type -> zone name -> newest Linux/UNIX spot price (USD/hour)."""
    placement_scores: dict[str, dict[str, int]] = field(default_factory=dict)
    """Spot pool -> zone ID -> score (1-10) for a single-zone request of its max size."""
    on_demand_prices: dict[str, float] = field(default_factory=dict)
    """Instance type -> on-demand Linux list price (USD/hour) from the Price List API."""
    problems: list[str] = field(default_factory=list)
    """Calls that failed, one line each (action: error)."""


@dataclass(frozen=True)
class NoCredentials:
    reason: str


ClientFactory = Callable[[str, str], Any]
"""(service, region) -> a boto3 client."""


def session_clients(session: Any | None = None) -> ClientFactory | NoCredentials:
    """Clients of boto3's default session, or why there are none (no credentials found)."""
    import boto3

    try:
        # Session() itself reads AWS_PROFILE: a profile that does not exist raises here.
        session = session or boto3.session.Session()
        credentials = session.get_credentials()
    except Exception as error:  # a broken profile or SSO cache: the same as none
        return NoCredentials(f"{type(error).__name__}: {error}")
    if credentials is None:
        return NoCredentials("no AWS credentials found by boto3's standard chain")
    config = client_config()
    return lambda service, region: session.client(service, region_name=region, config=config)


def ask_account(
    region: str, node_groups: NodeGroupSpecs, *, priced: Iterable[str] = ()
) -> LiveFacts | NoCredentials:
    """``verify --live``: the facts, with boto3's default session, or why there are none."""
    clients = session_clients()
    if isinstance(clients, NoCredentials):
        return clients
    return gather(region, node_groups, clients, priced=priced)


def gather(
    region: str,
    node_groups: NodeGroupSpecs,
    clients: ClientFactory,
    *,
    priced: Iterable[str] = (),
    today: datetime.date | None = None,
) -> LiveFacts:
    """Ask everything ``--live`` checks; ``priced``: types the offline prices already cover."""
    facts = LiveFacts(region, (today or datetime.date.today()).isoformat())
    types = sorted({t for spec in node_groups.all for t in spec.instance_types})
    ec2 = clients("ec2", region)
    zone_map = _call(facts, "ec2:DescribeAvailabilityZones", lambda: _zone_map(ec2))
    offered = _call(facts, "ec2:DescribeInstanceTypeOfferings", lambda: _offerings(ec2, types))
    if zone_map is not None and offered is not None:
        zone_ids = tuple(sorted(set(zone_map.values())))
        facts.zones = LiveOfferings(
            zone_map, RegionOfferings(region, zone_ids, offered), facts.asked_on
        )
    spot = [s for s in node_groups.all if s.capacity_type == "SPOT"]
    for pool, specs in _by_pool(spot).items():
        scores = _call(
            facts,
            f"ec2:GetSpotPlacementScores (pool {pool})",
            lambda specs=specs: _placement_scores(ec2, region, specs),  # type: ignore[misc]
        )
        if scores is not None:
            facts.placement_scores[pool] = scores
    spot_types = sorted({t for s in spot for t in s.instance_types})
    if spot_types:
        prices = _call(facts, "ec2:DescribeSpotPriceHistory", lambda: _spot_prices(ec2, spot_types))
        facts.spot_prices = prices or {}
    quotas = clients("service-quotas", region)
    for need in quota_needs(node_groups).needs:
        code = need.quota.code
        quota = _call(
            facts,
            f"servicequotas:GetServiceQuota {code}",
            lambda code=code: quotas.get_service_quota(  # type: ignore[misc]
                ServiceCode=SERVICE_CODE, QuotaCode=code
            )["Quota"],
        )
        facts.quotas[code] = float(quota["Value"]) if quota is not None else None
        if quota is not None and quota.get("QuotaName"):
            facts.quota_names[code] = quota["QuotaName"]
    unpriced = [t for t in types if t not in set(priced)]
    if unpriced:
        pricing = clients("pricing", PRICING_REGION)
        prices = _call(
            facts, "pricing:GetProducts", lambda: _on_demand_prices(pricing, region, unpriced)
        )
        facts.on_demand_prices = prices or {}
    return facts


def _call(facts: LiveFacts, action: str, ask: Callable[[], Any]) -> Any:
    try:
        return ask()
    except Exception as error:  # ClientError, EndpointConnectionError, timeouts: all a note
        facts.problems.append(f"{action}: {_reason(error)}")
        return None


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "")
        message = response["Error"].get("Message", "")
        return f"{code}: {message}".strip(": ")
    return f"{type(error).__name__}: {error}"


def _zone_map(ec2: Any) -> dict[str, str]:
    answer = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
    )
    return {z["ZoneName"]: z["ZoneId"] for z in answer["AvailabilityZones"]}


def _offerings(ec2: Any, types: Sequence[str]) -> dict[str, frozenset[str]]:
    offered: dict[str, set[str]] = {t: set() for t in types}
    pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone-id",
        Filters=[{"Name": "instance-type", "Values": list(types)}],
    )
    for page in pages:
        for offering in page["InstanceTypeOfferings"]:
            offered.setdefault(offering["InstanceType"], set()).add(offering["Location"])
    return {t: frozenset(zones) for t, zones in offered.items()}


def _by_pool(specs: Iterable[Any]) -> dict[str, list[Any]]:
    pools: dict[str, list[Any]] = {}
    for spec in specs:
        pools.setdefault(spec.pool, []).append(spec)
    return pools


def _placement_scores(ec2: Any, region: str, specs: Sequence[Any]) -> dict[str, int]:
    """Single-zone scores for the pool's types at the largest group's max size."""
    answer = ec2.get_spot_placement_scores(
        InstanceTypes=sorted({t for s in specs for t in s.instance_types}),
        TargetCapacity=max(max(s.max_size for s in specs), 1),
        TargetCapacityUnitType="units",
        SingleAvailabilityZone=True,
        RegionNames=[region],
    )
    return {s["AvailabilityZoneId"]: int(s["Score"]) for s in answer["SpotPlacementScores"]}


def _spot_prices(ec2: Any, types: Sequence[str]) -> dict[str, dict[str, float]]:
    """The newest Linux/UNIX spot price per type and zone (StartTime now: the current ones)."""
    newest: dict[tuple[str, str], tuple[Any, float]] = {}
    pages = ec2.get_paginator("describe_spot_price_history").paginate(
        InstanceTypes=list(types),
        ProductDescriptions=["Linux/UNIX"],
        StartTime=datetime.datetime.now(datetime.UTC),
    )
    for page in pages:
        for entry in page["SpotPriceHistory"]:
            key = (entry["InstanceType"], entry["AvailabilityZone"])
            if key not in newest or entry["Timestamp"] > newest[key][0]:
                newest[key] = (entry["Timestamp"], float(entry["SpotPrice"]))
    prices: dict[str, dict[str, float]] = {}
    for (instance_type, zone), (_, price) in newest.items():
        prices.setdefault(instance_type, {})[zone] = price
    return prices


def _on_demand_prices(pricing: Any, region: str, types: Sequence[str]) -> dict[str, float]:
    """Linux, shared tenancy, no pre-installed software, list price (Price List API)."""
    prices: dict[str, float] = {}
    for instance_type in types:
        filters = {
            "instanceType": instance_type,
            "regionCode": region,
            "operatingSystem": "Linux",
            "tenancy": "Shared",
            "preInstalledSw": "NA",
            "capacitystatus": "Used",
        }
        answer = pricing.get_products(
            ServiceCode="AmazonEC2",
            Filters=[{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
            MaxResults=10,
        )
        for item in answer["PriceList"]:
            price = _usd_per_hour(json.loads(item) if isinstance(item, str) else item)
            if price is not None:
                prices[instance_type] = price
                break
    return prices


def _usd_per_hour(product: Mapping[str, Any]) -> float | None:
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None and dimension.get("unit") == "Hrs":
                return float(usd)
    return None


def check_live(facts: LiveFacts | NoCredentials | None) -> CheckResult:
    """The ``live`` line: SKIP without credentials; the spot placement scores; failed calls."""
    if facts is None:
        return CheckResult("live", "SKIP", "not asked (verify --live asks your account)")
    if isinstance(facts, NoCredentials):
        return CheckResult(
            "live",
            "SKIP",
            f"--live: {facts.reason}; the offline checks stand (set AWS_PROFILE or "
            "credentials, see docs/verify.md)",
        )
    low: list[str] = []
    details: list[str] = []
    for pool, scores in facts.placement_scores.items():
        text = ", ".join(f"{zone} {score}" for zone, score in sorted(scores.items()))
        details.append(f"pool {pool}: spot placement score per zone (1-10): {text or 'none'}")
        low += [
            f"{pool} in {z} ({s})" for z, s in sorted(scores.items()) if s <= LOW_PLACEMENT_SCORE
        ]
    for code, name in facts.quota_names.items():
        details.append(f"{code} is '{name}' in your account")
    details += [f"could not ask {problem}" for problem in facts.problems]
    status: Status = "WARN" if low or facts.problems else "PASS"
    summary = f"asked your account in {facts.region} on {facts.asked_on}"
    if low:
        summary += f"; spot unlikely for {'; '.join(low)}"
    elif facts.problems:
        summary += f"; {len(facts.problems)} call(s) failed (their checks stay offline)"
    return CheckResult("live", status, summary, details)
