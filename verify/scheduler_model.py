"""Whether a pod fits a node, as the scheduler plugins the cluster autoscaler runs decide it.

The autoscaler simulates scheduling with the kube-scheduler framework (cluster-autoscaler
``simulator/clustersnapshot/predicate``); of its filters, this project's pods depend on three:
TaintToleration, NodeAffinity and NodeResourcesFit. Read in kubernetes/kubernetes v1.36
(``pkg/scheduler/framework/plugins/...``) and ``staging/src/k8s.io/component-helpers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from verify.autoscaler_model import Node, Taint, parse_quantity

FILTERED_EFFECTS = ("NoSchedule", "NoExecute")
"""tainttoleration/taint_toleration.go ``Filter``: only these effects keep a pod off a node."""


def tolerates(toleration: Mapping[str, Any], taint: Taint) -> bool:
    """k8s.io/api core/v1 toleration.go ``ToleratesTaint``: effect empty or equal; empty key
    with ``Exists`` matches every taint; ``Exists`` matches the key, ``Equal`` (default) the
    key and value."""
    effect = toleration.get("effect", "")
    if effect and effect != taint.effect:
        return False
    key = toleration.get("key", "")
    operator = toleration.get("operator", "Equal")
    if key and key != taint.key:
        return False
    if operator == "Exists":
        return True
    return bool(key) and toleration.get("value", "") == taint.value


def untolerated_taint(
    taints: Sequence[Taint], tolerations: Sequence[Mapping[str, Any]]
) -> Taint | None:
    """component-helpers scheduling/corev1 ``FindMatchingUntoleratedTaint`` over the
    NoSchedule/NoExecute taints."""
    for taint in taints:
        if taint.effect in FILTERED_EFFECTS and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """apimachinery labels/selector.go ``Requirement.Matches`` (In, NotIn, Exists,
    DoesNotExist, Gt, Lt) as used by component-helpers ``NodeSelectorRequirementsAsSelector``."""
    key, operator = expression["key"], expression["operator"]
    values = expression.get("values", [])
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt") and key in labels:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if operator == "Gt" else have < want
    return False


def node_affinity_mismatch(pod_spec: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    """nodeaffinity/node_affinity.go ``Filter`` via component-helpers
    ``GetRequiredNodeAffinity(pod).Match``: every nodeSelector entry, and at least one
    required term whose expressions all match."""
    for key, value in pod_spec.get("nodeSelector", {}).items():
        if labels.get(key) != value:
            return f"nodeSelector {key}={value}"
    required = (
        pod_spec.get("affinity", {})
        .get("nodeAffinity", {})
        .get("requiredDuringSchedulingIgnoredDuringExecution")
    )
    if required is None:
        return None
    for term in required.get("nodeSelectorTerms", []):
        expressions = term.get("matchExpressions", [])
        if expressions and all(_expression_matches(e, labels) for e in expressions):
            return None
    return "required node affinity"


def pod_requests(pod_spec: Mapping[str, Any]) -> dict[str, Fraction]:
    """component-helpers resource ``PodRequests``: the sum over containers, at least each init
    container's; a container with limits but no request requests its limit (API defaulting,
    pkg/apis/core/v1/defaults.go ``SetDefaults_Pod``)."""

    def container_requests(container: Mapping[str, Any]) -> dict[str, Fraction]:
        resources = container.get("resources", {})
        merged = {**resources.get("limits", {}), **resources.get("requests", {})}
        return {name: parse_quantity(str(value)) for name, value in merged.items()}

    total: dict[str, Fraction] = {}
    for container in pod_spec.get("containers", []):
        for name, value in container_requests(container).items():
            total[name] = total.get(name, Fraction(0)) + value
    for container in pod_spec.get("initContainers", []):
        for name, value in container_requests(container).items():
            total[name] = max(total.get(name, Fraction(0)), value)
    return total


def insufficient_resources(requests: Mapping[str, Fraction], node: Node) -> list[str]:
    """noderesources/fit.go ``fitsRequest``: one more pod within allocatable pods, and every
    requested (non-zero) resource within allocatable minus what the node's pods request."""
    missing = []
    pods_on_node = node.requested.get("pods", Fraction(0))
    if pods_on_node + 1 > node.allocatable.get("pods", Fraction(0)):
        missing.append("pods")
    for name, wanted in sorted(requests.items()):
        free = node.allocatable.get(name, Fraction(0)) - node.requested.get(name, Fraction(0))
        if wanted > 0 and wanted > free:
            missing.append(name)
    return missing


def fit_failure(pod_spec: Mapping[str, Any], node: Node) -> str | None:
    """Why the pod cannot be scheduled on the node, or None when it fits."""
    taint = untolerated_taint(node.taints, pod_spec.get("tolerations", []))
    if taint is not None:
        return f"untolerated taint {taint.key}={taint.value}:{taint.effect}"
    mismatch = node_affinity_mismatch(pod_spec, node.labels)
    if mismatch is not None:
        return f"{mismatch} does not match"
    missing = insufficient_resources(pod_requests(pod_spec), node)
    if missing:
        return f"insufficient {', '.join(missing)}"
    return None


def add_pod(node: Node, pod_spec: Mapping[str, Any]) -> None:
    """Count a pod (e.g. a DaemonSet's) on the node: requests and one pod."""
    for name, value in pod_requests(pod_spec).items():
        node.requested[name] = node.requested.get(name, Fraction(0)) + value
    node.requested["pods"] = node.requested.get("pods", Fraction(0)) + 1
