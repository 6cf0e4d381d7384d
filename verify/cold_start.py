"""The cold-start budget: how long a GPU pod waits on an idle cluster, per pool (an estimate).

Terms, each from ``verify/data/cold-start-figures.json`` (a published figure or an upstream
default, with its source) or from the deployed settings: the autoscaler's reaction (it leaves a
GPU pod alone for its first 30 s, or ``--new-pod-scale-up-delay`` if longer, then acts at its
next loop: half its ``--scan-interval`` on average), the instance's launch and
boot, the node joining, the device plugin registering the GPUs, and the image pull (the pool's
``image_size_gb`` at the normal pull rate, at most the root volume's throughput; with fast pull
up to half of that time saved). Then what each lever would change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cluster_config import ClusterConfig
from cluster_config.node_groups import NodeGroupSpecs
from verify.report import CheckResult

FIGURES_FILE = Path(__file__).parent / "data" / "cold-start-figures.json"
MB_PER_MIB = 1.048576
FAST_PULL_DISK_MIBPS = 600
"""What ``fast_image_pull`` raises the root volume to (``aws_rules/nodeadm.py``)."""
UPSTREAM_SCAN_INTERVAL_SECONDS = 10
"""``config/const.go`` ``DefaultScanInterval`` (cluster-autoscaler 1.36.1)."""


@cache
def figures() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIGURES_FILE.read_text(encoding="utf-8"))
    return loaded


def _figure(name: str) -> float:
    return float(figures()[name]["value"])


@dataclass(frozen=True)
class PoolStart:
    """One pool's estimate, in seconds."""

    pool: str
    reaction: float
    boot: float
    join: float
    plugin: float
    pull: float
    image_gb: int
    pull_mb_per_second: float
    throughput_mibps: int
    fast_image_pull: bool
    warm_nodes: int

    @property
    def total(self) -> float:
        return self.reaction + self.boot + self.join + self.plugin + self.pull

    @property
    def warm_total(self) -> float:
        """With a warm node ready: the scheduler places the pod at once; the image is pulled."""
        return self.pull


def pull_seconds(image_gb: int, throughput_mibps: int, *, fast: bool) -> tuple[float, float]:
    """(seconds, MB/s) to pull ``image_gb``: the published normal rate, at most the disk's
    throughput; fast pull saves up to the published share of the time, within the same cap."""
    disk = throughput_mibps * MB_PER_MIB
    normal = min(_figure("normal_pull_mb_per_second"), disk)
    rate = min(normal / (1 - _figure("fast_pull_time_saved")), disk) if fast else normal
    return image_gb * 1000 / rate, rate


def autoscaler_seconds(args: Sequence[str]) -> tuple[float, float]:
    """(scan interval, new-pod scale-up delay) in seconds from the deployed flags (upstream
    defaults where a flag is absent)."""
    values = {a[2:].partition("=")[0]: a.partition("=")[2] for a in args if a.startswith("--")}
    return (
        _seconds(values.get("scan-interval"), UPSTREAM_SCAN_INTERVAL_SECONDS),
        _seconds(values.get("new-pod-scale-up-delay"), 0),
    )


def _seconds(value: str | None, default: float) -> float:
    if not value:
        return default
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for unit in ("ms", "s", "m", "h"):
        if value.endswith(unit):
            return float(value.removesuffix(unit)) * units[unit]
    return float(value)


def pool_starts(
    config: ClusterConfig, node_groups: NodeGroupSpecs, autoscaler_args: Sequence[str]
) -> list[PoolStart]:
    scan, delay = autoscaler_seconds(autoscaler_args)
    # core/static_autoscaler.go: filterOutYoungPods (the delay), then allPodsAreNew (30 s for a
    # GPU pod); the loop that first sees the pod old enough comes half a scan later on average.
    reaction = max(delay, _figure("gpu_pod_wait_seconds")) + scan * _figure("scan_wait")
    starts = []
    for pool, groups in node_groups.pools.items():
        launch = groups[0].launch
        image_gb = groups[0].image_size_gb or int(_figure("default_image_gb"))
        throughput = launch.effective_throughput_mibps
        pull, rate = pull_seconds(image_gb, throughput, fast=launch.fast_image_pull)
        starts.append(
            PoolStart(
                pool=pool,
                reaction=reaction,
                boot=_figure("launch_boot_seconds"),
                join=_figure("node_join_seconds"),
                plugin=_figure("device_plugin_seconds"),
                pull=pull,
                image_gb=image_gb,
                pull_mb_per_second=rate,
                throughput_mibps=throughput,
                fast_image_pull=launch.fast_image_pull,
                warm_nodes=groups[0].warm_nodes,
            )
        )
    return starts


def duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def _levers(start: PoolStart, scan: float) -> list[str]:
    """What each lever would change for this pool, one line each."""
    lines = []
    if start.fast_image_pull:
        normal, _ = pull_seconds(start.image_gb, start.throughput_mibps, fast=False)
        saved = duration(normal - start.pull)
        lines.append(f"fast_image_pull (on): saves up to {saved} of the pull (published best case)")
    else:
        disk = max(start.throughput_mibps, FAST_PULL_DISK_MIBPS)
        fast, _ = pull_seconds(start.image_gb, disk, fast=True)
        saved = duration(start.pull - fast)
        lines.append(f"fast_image_pull: up to -{saved} (root volume {disk} MiB/s)")
    if start.warm_nodes:
        lines.append(
            f"warm_nodes ({start.warm_nodes}): ~{duration(start.warm_total)} while one is free "
            "(the pull alone)"
        )
    else:
        lines.append(
            f"warm_nodes: ~{duration(start.warm_total)} while one is free (the pull alone)"
        )
    if scan > 1:
        waited = (scan - 1) * _figure("scan_wait")
        lines.append(f"autoscaler.scan_interval_seconds 1: -{duration(waited)}")
    return lines


def check_cold_start(
    config: ClusterConfig,
    node_groups: NodeGroupSpecs,
    objects: Sequence[Mapping[str, Any]],
) -> CheckResult:
    """Always PASS (an estimate informs) or SKIP without a GPU pool. Lines fit 100 columns."""
    args = _autoscaler_args(objects)
    starts = pool_starts(config, node_groups, args)
    if not starts:
        return CheckResult("cold-start", "SKIP", "no GPU pool")
    scan, _ = autoscaler_seconds(args)
    table = []
    for s in starts:
        table.append(f"pool {s.pool}: ~{duration(s.total)} (estimate)")
        table.append(
            f"  CA {duration(s.reaction)} + boot {duration(s.boot)} + join {duration(s.join)}"
            f" + plugin {duration(s.plugin)} + pull {duration(s.pull)}"
        )
        how = "fast pull" if s.fast_image_pull else "normal pull"
        table.append(
            f"  pull: {s.image_gb} GB at {s.pull_mb_per_second:.0f} MB/s ({how}; root volume "
            f"{s.throughput_mibps} MiB/s)"
        )
        table.extend(f"  {line}" for line in _levers(s, scan))
    table += [
        "sources: verify/data/cold-start-figures.json; boot: published 80-120 s; join: a",
        "  third-party figure; plugin: an assumption (none published); pull: AWS's SOCI posts",
    ]
    summary = "pending GPU pod to running on an idle cluster, per pool (estimate)"
    return CheckResult("cold-start", "PASS", summary, table=table)


def _autoscaler_args(objects: Sequence[Mapping[str, Any]]) -> list[str]:
    for o in objects:
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "cluster-autoscaler":
            container = o["spec"]["template"]["spec"]["containers"][0]
            return [*container.get("command", []), *container.get("args", [])]
    return []
