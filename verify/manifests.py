"""The Kubernetes manifests attached to the cluster: schema, pod security and network policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import kubernetes_validate

from verify.report import CheckResult

MANIFEST_TYPE = "Custom::AWSCDK-EKS-KubernetesResource"
POD_TEMPLATE_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "Job"}

ROOT_ALLOWED = {
    ("DaemonSet", "nvidia-device-plugin-daemonset"): "creates its socket in the kubelet's "
    "root-owned device-plugins directory (NVIDIA's manifest runs it as root too)",
}
"""Workloads that may run as root, with the reason; all other pods must set runAsNonRoot."""

PRIVILEGED_ALLOWED = {
    ("DaemonSet", "aws-efa-k8s-device-plugin"): "AWS's EFA device plugin as aws/eks-charts ships "
    "it since chart v0.5.16 (privileged, as root, privilege escalation on: it reads the host's "
    "accelerator and EFA topology, aws/eks-charts#1245); it runs only on EFA pools' nodes",
}
"""Workloads that may run privileged (which also allows escalation and every capability), with
the reason; all other containers must drop ALL, refuse escalation and not be privileged."""


def attached_objects(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Kubernetes object the cluster stack applies (plain JSON manifests only)."""
    objects = []
    for resource in template["Resources"].values():
        if resource["Type"] == MANIFEST_TYPE and isinstance(
            resource["Properties"]["Manifest"], str
        ):
            objects.extend(json.loads(resource["Properties"]["Manifest"]))
    return objects


def custom_schemas(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind)`` -> the OpenAPI schema of each version a CRD among ``objects``
    serves (what the API server validates a custom object against)."""
    schemas = {}
    for crd in objects:
        if crd["kind"] != "CustomResourceDefinition":
            continue
        spec = crd["spec"]
        for version in spec["versions"]:
            if version.get("served"):
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                schemas[key] = version["schema"]["openAPIV3Schema"]
    return schemas


def check_schema(objects: list[dict[str, Any]], kubernetes_version: str) -> CheckResult:
    problems: list[str] = []
    custom = custom_schemas(objects)
    for obj in objects:
        schema = custom.get((obj.get("apiVersion", ""), obj["kind"]))
        if schema is not None:  # a custom object: its CRD's schema (Draft 7 covers what it uses)
            problems.extend(
                f"{_name(obj)}: {'.'.join(map(str, e.absolute_path))}: {e.message}"
                for e in jsonschema.Draft7Validator(schema).iter_errors(obj)
            )
            continue
        try:
            kubernetes_validate.validate(obj, f"{kubernetes_version}.0", strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{_name(obj)}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{_name(obj)}: {obj.get('apiVersion')} is neither built in nor a CRD")
    summary = f"{len(objects)} objects against the Kubernetes {kubernetes_version} schema"
    if custom:
        summary += f" and {len(custom)} custom resource version(s)"
    if not objects:
        return CheckResult("k8s-schema", "FAIL", "no manifest is attached to the cluster")
    return CheckResult("k8s-schema", "FAIL" if problems else "PASS", summary, problems)


def check_security(objects: list[dict[str, Any]]) -> CheckResult:
    problems: list[str] = []
    pods = [obj for obj in objects if obj["kind"] in POD_TEMPLATE_KINDS]
    policies = network_policy_selectors(objects)
    for obj in pods:
        problems.extend(f"{_name(obj)}: {p}" for p in pod_security_problems(obj))
        if not obj["spec"]["template"]["spec"].get("hostNetwork") and not any(
            selects(selector, _pod_labels(obj)) for selector in policies.get(_namespace(obj), [])
        ):
            problems.append(
                f"{_name(obj)}: no NetworkPolicy in namespace {_namespace(obj)} selects its pods"
            )
    summary = (
        f"{len(pods)} workloads: no privileged container, no privilege escalation, "
        "capabilities dropped, requests set, non-root unless allowed, a NetworkPolicy for each "
        "(host-network pods, which none governs, excepted)"
    )
    allowed = sorted(
        f"{kind}/{name}"
        for kind, name in PRIVILEGED_ALLOWED
        if any(_name(o) == f"{kind}/{name}" for o in pods)
    )
    if allowed:
        summary += f" (privileged by exception: {', '.join(allowed)})"
    return CheckResult("k8s-security", "FAIL" if problems else "PASS", summary, problems)


def pod_security_problems(obj: dict[str, Any]) -> Iterator[str]:
    spec = obj["spec"]["template"]["spec"]
    pod_non_root = spec.get("securityContext", {}).get("runAsNonRoot") is True
    privileged_allowed = (obj["kind"], obj["metadata"]["name"]) in PRIVILEGED_ALLOWED
    root_allowed = (
        privileged_allowed
        or (obj["kind"], obj["metadata"]["name"]) in ROOT_ALLOWED
        or (
            # the device plugin again, one DaemonSet per GPU time-slicing config (same reason)
            obj["kind"] == "DaemonSet"
            and obj["metadata"]["name"].startswith("nvidia-device-plugin-time-slicing-")
        )
    )
    for container in spec.get("initContainers", []) + spec["containers"]:
        name = container["name"]
        context = container.get("securityContext", {})
        if not privileged_allowed:
            if context.get("privileged"):
                yield f"container {name} is privileged"
            if context.get("allowPrivilegeEscalation") is not False:
                yield f"container {name} does not set allowPrivilegeEscalation: false"
            if "ALL" not in context.get("capabilities", {}).get("drop", []):
                yield f"container {name} does not drop ALL capabilities"
        requests = container.get("resources", {}).get("requests", {})
        if not {"cpu", "memory"} <= set(requests):
            yield f"container {name} does not request cpu and memory"
        if not (pod_non_root or context.get("runAsNonRoot") is True or root_allowed):
            yield f"container {name} may run as root (set runAsNonRoot)"


def network_policy_selectors(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Namespace -> the podSelector of each NetworkPolicy in it.

    checkov's CKV2_K8S_6 cannot stand in for this: checkov 3.3.30 links a policy with an empty
    podSelector to every pod of the scan, in any namespace, so the smoke test's default-deny
    would hide every other pod's missing policy."""
    selectors: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        # podSelector is required (networking/v1 NetworkPolicySpec: "An empty podSelector matches
        # all pods in this namespace"); a policy without one selects nothing here.
        selector = (
            (obj.get("spec") or {}).get("podSelector") if obj["kind"] == "NetworkPolicy" else None
        )
        if isinstance(selector, dict):
            selectors.setdefault(_namespace(obj), []).append(selector)
    return selectors


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes LabelSelector semantics: every matchLabels pair and every matchExpressions
    requirement holds (an empty selector selects every pod). The operators as
    k8s.io/apimachinery pkg/labels/selector.go ``Requirement.Matches`` evaluates them: In and
    Exists need the key; NotIn and DoesNotExist hold for a pod without it."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for requirement in selector.get("matchExpressions", []):
        key, operator = requirement["key"], requirement["operator"]
        values = requirement.get("values", [])
        held = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }.get(operator, False)
        if not held:
            return False
    return True


def _pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = obj["spec"]["template"].get("metadata", {}).get("labels") or {}
    return labels


def _namespace(obj: dict[str, Any]) -> str:
    namespace: str = obj["metadata"].get("namespace") or "default"
    return namespace


def _name(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata'].get('name', '?')}"
