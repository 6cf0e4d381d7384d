"""From pending to running: the autoscaler's scale-up latency settings and verify's cold-start
budget (issue 25)."""

from __future__ import annotations

from typing import Any

import pytest

from cluster_config import ConfigError
from tests.support import charts_for, config_with


def problems(overrides: dict[str, Any]) -> list[str]:
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
    assert ["--scan-interval=5s", "--new-pod-scale-up-delay=30s"] == [
        a for a in args if a.startswith(("--scan-interval", "--new-pod-scale-up-delay"))
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (
            "scan_interval_seconds",
            0,
            "autoscaler.scan_interval_seconds: Input should be greater than or equal to 1: the "
            "autoscaler's --scan-interval (upstream 10s): below 1 s is no faster (a loop takes "
            "seconds), above 60 s a pending pod waits longer than the autoscaler's own 30 s SLO "
            "(got: 0)",
        ),
        (
            "new_pod_scale_up_delay_seconds",
            601,
            "autoscaler.new_pod_scale_up_delay_seconds: Input should be less than or equal to "
            "600: the autoscaler's --new-pod-scale-up-delay (upstream 0s), up to 10 minutes "
            "(got: 601)",
        ),
    ],
)
def test_latency_bounds_name_the_flag(field: str, value: int, expected: str) -> None:
    assert problems({"autoscaler": {field: value}}) == [expected]
