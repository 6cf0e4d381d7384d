"""Capacity lines of verify, read from the synthesized output as the consumers will read it.

- ``priority``: the order in which the autoscaler tries the node groups, applying the deployed
  ``--expander`` flag and priority ConfigMap to the ASG names EKS will create
  (``expander/priority/priority.go`` ``BestOption``/``groupIDMatchesList``: a regex matches
  anywhere in the name; a group no priority matches is never used; ``expander/factory/chain.go``:
  the next expander picks among the highest priority's groups).
- ``gpu-sharing``: per GPU group, the device plugin config its node label selects and the
  ``nvidia.com/gpu`` count the ASG's node-template tag advertises, which must be GPUs x replicas.
- ``scale-down``: the autoscaler's deployed scale-down flags.
- ``node-health``: node auto repair on each node group, the node monitoring agent add-on.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from cluster_config.catalog import GPU_INSTANCE_TYPES
from cluster_config.gpu_sharing import GPU_RESOURCE, SHARING_CONFIG_LABEL
from cluster_config.labels import NODE_TEMPLATE_PREFIX
from verify.manifests import attached_objects
from verify.report import CheckResult
from verify.synth import Synthesis

SAMPLE_ASG_UUID = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
"""EKS appends the node group's UUID; any UUID shows whether a pattern matches."""
GPU_TAG = f"{NODE_TEMPLATE_PREFIX}/resources/{GPU_RESOURCE}"


def check_capacity(synthesis: Synthesis) -> list[CheckResult]:
    template = synthesis.cluster
    objects = attached_objects(template)
    groups = _node_groups(template)
    return [
        check_priority(groups, objects),
        check_gpu_sharing(groups, objects),
        check_scale_down(objects),
        check_node_health(
            template,
            groups,
            repair_wanted=synthesis.config.node_auto_repair,
            agent_wanted=synthesis.config.node_monitoring_agent,
        ),
    ]


