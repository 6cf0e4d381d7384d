"""The largest GPU pod each GPU group takes, per resource (cpu, memory, ephemeral-storage).

What the group's template node admits (so the pod scales the group up from zero) against what
the node that then joins can run (nodeadm's reservations, the eviction threshold, the DaemonSet
pods): a pod between the two scales up a node it cannot run on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from verify.autoscaler.groups import GroupFacts
from verify.autoscaler.nodes import live_node
from verify.autoscaler.scene import Scene
from verify.scheduler_model import Node

LARGEST_POD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
"""The resources a largest pod is measured in, in the report's order."""


def free(node: Node, resource: str) -> Fraction:
    """What one more pod may request of a resource: allocatable less the pods' requests
    (noderesources/fit.go ``fitsRequest``)."""
    return node.allocatable.get(resource, Fraction(0)) - node.requested.get(resource, Fraction(0))


@dataclass(frozen=True)
class LargestPod:
    """Per resource, the largest request of one GPU pod that (a) the autoscaler's template
    admits, so it scales the group up from zero, and (b) the node that joins admits."""

    group: str
    scales_up: dict[str, Fraction]
    runs: dict[str, Fraction]

    def gaps(self) -> list[str]:
        """Resources a pod can request enough of to scale a node up that it cannot run on."""
        return [r for r in LARGEST_POD_RESOURCES if self.scales_up[r] > self.runs[r]]


def largest_pod(group: GroupFacts, template: Node, joined: Sequence[Node]) -> LargestPod:
    """From the group's template, and the smallest of the nodes that may join (one per type)."""
    return LargestPod(
        group.name,
        {r: max(free(template, r), Fraction(0)) for r in LARGEST_POD_RESOURCES},
        {r: max(min(free(n, r) for n in joined), Fraction(0)) for r in LARGEST_POD_RESOURCES},
    )


def format_request(resource: str, value: Fraction) -> str:
    """A request as the report prints it: cpu in millicores, the others in MiB (rounded down)."""
    if resource == "cpu":
        return f"{int(value * 1000)}m"
    return f"{int(value // 2**20)}Mi"


def largest_pods(scene: Scene) -> tuple[dict[str, LargestPod], list[str]]:
    """Per GPU group, the largest GPU pod it takes (on each type the group may launch), and a
    problem for every resource a pod may request enough of to scale a node up it cannot run on."""
    largest: dict[str, LargestPod] = {}
    problems: list[str] = []
    for g in scene.gpu_groups:
        try:
            joined = [live_node(g, scene.daemonsets, t) for t in g.instance_types]
        except KeyError as missing:
            problems.append(f"{g.name}: nodeadm's instance list has no {missing}: maxPods unknown")
            continue
        pod = largest[g.name] = largest_pod(g, scene.templates[g.name], joined)
        problems += [
            f"{g.name}: a GPU pod requesting more than {format_request(r, pod.runs[r])} and up to "
            f"{format_request(r, pod.scales_up[r])} of {r} scales a node up from zero that it "
            "cannot run on (the template does not know the kubelet's reservations)"
            for r in pod.gaps()
        ]
    return largest, problems
