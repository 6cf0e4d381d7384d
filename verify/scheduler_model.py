"""Kubernetes' side of the simulation: nodes and pods, and whether a pod goes on a node.

The cluster autoscaler simulates scheduling with the kube-scheduler framework (cluster-autoscaler
``simulator/clustersnapshot/predicate``); of its filters, this project's pods depend on three:
TaintToleration, NodeAffinity and NodeResourcesFit. Which DaemonSets get a pod on a node is the
DaemonSet controller's rule (``pkg/controller/daemon``), which the autoscaler calls for every
template node. Read in kubernetes/kubernetes v1.36 (``pkg/scheduler/framework/plugins/...``,
``pkg/controller/daemon``) and ``staging/src/k8s.io/component-helpers``; cluster-autoscaler
1.36.1 vendors k8s.io/kubernetes v1.36.2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# --- quantities ----------------------------------------------------------------------------

_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: str) -> Fraction:
    """Exact value of a Kubernetes quantity; ``ValueError`` where ``resource.ParseQuantity``
    fails (k8s.io/apimachinery pkg/api/resource/quantity.go ``ParseQuantity``, suffix.go)."""
    match = _QUANTITY.match(text.strip()) if text == text.strip() else None
    if match is None:
        raise ValueError(f"quantities must match the regular expression of ParseQuantity: {text!r}")
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    exponent = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:])
    return number * Fraction(10) ** exponent


def milli_value(quantity: Fraction) -> int:
    """``Quantity.MilliValue``: the value in thousandths, rounded up (quantity.go)."""
    return math.ceil(quantity * 1000)


# --- nodes and pods ------------------------------------------------------------------------


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class Pod:
    """A pod placed on a node: what the autoscaler's template rules look at."""

    name: str
    spec: Mapping[str, Any]
    mirror: bool = False
    """Has the ``kubernetes.io/config.mirror`` annotation (utils/pod ``IsMirrorPod``)."""
    daemonset: str | None = None
    """The owning DaemonSet (controllerRef of kind DaemonSet: utils/pod ``IsDaemonSetPod``)."""
    deleting: bool = False
    """Has a deletionTimestamp."""


@dataclass
class Node:
    """The parts of a ``v1.Node`` (plus the pods on it) the autoscaler compares."""

    name: str
    labels: dict[str, str]
    taints: list[Taint]
    capacity: dict[str, Fraction]
    allocatable: dict[str, Fraction]
    requested: dict[str, Fraction] = field(default_factory=dict)
    """Sum of requests of the pods on the node (``NodeInfo.GetRequested``)."""
    pods: list[Pod] = field(default_factory=list)


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


def add_pod(
    node: Node,
    pod_spec: Mapping[str, Any],
    *,
    name: str = "pod",
    mirror: bool = False,
    daemonset: str | None = None,
    deleting: bool = False,
) -> None:
    """Place a pod on the node: its requests and one pod are counted (``NodeInfo.AddPod``)."""
    for resource, value in pod_requests(pod_spec).items():
        node.requested[resource] = node.requested.get(resource, Fraction(0)) + value
    node.requested["pods"] = node.requested.get("pods", Fraction(0)) + 1
    node.pods.append(Pod(name, pod_spec, mirror, daemonset, deleting))


# --- DaemonSets ----------------------------------------------------------------------------

DAEMON_POD_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
"""pkg/controller/daemon/util/daemonset_util.go ``AddOrUpdateDaemonPodTolerations``."""
NETWORK_UNAVAILABLE_TOLERATION = {
    "key": "node.kubernetes.io/network-unavailable",
    "operator": "Exists",
    "effect": "NoSchedule",
}
"""Added too when the pod uses the host network (same function)."""


def daemon_pod_spec(template_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The pod the DaemonSet controller makes from its template: the template with the default
    DaemonSet tolerations (pkg/controller/daemon/daemon_controller.go ``NewPod``)."""
    tolerations = [*template_spec.get("tolerations", []), *DAEMON_POD_TOLERATIONS]
    if template_spec.get("hostNetwork"):
        tolerations.append(NETWORK_UNAVAILABLE_TOLERATION)
    return {**template_spec, "tolerations": tolerations}


def daemon_pod_misfit(template_spec: Mapping[str, Any], node: Node) -> str | None:
    """Why the DaemonSet would not run a pod on the node, or None: daemon_controller.go
    ``NodeShouldRunDaemonPod``/``predicates``: the template's nodeName, its required node
    affinity (nodeSelector included) and the NoSchedule/NoExecute taints it does not tolerate
    with the default DaemonSet tolerations. Resources are not checked: a DaemonSet pod goes on
    the node whether or not it fits."""
    if template_spec.get("nodeName", "") not in ("", node.name):
        return "nodeName"
    pod = daemon_pod_spec(template_spec)
    mismatch = node_affinity_mismatch(pod, node.labels)
    if mismatch is not None:
        return f"{mismatch} does not match"
    taint = untolerated_taint(node.taints, pod["tolerations"])
    if taint is not None:
        return f"untolerated taint {taint.key}={taint.value}:{taint.effect}"
    return None