def _node_groups(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical ID -> properties of each node group, with its ASG template tags as ``_tags``."""
    resources = template["Resources"]
    groups = {
        lid: dict(r["Properties"])
        for lid, r in resources.items()
        if r["Type"] == "AWS::EKS::Nodegroup"
    }
    for r in resources.values():
        if r["Type"] == "Custom::AsgNodeTemplateTags":
            owner = r["Properties"]["NodegroupName"]["Fn::GetAtt"][0]
            groups[owner]["_tags"] = r["Properties"]["Tags"]
    return groups


def _is_gpu(group: dict[str, Any]) -> bool:
    return any(t["Key"] == GPU_RESOURCE for t in group.get("Taints", []))


def _autoscaler_args(objects: list[dict[str, Any]]) -> list[str]:
    for obj in objects:
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "cluster-autoscaler":
            args: list[str] = obj["spec"]["template"]["spec"]["containers"][0]["command"]
            return args
    return []


def _flag(args: list[str], name: str) -> str | None:
    return next((a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")), None)


def check_priority(groups: dict[str, dict[str, Any]], objects: list[dict[str, Any]]) -> CheckResult:
    expander = _flag(_autoscaler_args(objects), "expander") or "random"
    gpu = {
        g["NodegroupName"]: g.get("CapacityType", "ON_DEMAND")
        for g in groups.values()
        if _is_gpu(g)
    }
    if not expander.startswith("priority"):
        if "ON_DEMAND" in gpu.values() and "SPOT" in gpu.values():
            return CheckResult(
                "priority",
                "FAIL",
                f"--expander={expander}: on-demand GPU groups compete with spot ones",
            )
        return CheckResult(
            "priority", "PASS", f"--expander={expander}: every GPU group is tried as an equal"
        )
    maps = [
        o
        for o in objects
        if o["kind"] == "ConfigMap"
        and o["metadata"]["name"] == "cluster-autoscaler-priority-expander"
    ]
    if not maps or "priorities" not in maps[0].get("data", {}):
        return CheckResult(
            "priority", "FAIL", "--expander=priority without its ConfigMap: no scale-up"
        )
    priorities: dict[int, list[str]] = yaml.safe_load(maps[0]["data"]["priorities"])
    problems, rank = [], {}
    for group in groups.values():
        name = group["NodegroupName"]
        asg = f"eks-{name}-{SAMPLE_ASG_UUID}"
        matched = [p for p, res in priorities.items() if any(re.search(r, asg) for r in res)]
        if len(matched) != 1:
            problems.append(f"ASG of {name} matches {len(matched)} priorities (must be exactly 1)")
        else:
            rank[name] = matched[0]
    spot = [rank[n] for n, c in gpu.items() if c == "SPOT" and n in rank]
    on_demand = [rank[n] for n, c in gpu.items() if c == "ON_DEMAND" and n in rank]
    if spot and on_demand and min(spot) <= max(on_demand):
        problems.append("an on-demand GPU group has a priority as high as a spot group")
    order = [
        f"{p}: " + ", ".join(f"{n} ({gpu.get(n, 'system')})" for n in sorted(rank) if rank[n] == p)
        for p in sorted(set(rank.values()), reverse=True)
    ]
    summary = f"--expander={expander}: " + (
        "spot GPU groups first, on-demand ones only when no spot group can scale up"
        if spot and on_demand
        else "one priority level"
    )
    return CheckResult("priority", "FAIL" if problems else "PASS", summary, problems or order)


def _sharing_configs(objects: list[dict[str, Any]]) -> dict[str, int]:
    """Config name -> time-slicing replicas of nvidia.com/gpu, for configs a DaemonSet uses."""
    documents: dict[str, Any] = {}
    for obj in objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "nvidia-device-plugin-configs":
            documents = {k: yaml.safe_load(v) for k, v in obj["data"].items()}
    used: dict[str, int] = {}
    for obj in objects:
        if obj["kind"] != "DaemonSet":
            continue
        pod = obj["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in pod["containers"][0].get("env", [])}
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        for expression in terms["nodeSelectorTerms"][0]["matchExpressions"]:
            if expression["key"] == SHARING_CONFIG_LABEL and expression["operator"] == "In":
                for name in expression["values"]:
                    if env.get("CONFIG_FILE", "").endswith(f"/{name}") and name in documents:
                        resources = documents[name]["sharing"]["timeSlicing"]["resources"]
                        used[name] = next(
                            r["replicas"] for r in resources if r["name"] == GPU_RESOURCE
                        )
    return used


def check_gpu_sharing(
    groups: dict[str, dict[str, Any]], objects: list[dict[str, Any]]
) -> CheckResult:
    configs = _sharing_configs(objects)
    problems, lines = [], []
    for group in (g for g in groups.values() if _is_gpu(g)):
        name = group["NodegroupName"]
        gpus = GPU_INSTANCE_TYPES[group["InstanceTypes"][0]].gpus
        label = group.get("Labels", {}).get(SHARING_CONFIG_LABEL)
        replicas = configs.get(label, 1) if label is not None else 1
        if label not in (None, "none") and label not in configs:
            problems.append(
                f"{name}: label {SHARING_CONFIG_LABEL}={label} selects no device plugin"
            )
        advertised = group.get("_tags", {}).get(GPU_TAG)
        if advertised != str(gpus * replicas):
            problems.append(
                f"{name}: template advertises {advertised} {GPU_RESOURCE}, the plugin will offer "
                f"{gpus} x {replicas} = {gpus * replicas}"
            )
        lines.append(f"{name}: {gpus} GPU x {replicas} = {gpus * replicas} {GPU_RESOURCE} per node")
    shared = sum(1 for line in lines if " x 1 =" not in line)
    summary = (
        f"{shared} of {len(lines)} GPU groups time-sliced; templates advertise what the "
        "device plugin offers"
        if not problems
        else "template GPU counts disagree with the device plugin"
    )
    return CheckResult("gpu-sharing", "FAIL" if problems else "PASS", summary, problems or lines)


def check_scale_down(objects: list[dict[str, Any]]) -> CheckResult:
    args = _autoscaler_args(objects)
    names = (
        "scale-down-unneeded-time",
        "scale-down-delay-after-add",
        "max-node-provision-time",
        "scale-down-utilization-threshold",
        "scale-down-gpu-utilization-threshold",
    )
    values = {n: _flag(args, n) for n in names}
    missing = [n for n, v in values.items() if v is None]
    if missing:
        return CheckResult("scale-down", "FAIL", f"autoscaler flags missing: {', '.join(missing)}")
    return CheckResult(
        "scale-down",
        "PASS",
        f"idle nodes go after {values['scale-down-unneeded-time']} "
        f"({values['scale-down-delay-after-add']} after a scale-up); provisioning timeout "
        f"{values['max-node-provision-time']}; utilization below "
        f"{values['scale-down-utilization-threshold']} (GPU nodes: "
        f"{values['scale-down-gpu-utilization-threshold']} of GPUs)",
    )


def check_node_health(
    template: dict[str, Any],
    groups: dict[str, dict[str, Any]],
    *,
    repair_wanted: bool,
    agent_wanted: bool,
) -> CheckResult:
    repaired = [g for g in groups.values() if g.get("NodeRepairConfig", {}).get("Enabled")]
    agent = any(
        r["Type"] == "AWS::EKS::Addon"
        and r["Properties"]["AddonName"] == "eks-node-monitoring-agent"
        for r in template["Resources"].values()
    )
    summary = (
        f"auto repair on {len(repaired)} of {len(groups)} node groups; node monitoring agent "
        f"{'installed' if agent else 'off'}"
    )
    if agent != agent_wanted or len(repaired) != (len(groups) if repair_wanted else 0):
        return CheckResult("node-health", "FAIL", summary + " (config says otherwise)")
    if repaired and not agent:
        return CheckResult(
            "node-health", "PASS", summary, ["without the agent, GPU faults do not trigger repair"]
        )
    return CheckResult("node-health", "PASS", summary)
