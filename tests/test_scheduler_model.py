"""The scheduler filters the autoscaler simulates (verify/scheduler_model.py)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from verify.autoscaler_model import Node, Taint
from verify.scheduler_model import (
    fit_failure,
    node_affinity_mismatch,
    pod_requests,
    tolerates,
    untolerated_taint,
)

GPU_TAINT = Taint("nvidia.com/gpu", "true", "NoSchedule")


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, True),
        ({"key": "nvidia.com/gpu", "operator": "Exists"}, True),
        ({"operator": "Exists"}, True),
        ({"key": "nvidia.com/gpu", "value": "true"}, True),
        ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "false"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "other", "operator": "Exists"}, False),
    ],
)
def test_tolerations_match_like_tolerates_taint(toleration: dict[str, str], expected: bool) -> None:
    """k8s.io/api core/v1 toleration_test.go TestTolerationToleratesTaint cases."""
    assert tolerates(toleration, GPU_TAINT) is expected


def test_prefer_no_schedule_taints_do_not_filter() -> None:
    assert untolerated_taint([Taint("a", "b", "PreferNoSchedule")], []) is None
    assert untolerated_taint([GPU_TAINT], []) == GPU_TAINT


@pytest.mark.parametrize(
    ("expression", "labels", "matches"),
    [
        ({"key": "t", "operator": "In", "values": ["a", "b"]}, {"t": "b"}, True),
        ({"key": "t", "operator": "In", "values": ["a"]}, {}, False),
        ({"key": "t", "operator": "NotIn", "values": ["a"]}, {}, True),
        ({"key": "t", "operator": "Exists"}, {"t": ""}, True),
        ({"key": "t", "operator": "DoesNotExist"}, {"t": ""}, False),
        ({"key": "n", "operator": "Gt", "values": ["3"]}, {"n": "4"}, True),
        ({"key": "n", "operator": "Lt", "values": ["3"]}, {"n": "x"}, False),
    ],
)
def test_required_node_affinity(
    expression: dict[str, object], labels: dict[str, str], matches: bool
) -> None:
    spec = {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [expression]}]
                }
            }
        }
    }
    assert (node_affinity_mismatch(spec, labels) is None) is matches


def test_requests_default_to_limits_and_init_containers_take_the_max() -> None:
    spec = {
        "initContainers": [{"resources": {"requests": {"cpu": "2"}}}],
        "containers": [
            {"resources": {"limits": {"nvidia.com/gpu": "1", "cpu": "500m"}}},
            {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
        ],
    }
    assert pod_requests(spec) == {
        "cpu": Fraction(2),
        "memory": Fraction(2**30),
        "nvidia.com/gpu": Fraction(1),
    }


def test_resources_fit_against_allocatable_minus_requested() -> None:
    capacity = {"pods": Fraction(110), "cpu": Fraction(4), "nvidia.com/gpu": Fraction(1)}
    node = Node("n", {}, [], capacity, capacity, {"cpu": Fraction(3, 2), "pods": Fraction(1)})
    gpu = {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "1", "cpu": "2500m"}}}]}
    assert fit_failure(gpu, node) is None
    two = {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "2", "cpu": "3"}}}]}
    assert fit_failure(two, node) == "insufficient cpu, nvidia.com/gpu"
    disk = {"containers": [{"resources": {"requests": {"ephemeral-storage": "1Gi"}}}]}
    assert fit_failure(disk, node) == "insufficient ephemeral-storage"
