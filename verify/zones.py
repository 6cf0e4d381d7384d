"""The ``zones`` check: do the zones of each node group offer its instance types?

A group whose zone offers none of its types deploys, then never gets a node: its Auto Scaling
group's launches fail and the autoscaler backs it off. The groups come from the synthesized
templates: each ``AWS::EKS::Nodegroup``'s instance types, capacity type and ``pool`` label, its
subnets followed to their zones (``verify.autoscaler.groups.read_groups``), and each subnet's
zone ID when the config gives ``availability_zone_ids`` (subnet metadata ``ZONE_ID_METADATA``).
The offerings come from one of two places, and every line names which, with its date:

- **Offline** (the default): ``cluster_config/data/ec2-zone-offerings.tsv``, EC2
  DescribeInstanceTypeOfferings per zone ID as the pinned moto release ships it
  (``cluster_config/zone_offerings.py``). A snapshot only ages one way that matters here: EC2
  adds types to zones after it was taken (g6 and g6e reached zones the snapshot lacks). So a type
  the snapshot does not list in a zone is a WARN that prints the ``aws ec2
  describe-instance-type-offerings`` command to ask your account, never a FAIL.
- **Live** (``verify --live``, ``verify/live.py``): your account's own zone-name -> zone-ID map
  (DescribeAvailabilityZones) and offerings (DescribeInstanceTypeOfferings), asked today.

FAIL is kept for what is certain: the account's live answer that a group's zone offers none of
its types, or that a zone name does not exist in the account, or that ``availability_zone_ids``
gives a zone another ID than the account does. Offline, nothing in this check fails.

- Zone names only, offline: a name may be any zone ID of the region in the deploying account, so
  every zone ID counts. WARN when one offers none of a group's types, or when none does.
- Zone IDs known (``availability_zone_ids``, or the account's map with ``--live``): WARN (live:
  FAIL) when a group's zone offers none of its types; WARN when a spot pool's zone offers fewer
  than two of its types (one spot market: fragile).

Either way a table says how many of each pool's types each zone offers. An offering is not
capacity: a zone that offers a type may still have no spot (or on-demand) capacity for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster_config.labels import POOL_LABEL
from cluster_config.zone_offerings import RegionOfferings, ZoneOfferings, zone_offerings
from stacks.network_stack import ZONE_ID_METADATA
from verify.autoscaler.groups import read_groups
from verify.report import CheckResult

MIN_SPOT_TYPES = 2
"""In exact mode, a spot pool's zone offering fewer of its types than this warns."""


@dataclass(frozen=True)
class Pool:
    """Node groups with one ``pool`` label, capacity type and instance types."""

    name: str
    capacity_type: str
    instance_types: tuple[str, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    """(group name, its zone names)."""

    @property
    def label(self) -> str:
        names = ", ".join(name for name, _ in self.groups)
        return f"pool {self.name} ({self.capacity_type.lower()}: {names})"


def read_pools(cluster: Mapping[str, Any], network: Mapping[str, Any]) -> list[Pool]:
    """The synthesized node groups, gathered by pool label, capacity type and instance types."""
    gathered: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, tuple[str, ...]]]] = {}
    for group in read_groups(cluster, network):
        pool = group.nodegroup.labels.get(POOL_LABEL, group.name)
        capacity = group.nodegroup.capacity_type or "ON_DEMAND"  # EKS's default
        key = (pool, capacity, tuple(group.instance_types))
        gathered.setdefault(key, []).append((group.name, tuple(group.zones)))
    return [Pool(*key, tuple(groups)) for key, groups in sorted(gathered.items())]


