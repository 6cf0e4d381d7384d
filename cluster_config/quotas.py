"""The EC2 vCPU quotas a config draws from, offline: ``quota_needs``, a pure function of the
node-group specs and the catalog's vCPUs.

EC2 limits running instances per account and region by vCPUs, one quota per capacity type and
instance class (AWS EC2 User Guide, "On-Demand Instance quotas" and "Spot Instance quotas"). A
group whose quota is below what it asks for never gets the node: the Auto Scaling group's launch
fails with ``VcpuLimitExceeded`` / ``MaxSpotInstanceCountExceeded``. New accounts often start at 0
for G and P. The quotas, the classes each covers and the documented defaults are in
``data/ec2-vcpu-quotas.json`` (sources and the date they were read in the file).

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
    new_account_default: int | None
    """vCPUs a new account starts with, as AWS documents it; None: not published."""


@dataclass(frozen=True)
class QuotaTable:
    quotas: tuple[VcpuQuota, ...]
    read_on: str

    def quota_for(self, instance_type: str, capacity_type: str) -> VcpuQuota | None:
        cls = instance_class(instance_type)
        return next(
            (q for q in self.quotas if q.capacity_type == capacity_type and cls in q.classes),
            None,
        )


@dataclass(frozen=True)
class QuotaNeed:
    quota: VcpuQuota
    min_vcpus: int
    max_vcpus: int
    groups: tuple[str, ...]


@dataclass(frozen=True)
class QuotaNeeds:
    needs: tuple[QuotaNeed, ...]
    """One per quota the config draws from, in the data file's order."""
    unclassified: tuple[str, ...]
    """Groups whose types fall under no quota of the table (named with their types)."""
    read_on: str


def instance_class(instance_type: str) -> str:
    """``g6e.xlarge`` -> ``g``, ``p6-b200.48xlarge`` -> ``p``, ``vt1.3xlarge`` -> ``vt``."""
    match = re.match(r"[a-z]+", instance_type)
    return match[0] if match else ""


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
                classes=tuple(q["classes"]),
                new_account_default=q["new_account_default"],
            )
            for q in data["quotas"]
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
    unclassified: list[str] = []
    warm = {
        pool: max(specs[0].warm_nodes - sum(s.min_size for s in specs if not s.fallback), 0)
        for pool, specs in node_groups.pools.items()
    }
    for spec in node_groups.all:
        quota = table.quota_for(spec.instance_types[0], spec.capacity_type)
        if quota is None or any(
            table.quota_for(t, spec.capacity_type) != quota for t in spec.instance_types
        ):
            unclassified.append(f"{spec.name} ({', '.join(spec.instance_types)})")
            continue
        largest = max(vcpus[t] for t in spec.instance_types)
        low, high = totals.setdefault(quota.code, [0, 0])
        started = spec.min_size + (0 if spec.fallback else warm.pop(spec.pool, 0))
        totals[quota.code] = [low + started * largest, high + spec.max_size * largest]
        groups.setdefault(quota.code, []).append(spec.name)
    return QuotaNeeds(
        needs=tuple(
            QuotaNeed(q, totals[q.code][0], totals[q.code][1], tuple(groups[q.code]))
            for q in table.quotas
            if q.code in totals
        ),
        unclassified=tuple(unclassified),
        read_on=table.read_on,
    )
