"""The scheduler filters the autoscaler simulates (verify/scheduler_model.py)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from verify.scheduler_model import (
    Node,
    Taint,
    daemon_pod_misfit,
    daemon_pod_spec,
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


# --- pkg/controller/daemon: which DaemonSets put a pod on a node ---------------------------------

SIMPLE_LABEL = {"name": "simple-daemon", "type": "production"}
SIMPLE_LABEL_2 = {"name": "simple-daemon", "type": "test"}


def resource_pod_spec(node_name: str, memory: str, cpu: str) -> dict[str, object]:
    """daemon_controller_test.go ``resourcePodSpec``."""
    return {
        "nodeName": node_name,
        "containers": [{"resources": {"requests": {"memory": memory, "cpu": cpu}}}],
    }


def affinity(value: str) -> dict[str, object]:
    term = {"matchExpressions": [{"key": "type", "operator": "In", "values": [value]}]}
    required = {"nodeSelectorTerms": [term]}
    return {
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
    }


@pytest.mark.parametrize(
    ("spec", "should_run"),
    [
        (resource_pod_spec("", "50M", "0.5"), True),
        (resource_pod_spec("", "200M", "0.5"), True),  # resources are not the controller's test
        (resource_pod_spec("other-node", "50M", "0.5"), False),
        ({"nodeSelector": SIMPLE_LABEL_2}, False),
        ({"nodeSelector": SIMPLE_LABEL}, True),
        (affinity("test"), False),
        (affinity("production"), True),
    ],
    ids=[
        "ShouldRunDaemonPod",
        "InsufficientResourceError",
        "ErrPodNotMatchHostName",
        "ErrNodeSelectorNotMatch",
        "ShouldRunDaemonPod nodeSelector",
        "ErrPodAffinityNotMatch",
        "ShouldRunDaemonPod affinity",
    ],
)
def test_node_should_run_daemon_pod(spec: dict[str, object], should_run: bool) -> None:
    """daemon_controller_test.go ``TestNodeShouldRunDaemonPod``: node "test-node" labelled
    ``simpleDaemonSetLabel``, allocatable 100M and 1 CPU."""
    capacity = {"pods": Fraction(100), "cpu": Fraction(1), "memory": Fraction(10**8)}
    node = Node("test-node", dict(SIMPLE_LABEL), [], capacity, capacity)
    assert (daemon_pod_misfit(spec, node) is None) is should_run


def test_daemon_pods_tolerate_node_conditions_but_not_the_gpu_taint() -> None:
    """daemonset_util.go ``AddOrUpdateDaemonPodTolerations``: not-ready/unreachable NoExecute,
    the pressure and unschedulable NoSchedule taints, network-unavailable with hostNetwork."""
    node = Node("n", {}, [Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")], {}, {})
    assert daemon_pod_misfit({}, node) is None
    node.taints.append(Taint("node.kubernetes.io/network-unavailable", "", "NoSchedule"))
    assert daemon_pod_misfit({}, node) == (
        "untolerated taint node.kubernetes.io/network-unavailable=:NoSchedule"
    )
    assert daemon_pod_misfit({"hostNetwork": True}, node) is None
    node.taints.append(GPU_TAINT)
    assert daemon_pod_misfit({"hostNetwork": True}, node) == (
        "untolerated taint nvidia.com/gpu=true:NoSchedule"
    )
    assert (
        daemon_pod_misfit({"hostNetwork": True, "tolerations": [{"operator": "Exists"}]}, node)
        is None
    )
    assert len(daemon_pod_spec({"hostNetwork": True})["tolerations"]) == 7
