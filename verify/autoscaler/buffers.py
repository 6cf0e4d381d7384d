"""Warm capacity: pods the autoscaler must find room for that no user created.

A CapacityBuffer's pods (which the autoscaler's pod injection adds to its pending pods) and the
FAQ's overprovisioning pause pods; which groups they scale up, and whether the node that joins
can run them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster_config.labels import POOL_LABEL
from verify.autoscaler.nodes import live_node
from verify.autoscaler.scene import Scene
from verify.scheduler_model import fit_failure

CAPACITY_BUFFER_FLAGS = (
    "--capacity-buffer-controller-enabled=true",
    "--capacity-buffer-pod-injection-enabled=true",
    "--kube-api-content-type=application/json",
)
"""Without the first two the autoscaler ignores CapacityBuffers (``config/flags/flags.go``, both
default false); without the third its buffer controller never writes buffer status."""


@dataclass(frozen=True)
class BufferPods:
    """Pods the autoscaler must find room for that no user created: a CapacityBuffer's (which
    pod injection adds to its pending pods) or the FAQ's overprovisioning pause pods."""

    name: str
    replicas: int
    pod: Mapping[str, Any]


EXPENDABLE_PODS_PRIORITY_CUTOFF = -10
"""``--expendable-pods-priority-cutoff`` default (FAQ.md flag table): pods below it never make
the autoscaler scale up (FAQ, "How does Cluster Autoscaler work with Pod Priority")."""


def buffer_pods(objects: Sequence[Mapping[str, Any]]) -> tuple[list[BufferPods], list[str]]:
    """The buffers among ``objects``, and what makes one unusable (a missing PodTemplate, pause
    pods below the expendable cutoff). Overprovisioning Deployments are those whose pods have a
    negative PriorityClass (FAQ.md, "How can I configure overprovisioning")."""
    buffers, problems = [], []
    priorities = {
        o["metadata"]["name"]: int(o["value"]) for o in objects if o["kind"] == "PriorityClass"
    }
    templates = {
        (o["metadata"].get("namespace"), o["metadata"]["name"]): o
        for o in objects
        if o["kind"] == "PodTemplate"
    }
    for o in objects:
        meta = o["metadata"]
        if o["kind"] == "CapacityBuffer":
            ref = o.get("spec", {}).get("podTemplateRef", {}).get("name")
            template = templates.get((meta.get("namespace"), ref))
            if template is None:
                problems.append(f"CapacityBuffer/{meta['name']}: PodTemplate {ref!r} not found")
                continue
            replicas = int(o["spec"].get("replicas", 0))
            buffers.append(
                BufferPods(f"CapacityBuffer/{meta['name']}", replicas, template["template"]["spec"])
            )
        elif o["kind"] == "Deployment" and (
            priorities.get(o["spec"]["template"]["spec"].get("priorityClassName", ""), 0) < 0
        ):
            value = priorities[o["spec"]["template"]["spec"]["priorityClassName"]]
            if value < EXPENDABLE_PODS_PRIORITY_CUTOFF:
                problems.append(
                    f"Deployment/{meta['name']}: priority {value} is below the autoscaler's "
                    f"expendable cutoff {EXPENDABLE_PODS_PRIORITY_CUTOFF}: it never scales up"
                )
                continue
            buffers.append(
                BufferPods(
                    f"Deployment/{meta['name']}",
                    int(o["spec"].get("replicas", 1)),
                    o["spec"]["template"]["spec"],
                )
            )
    return buffers, problems


def warm_buffers(
    scene: Scene, objects: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, list[str]], list[str]]:
    """Buffer -> the groups its pods scale up, and the problems: a buffer the autoscaler's flags
    ignore, pods that fit no group or another pool's, or that scale up a group whose joining node
    they do not fit (the autoscaler would add node after node)."""
    buffers, problems = buffer_pods(objects)
    if any(b.name.startswith("CapacityBuffer/") for b in buffers):
        problems += [
            f"CapacityBuffers exist but the autoscaler lacks {flag}"
            for flag in CAPACITY_BUFFER_FLAGS
            if flag not in scene.autoscaler.args
        ]
    scaled: dict[str, list[str]] = {}
    for buffer in buffers:
        selected = buffer.pod.get("nodeSelector", {}).get(POOL_LABEL)
        scaled[buffer.name] = [
            n for n, node in scene.templates.items() if fit_failure(buffer.pod, node) is None
        ]
        if not scaled[buffer.name]:
            problems.append(
                f"{buffer.name}: its pods fit no group's template: nothing is kept warm"
            )
        problems += [
            f"{buffer.name}: its pods would scale up {n}, not a group of pool {selected}"
            for n in scaled[buffer.name]
            if scene.pools[n] != selected
        ]
        problems += _misfits_on_joining_nodes(scene, buffer, scaled[buffer.name])
    return scaled, problems


def _misfits_on_joining_nodes(scene: Scene, buffer: BufferPods, scaled: Sequence[str]) -> list[str]:
    problems = []
    for g in (g for g in scene.gpu_groups if g.name in scaled):
        for instance in g.instance_types:
            try:
                why = fit_failure(buffer.pod, live_node(g, scene.daemonsets, instance))
            except KeyError:
                continue  # reported by largest_pods (maxPods unknown)
            if why is not None:
                problems.append(
                    f"{buffer.name}: its pod scales up {g.name} but does not fit the "
                    f"{instance} node that joins ({why}): the autoscaler would add node "
                    "after node"
                )
    return problems