def subnet_zone_ids(network: Mapping[str, Any]) -> dict[str, str]:
    """Zone name -> zone ID from the subnets' metadata; empty without ``availability_zone_ids``."""
    return {
        r["Properties"]["AvailabilityZone"]: r["Metadata"][ZONE_ID_METADATA]
        for r in network["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet" and ZONE_ID_METADATA in r.get("Metadata", {})
    }


@dataclass(frozen=True)
class LiveOfferings:
    """What the account answered (``verify.live``): its zone map and the region's offerings."""

    zone_ids: Mapping[str, str]
    """Zone name -> zone ID, the deploying account's own mapping (DescribeAvailabilityZones)."""
    offers: RegionOfferings
    asked_on: str
    """The date of the answer (ISO)."""

    @property
    def label(self) -> str:
        return f"live: your account's DescribeInstanceTypeOfferings, asked {self.asked_on}"


def check_zones(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    region: str,
    data: ZoneOfferings | None = None,
    live: LiveOfferings | None = None,
) -> CheckResult:
    pools = read_pools(cluster, network)
    configured = subnet_zone_ids(network)
    if live is not None:
        return _exact(pools, live.offers, dict(live.zone_ids), live.label, configured)
    data = data or zone_offerings()
    offers = data.regions.get(region)
    if offers is None:
        moto = data.source.removeprefix("source: ").split(" (")[0]
        types = sorted({t for pool in pools for t in pool.instance_types})
        return CheckResult(
            "zones",
            "SKIP",
            f"no offerings data for {region} ({moto} has {len(data.regions)} regions; "
            f"{data.label}); check your zones yourself, or run verify --live:",
            table=cli_commands(region, types),
        )
    if configured:
        return _exact(pools, offers, configured, data.label, None)
    return _any_mapping(pools, offers, data.label)


def _any_mapping(pools: Sequence[Pool], offers: RegionOfferings, label: str) -> CheckResult:
    region, zone_ids = offers.region, offers.zone_ids
    nowhere, warnings, missing = [], [], []
    warned_types: set[str] = set()
    warned_zones: set[str] = set()
    for pool in pools:
        offered = {z: _offered(offers, pool.instance_types, z) for z in zone_ids}
        empty = [z for z in zone_ids if not offered[z]]
        types = ", ".join(pool.instance_types)
        if len(empty) == len(zone_ids):
            warned_types.update(pool.instance_types)
            nowhere.append(
                f"{pool.label}: the snapshot lists no zone ID of {region} offering any of {types}; "
                "EC2 may have added them since: ask your account (commands below)"
            )
        elif empty:
            warned_types.update(pool.instance_types)
            warned_zones.update(empty)
            verb = "offers" if len(empty) == 1 else "offer"
            warnings.append(f"{pool.label}: {', '.join(empty)} {verb} none of {types}")
        missing.extend(_lacking(pool, offered))
    table = _diversity_table(pools, [(z, z) for z in zone_ids], offers)
    considered = f"zone names not mapped to IDs, so all {len(zone_ids)} zone IDs of {region} count"
    if nowhere or warnings:
        names = sorted({zone for pool in pools for _, zones in pool.groups for zone in zones})
        explain = []
        if warned_zones:
            explain.append(
                "zone names map to zone IDs differently in each AWS account, so any of "
                f"{', '.join(names)} may be {' or '.join(sorted(warned_zones))} in yours; your "
                "mapping and the offerings:"
            )
        verdict = (
            "a group's types are in no zone of the snapshot"
            if nowhere
            else "some offer none of a group's instance types"
        )
        return CheckResult(
            "zones",
            "WARN",
            f"{considered}: {verdict} ({label})",
            [*nowhere, *warnings, *explain],
            [
                *cli_commands(region, sorted(warned_types)),
                "then set availability_zone_ids (same order as availability_zones) for an "
                "exact check, pick zones whose IDs offer the types, or run verify --live",
                *table,
            ],
        )
    return CheckResult(
        "zones",
        "PASS",
        f"{considered}: each offers at least one instance type of every group ({label})",
        ["; ".join(dict.fromkeys(missing))] if missing else [],
        table,
    )


def _exact(
    pools: Sequence[Pool],
    offers: RegionOfferings,
    zone_ids: Mapping[str, str],
    label: str,
    configured: Mapping[str, str] | None,
) -> CheckResult:
    """Zone IDs known: the config's (``configured`` None) or the account's own (``configured``:
    what the config says, compared with the account; the answer is then certain)."""
    certain = configured is not None
    found = [_pool_findings(pool, offers, zone_ids, certain) for pool in pools]
    failures = _mapping_failures(configured or {}, zone_ids)
    failures += [line for f in found for line in f.failures]
    weak = [line for f in found for line in f.weak]
    absent = [line for f in found for line in f.absent]
    absent_types = sorted({t for f in found for t in f.absent_types})
    missing = [line for f in found for line in f.missing]
    columns = sorted(
        (zone, zone_ids[zone])
        for zone in {z for pool in pools for _, zs in pool.groups for z in zs}
        if zone in zone_ids
    )
    table = _diversity_table(pools, columns, offers)
    source = "your account's zone IDs" if certain else "zone IDs from availability_zone_ids"
    summary = f"{source} ({offers.region}, exact; {label})"
    if failures:
        return CheckResult(
            "zones",
            "FAIL",
            f"{summary}: a group's zone offers none of its types or does not exist",
            [*failures, *absent, *weak],
            table,
        )
    if absent or weak:
        commands = cli_commands(offers.region, absent_types) if absent else []
        return CheckResult(
            "zones",
            "WARN",
            f"{summary}: some zones are weak" + (" or lack a group's types" if absent else ""),
            [*absent, *weak],
            [*commands, *table],
        )
    details = ["; ".join(dict.fromkeys(missing))] if missing else []
    return CheckResult(
        "zones", "PASS", f"{summary}: every group's zones offer its instance types", details, table
    )


def _mapping_failures(configured: Mapping[str, str], zone_ids: Mapping[str, str]) -> list[str]:
    """``availability_zone_ids`` entries the account maps otherwise."""
    return [
        f"availability_zone_ids gives {zone} = {zone_id}; your account maps {zone} to "
        f"{zone_ids[zone]}: correct availability_zone_ids"
        for zone, zone_id in sorted(configured.items())
        if zone in zone_ids and zone_ids[zone] != zone_id
    ]


@dataclass(frozen=True)
class _PoolFindings:
    """One pool's lines of the exact zones check, each list in group and zone order."""

    failures: list[str]
    """A zone that does not exist, or (``certain``) offers none of the pool's types."""
    weak: list[str]
    """A zone ID the data lacks, or a spot zone offering too few of the pool's types."""
    absent: list[str]
    """A zone the snapshot says offers none of the pool's types (not ``certain``)."""
    absent_types: frozenset[str]
    """The instance types the ``absent`` lines are about (for the commands to ask AWS)."""
    missing: list[str]
    """Types some of the pool's zones lack (``_lacking``)."""


def _pool_findings(
    pool: Pool, offers: RegionOfferings, zone_ids: Mapping[str, str], certain: bool
) -> _PoolFindings:
    zones = sorted({zone for _, group_zones in pool.groups for zone in group_zones})
    known = [zone for zone in zones if zone in zone_ids]
    offered = {zone: _offered(offers, pool.instance_types, zone_ids[zone]) for zone in known}
    failures, weak, absent = [], [], []
    for name, group_zones in pool.groups:
        for zone in group_zones:
            if zone not in zone_ids:
                failures.append(
                    f"{name}: {zone} is not a zone of {offers.region} in your account "
                    f"(it has {', '.join(sorted(zone_ids))})"
                )
                continue
            where = f"{zone} = {zone_ids[zone]}"
            if zone_ids[zone] not in offers.zone_ids:
                weak.append(
                    f"{name}: {where}: the data has no such zone ID in {offers.region} "
                    f"(it has {', '.join(offers.zone_ids)}); cannot tell"
                )
            elif not offered[zone]:
                line = (
                    f"{name} (pool {pool.name}) in {where}: the zone offers none of "
                    f"{', '.join(pool.instance_types)}"
                )
                if certain:
                    failures.append(f"{line}; the group would never get a node")
                else:
                    absent.append(f"{line} in the snapshot; ask your account (command below)")
    weak += _thin_spot_zones(pool, known, offered, zone_ids)
    return _PoolFindings(
        failures=failures,
        weak=weak,
        absent=absent,
        absent_types=frozenset(pool.instance_types) if absent else frozenset(),
        missing=_lacking(pool, {zone_ids[z]: offered[z] for z in known}),
    )


def _thin_spot_zones(
    pool: Pool,
    known: Sequence[str],
    offered: Mapping[str, Sequence[str]],
    zone_ids: Mapping[str, str],
) -> list[str]:
    """A spot pool's zones that offer some but fewer than ``MIN_SPOT_TYPES`` of its types."""
    if pool.capacity_type != "SPOT":
        return []
    return [
        f"{pool.label} in {zone} = {zone_ids[zone]}: spot from {len(offered[zone])} of its "
        f"instance types only ({', '.join(offered[zone])}); when that spot market is out the "
        "zone gets no node: add a type of the same shape offered there"
        for zone in known
        if 0 < len(offered[zone]) < MIN_SPOT_TYPES
    ]


def _offered(offers: RegionOfferings, instance_types: Iterable[str], zone_id: str) -> list[str]:
    return [t for t in instance_types if zone_id in offers.zones_offering(t)]


def _lacking(pool: Pool, offered: Mapping[str, list[str]]) -> list[str]:
    """``usw2-az4 lacks g5.xlarge (pool gpu)`` for each zone that offers some but not all."""
    return [
        f"{zone} lacks {', '.join(t for t in pool.instance_types if t not in types)} "
        f"(pool {pool.name})"
        for zone, types in offered.items()
        if types and len(types) < len(pool.instance_types)
    ]


def _diversity_table(
    pools: Sequence[Pool], columns: Sequence[tuple[str, str]], offers: RegionOfferings
) -> list[str]:
    """Offered/total instance types per pool and zone; ``columns`` are (heading, zone ID)."""
    headings = [h if h == z else f"{h}={z}" for h, z in columns]
    rows = [["pool", "capacity", *headings]]
    for pool in pools:
        zones = {zone for _, group_zones in pool.groups for zone in group_zones}
        cells = [
            f"{len(_offered(offers, pool.instance_types, zone_id))}/{len(pool.instance_types)}"
            if heading == zone_id or heading in zones
            else "-"
            for heading, zone_id in columns
        ]
        rows.append([pool.name, pool.capacity_type, *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return ["instance types offered per zone, of each pool's:", *lines]


def cli_commands(region: str, instance_types: Sequence[str]) -> list[str]:
    """The AWS CLI commands that show the account's zone-ID mapping and the offerings."""
    types = ",".join(instance_types) or "<instance types>"
    return [
        f"aws ec2 describe-availability-zones --region {region} "
        '--query "AvailabilityZones[].[ZoneName,ZoneId]" --output text',
        f"aws ec2 describe-instance-type-offerings --region {region} "
        f"--location-type availability-zone-id --filters Name=instance-type,Values={types} "
        '--query "InstanceTypeOfferings[].[Location,InstanceType]" --output text',
    ]
