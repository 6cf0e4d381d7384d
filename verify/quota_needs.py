"""The EC2 vCPU quotas a config draws from, offline: ``quota_needs``, a pure function of the
node-group specs and the catalog's vCPUs.

EC2 limits running instances per account and region by vCPUs, one quota per capacity type and
instance class (AWS EC2 User Guide, "On-Demand Instance quotas" and "Spot Instance quotas"). A
group whose quota is below what it asks for never gets the node: the Auto Scaling group's launch
fails with ``VcpuLimitExceeded`` / ``MaxSpotInstanceCountExceeded``. New accounts often start at 0
for G and P. The quotas, the classes each covers and the documented defaults are in
``data/ec2-vcpu-quotas.json`` (sources and the date they were read in the file). A quota covers
whole classes (``classes``: the letters, ``g`` of g6e) or, where AWS splits a class, generations
(``generations``: letters and digits, ``p4`` of p4de: "All P4, P3 and P2" and "All P5" Spot
Instance Requests). Where no source read says which quota covers a generation (P6 spot), the file
says so under ``unknown`` and the group is reported as such, never counted against a guess.

A group asks for ``size x vCPUs`` of the largest of its types (a scale-up may launch any of them);
``min`` is every group at ``min_size`` (what a deploy starts) plus a pool's ``warm_nodes`` beyond
its groups' ``min_size`` (the buffer makes the autoscaler start them), ``max`` every group at
``max_size`` (what the autoscaler may reach), on-demand fallbacks and the system group included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cluster_config.catalog import GENERAL_INSTANCE_TYPES, GPU_INSTANCE_TYPES
from cluster_config.node_groups import NodeGroupSpecs

QUOTAS_FILE = Path(__file__).parent / "data" / "ec2-vcpu-quotas.json"
SERVICE_CODE = "ec2"


@dataclass(frozen=True)
class VcpuQuota:
    code: str
    name: str
    short: str
    capacity_type: str
    classes: tuple[str, ...]
    """Instance classes (the letters a family name starts with: ``g`` of g6e, ``vt`` of vt1)."""
    generations: tuple[str, ...]
    """Generations (letters and digits: ``p4`` of p4de, ``p5`` of p5en), for a split class."""
    new_account_default: int | None
    """vCPUs a new account starts with, as AWS documents it; None: not published."""


@dataclass(frozen=True)
class UnknownQuota:
    """Generations whose quota no source read names (the data file's ``unknown``)."""

    capacity_type: str
    generations: tuple[str, ...]
    look_for: str
    """What to look for among Service Quotas' EC2 quota names (``P6``)."""


@dataclass(frozen=True)
class QuotaTable:
    quotas: tuple[VcpuQuota, ...]
    unknown: tuple[UnknownQuota, ...]
    read_on: str

    def quota_for(self, instance_type: str, capacity_type: str) -> VcpuQuota | None:
        """A quota naming the type's generation (P5 spot), else its class; None when unknown."""
        if self.unknown_for(instance_type, capacity_type):
            return None
        gen, cls = instance_generation(instance_type), instance_class(instance_type)
        quotas = [q for q in self.quotas if q.capacity_type == capacity_type]
        by_generation = next((q for q in quotas if gen in q.generations), None)
        return by_generation or next((q for q in quotas if cls in q.classes), None)

    def unknown_for(self, instance_type: str, capacity_type: str) -> UnknownQuota | None:
        gen = instance_generation(instance_type)
        return next(
            (u for u in self.unknown if u.capacity_type == capacity_type and gen in u.generations),
            None,
        )


@dataclass(frozen=True)
class QuotaNeed:
    quota: VcpuQuota
    min_vcpus: int
    max_vcpus: int
    groups: tuple[str, ...]


@dataclass(frozen=True)
class UnknownNeed:
    """A group with a type whose quota is unknown (p6-b200 spot)."""

    group: str
    families: tuple[str, ...]
    """The group's families under an unknown quota (``p6-b200``)."""
    capacity_type: str
    look_for: str
    min_vcpus: int
    max_vcpus: int


@dataclass(frozen=True)
class QuotaNeeds:
    needs: tuple[QuotaNeed, ...]
    """One per quota the config draws from, in the data file's order."""
    unknown: tuple[UnknownNeed, ...]
    """Groups with a type whose quota no source read names (not counted against any quota)."""
    unclassified: tuple[str, ...]
    """Groups whose types fall under no quota of the table (named with their types)."""
    read_on: str


def instance_class(instance_type: str) -> str:
    """``g6e.xlarge`` -> ``g``, ``p6-b200.48xlarge`` -> ``p``, ``vt1.3xlarge`` -> ``vt``."""
    match = re.match(r"[a-z]+", instance_type)
    return match[0] if match else ""


def instance_generation(instance_type: str) -> str:
    """``p4de.24xlarge`` -> ``p4``, ``p6-b200.48xlarge`` -> ``p6``, ``g6e.xlarge`` -> ``g6``."""
    match = re.match(r"[a-z]+\d*", instance_type)
    return match[0] if match else ""


def instance_family(instance_type: str) -> str:
    """``p6-b200.48xlarge`` -> ``p6-b200``."""
    return instance_type.split(".", 1)[0]


@cache
def quota_table(path: Path = QUOTAS_FILE) -> QuotaTable:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return QuotaTable(
        quotas=tuple(
            VcpuQuota(
                code=q["code"],
                name=q["name"],
                short=q["short"],
                capacity_type=q["capacity_type"],
                classes=tuple(q.get("classes", ())),
                generations=tuple(q.get("generations", ())),
                new_account_default=q["new_account_default"],
            )
            for q in data["quotas"]
        ),
        unknown=tuple(
            UnknownQuota(
                capacity_type=u["capacity_type"],
                generations=tuple(u["generations"]),
                look_for=u["look_for"],
            )
            for u in data.get("unknown", ())
        ),
        read_on=data["read_on"],
    )


def catalog_vcpus() -> dict[str, int]:
    return {
        name: shape.vcpus
        for name, shape in {**GENERAL_INSTANCE_TYPES, **GPU_INSTANCE_TYPES}.items()
    }


def quota_needs(
    node_groups: NodeGroupSpecs,
    vcpus: Mapping[str, int] | None = None,
    table: QuotaTable | None = None,
) -> QuotaNeeds:
    """What every quota the config draws from must allow, at min and at max scale."""
    vcpus = catalog_vcpus() if vcpus is None else vcpus
    table = table or quota_table()
    totals: dict[str, list[int]] = {}
    groups: dict[str, list[str]] = {}
    unknown: list[UnknownNeed] = []
    unclassified: list[str] = []
    warm = {
        pool: max(specs[0].warm_nodes - sum(s.min_size for s in specs if not s.fallback), 0)
        for pool, specs in node_groups.pools.items()
    }
    for spec in node_groups.all:
        largest = max(vcpus[t] for t in spec.instance_types)
        started = spec.min_size + (0 if spec.fallback else warm.pop(spec.pool, 0))
        unknowns = {
            t: u for t in spec.instance_types if (u := table.unknown_for(t, spec.capacity_type))
        }
        if unknowns:
            unknown.append(
                UnknownNeed(
                    group=spec.name,
                    families=tuple(dict.fromkeys(instance_family(t) for t in unknowns)),
                    capacity_type=spec.capacity_type,
                    look_for=", ".join(sorted({u.look_for for u in unknowns.values()})),
                    min_vcpus=started * largest,
                    max_vcpus=spec.max_size * largest,
                )
            )
            continue
        quota = table.quota_for(spec.instance_types[0], spec.capacity_type)
        if quota is None or any(
            table.quota_for(t, spec.capacity_type) != quota for t in spec.instance_types
        ):
            unclassified.append(f"{spec.name} ({', '.join(spec.instance_types)})")
            continue
        low, high = totals.setdefault(quota.code, [0, 0])
        totals[quota.code] = [low + started * largest, high + spec.max_size * largest]
        groups.setdefault(quota.code, []).append(spec.name)
    return QuotaNeeds(
        needs=tuple(
            QuotaNeed(q, totals[q.code][0], totals[q.code][1], tuple(groups[q.code]))
            for q in table.quotas
            if q.code in totals
        ),
        unknown=tuple(unknown),
        unclassified=tuple(unclassified),
        read_on=table.read_on,
    )
