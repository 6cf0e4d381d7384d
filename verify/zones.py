"""The ``zones`` check: do the zones of each node group offer its instance types?

A group whose zone offers none of its types deploys, then never gets a node: its Auto Scaling
group's launches fail and the autoscaler backs it off. Facts come from
``cluster_config/data/ec2-zone-offerings.tsv`` (EC2 DescribeInstanceTypeOfferings per zone ID, from
the pinned moto; ``cluster_config/zone_offerings.py``); the groups from the synthesized templates:
each ``AWS::EKS::Nodegroup``'s instance types, capacity type and ``pool`` label, its subnets
followed to their zones (``verify.autoscaler.read_groups``), and each subnet's zone ID when the
config gives ``availability_zone_ids`` (subnet metadata ``ZONE_ID_METADATA``).

- Zone names only (the default): a name may be any zone ID of the region in the deploying
  account, so every zone ID counts. WARN when one offers none of a group's types; FAIL when none
  does (the group can launch nowhere in the region).
- Zone IDs given: exact. FAIL when a group's zone offers none of its types; WARN when a spot
  pool's zone offers fewer than two of its types (one spot market: fragile).

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
from verify.autoscaler import read_groups
from verify.report import CheckResult, Status

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


def check_zones(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    region: str,
    data: ZoneOfferings | None = None,
) -> CheckResult:
    data = data or zone_offerings()
    offers = data.regions.get(region)
    pools = read_pools(cluster, network)
    if offers is None:
        moto = data.source.removeprefix("source: ").split(" (")[0]
        types = sorted({t for pool in pools for t in pool.instance_types})
        return CheckResult(
            "zones",
            "SKIP",
            f"no offerings data for {region} ({moto} has {len(data.regions)} regions); "
            "check your zones yourself:",
            table=cli_commands(region, types),
        )
    zone_ids = subnet_zone_ids(network)
    if zone_ids:
        return _exact(pools, offers, zone_ids)
    return _any_mapping(pools, offers)


def _any_mapping(pools: Sequence[Pool], offers: RegionOfferings) -> CheckResult:
    region, zone_ids = offers.region, offers.zone_ids
    failures, warnings, missing = [], [], []
    warned_types: set[str] = set()
    warned_zones: set[str] = set()
    for pool in pools:
        offered = {z: _offered(offers, pool.instance_types, z) for z in zone_ids}
        empty = [z for z in zone_ids if not offered[z]]
        types = ", ".join(pool.instance_types)
        if len(empty) == len(zone_ids):
            failures.append(f"{pool.label}: no zone ID of {region} offers any of {types}")
        elif empty:
            warned_types.update(pool.instance_types)
            warned_zones.update(empty)
            verb = "offers" if len(empty) == 1 else "offer"
            warnings.append(f"{pool.label}: {', '.join(empty)} {verb} none of {types}")
        missing.extend(_lacking(pool, offered))
    table = _diversity_table(pools, [(z, z) for z in zone_ids], offers)
    considered = f"zone names not mapped to IDs, so all {len(zone_ids)} zone IDs of {region} count"
    if failures:
        return CheckResult(
            "zones",
            "FAIL",
            f"{considered}: a group can launch nowhere",
            [*failures, *warnings],
            table,
        )
    if warnings:
        names = sorted({zone for pool in pools for _, zones in pool.groups for zone in zones})
        ids = sorted(warned_zones)
        explain = (
            "zone names map to zone IDs differently in each AWS account, so any of "
            f"{', '.join(names)} may be {' or '.join(ids)} in yours; your mapping and the "
            "offerings:"
        )
        return CheckResult(
            "zones",
            "WARN",
            f"{considered}: some offer none of a group's instance types",
            [*warnings, explain],
            [
                *cli_commands(region, sorted(warned_types)),
                "then set availability_zone_ids (same order as availability_zones) for an "
                "exact check, or pick zones whose IDs offer the types",
                *table,
            ],
        )
    return CheckResult(
        "zones",
        "PASS",
        f"{considered}: each offers at least one instance type of every group",
        ["; ".join(dict.fromkeys(missing))] if missing else [],
        table,
    )


def _exact(
    pools: Sequence[Pool], offers: RegionOfferings, zone_ids: Mapping[str, str]
) -> CheckResult:
    failures, warnings, missing = [], [], []
    for pool in pools:
        zones = sorted({zone for _, group_zones in pool.groups for zone in group_zones})
        offered = {zone: _offered(offers, pool.instance_types, zone_ids[zone]) for zone in zones}
        for name, group_zones in pool.groups:
            for zone in group_zones:
                where = f"{zone} = {zone_ids[zone]}"
                if zone_ids[zone] not in offers.zone_ids:
                    warnings.append(
                        f"{name}: {where}: the data has no such zone ID in {offers.region} "
                        f"(it has {', '.join(offers.zone_ids)}); cannot tell"
                    )
                elif not offered[zone]:
                    failures.append(
                        f"{name} (pool {pool.name}) in {where}: the zone offers none of "
                        f"{', '.join(pool.instance_types)}; the group would never get a node"
                    )
        for zone in zones:
            types = offered[zone]
            if pool.capacity_type == "SPOT" and 0 < len(types) < MIN_SPOT_TYPES:
                warnings.append(
                    f"{pool.label} in {zone} = {zone_ids[zone]}: spot from {len(types)} of its "
                    f"instance types only ({', '.join(types)}); when that spot market is out the "
                    "zone gets no node: add a type of the same shape offered there"
                )
        missing.extend(_lacking(pool, {zone_ids[z]: offered[z] for z in zones}))
    table = _diversity_table(pools, sorted(zone_ids.items()), offers)
    summary = f"zone IDs from availability_zone_ids ({offers.region}, exact)"
    if failures:
        return CheckResult(
            "zones",
            "FAIL",
            f"{summary}: a group's zone offers none of its types",
            [*failures, *warnings],
            table,
        )
    status: Status = "WARN" if warnings else "PASS"
    details = warnings or (["; ".join(dict.fromkeys(missing))] if missing else [])
    verdict = "some zones are weak" if warnings else "every group's zones offer its instance types"
    return CheckResult("zones", status, f"{summary}: {verdict}", details, table)


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
