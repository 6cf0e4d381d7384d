"""From pending to running: the autoscaler's scale-up latency settings and verify's cold-start
budget (issue 25)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from cluster_config import ConfigError
from cluster_config.node_groups import node_group_specs
from cluster_config.problems import Problem
from tests.support import charts_for, config_with, default_data
from verify.cold_start import PoolStart, check_cold_start, pool_starts, pull_seconds
from verify.report import print_report


def problems(overrides: dict[str, Any]) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        config_with(overrides)
    return caught.value.problems


# --- autoscaler latency settings ------------------------------------------------------------


def test_the_defaults_are_upstreams_and_are_written() -> None:
    """Catches: a default that differs from the autoscaler's own (10 s scan, no delay)."""
    args = charts_for(config_with()).autoscaler.args
    assert "--scan-interval=10s" in args
    assert "--new-pod-scale-up-delay=0s" in args


def test_latency_flags_follow_the_config() -> None:
    tuning = {"scan_interval_seconds": 5, "new_pod_scale_up_delay_seconds": 30}
    args = charts_for(config_with({"autoscaler": tuning})).autoscaler.args
    assert [a for a in args if a.startswith(("--scan-interval", "--new-pod-scale-up-delay"))] == [
        "--scan-interval=5s",
        "--new-pod-scale-up-delay=30s",
    ]


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("scan_interval_seconds", 0, "--scan-interval"),
        ("new_pod_scale_up_delay_seconds", 601, "--new-pod-scale-up-delay"),
    ],
)
def test_latency_bounds_name_the_flag(field: str, value: int, flag: str) -> None:
    (problem,) = problems({"autoscaler": {field: value}})
    assert (problem.code, problem.path) == ("OutOfRange", f"autoscaler.{field}")
    assert flag in problem.message


# --- the cold-start budget ------------------------------------------------------------------


def budget(overrides: dict[str, Any] | None = None) -> tuple[list[PoolStart], list[str]]:
    config = config_with(overrides)
    specs = node_group_specs(config)
    objects = charts_for(config).autoscaler.to_json()
    out = io.StringIO()
    print_report("test", [check_cold_start(config, specs, objects)], out)
    args = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    starts = pool_starts(config, specs, args["containers"][0]["command"])
    return starts, out.getvalue().splitlines()


def test_the_default_pools_budget_is_the_sum_of_its_cited_terms() -> None:
    """Catches: a term dropped from the sum or a figure that drifts from its source file."""
    (start,), lines = budget()
    # the autoscaler's fixed 30 s wait for a GPU pod, then half of the 10 s scan interval
    assert (start.reaction, start.boot, start.join, start.plugin) == (35, 100, 30, 10)
    assert round(start.pull) == 257  # 15 GB at 58.3 MB/s (AWS ML blog: 15-20 GB in 4-6 min)
    assert round(start.total) == 432
    assert "          pool gpu-spot-ng: ~7m12s (estimate)" in lines
    assert "            CA 35s + boot 1m40s + join 30s + plugin 10s + pull 4m17s" in lines


def test_fast_pull_and_a_declared_image_size_change_the_pull() -> None:
    pools = default_data()["gpu_pools"]
    pools[0] |= {"fast_image_pull": True, "image_size_gb": 10}
    (start,), lines = budget({"gpu_pools": pools})
    assert (start.image_gb, start.throughput_mibps, round(start.pull)) == (10, 600, 86)
    saved = "fast_image_pull (on): saves up to 1m26s of the pull (published best case)"
    assert f"            {saved}" in lines


def test_a_slow_disk_caps_the_pull_rate() -> None:
    """Catches: a pull faster than the root volume can write."""
    seconds, rate = pull_seconds(10, 40, fast=False)
    assert (round(rate, 1), round(seconds)) == (41.9, 238)


def test_the_reaction_follows_the_deployed_scan_interval_and_delay() -> None:
    tuning = {"scan_interval_seconds": 2, "new_pod_scale_up_delay_seconds": 60}
    (start,), _ = budget({"autoscaler": tuning})
    assert start.reaction == 61


def test_a_delay_shorter_than_the_gpu_pod_wait_changes_nothing() -> None:
    """Catches: a budget that ignores the autoscaler's fixed 30 s wait for GPU pods
    (``unschedulablePodWithGpuTimeBuffer``), which no flag changes."""
    tuning = {"scan_interval_seconds": 10, "new_pod_scale_up_delay_seconds": 20}
    (start,), _ = budget({"autoscaler": tuning})
    assert start.reaction == 35


def test_warm_nodes_leave_only_the_pull() -> None:
    pools = default_data()["gpu_pools"]
    pools[0]["warm_nodes"] = 1
    (start,), lines = budget({"gpu_pools": pools})
    assert start.warm_total == start.pull
    assert "            warm_nodes (1): ~4m17s while one is free (the pull alone)" in lines


def test_every_budget_line_fits_100_columns() -> None:
    pools = default_data()["gpu_pools"]
    pools[0] |= {"name": "a" * 51, "root_volume": {"throughput_mibps": 2000, "iops": 8000}}
    _, lines = budget({"gpu_pools": pools})
    assert max(len(line) for line in lines) <= 100
