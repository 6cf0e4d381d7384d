"""Which groups a scale-up is balanced across (``--balance-similar-node-groups``).

All groups at zero, and one group with a live node against the others' templates, compared as
the autoscaler does (``verify/autoscaler_model.py``, ``similar_groups``); then what is wrong:
groups of one pool and capacity type must be balanced, any others must not be.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verify.autoscaler.nodes import live_template
from verify.autoscaler.probes import GPU_POD, PLAIN_POD
from verify.autoscaler.scene import Scene
from verify.autoscaler_model import NVIDIA_GPU, similar_groups
from verify.scheduler_model import Node, fit_failure


def _shape(node: Node) -> tuple[Any, ...]:
    return (
        node.capacity.get("cpu"),
        node.capacity.get("memory"),
        node.capacity.get(NVIDIA_GPU),
        node.labels.get("k8s.amazonaws.com/accelerator"),
    )


@dataclass(frozen=True)
class Balancing:
    """Group -> other group -> None (a scale-up is balanced across both) or why not: all at zero,
    and with the group's one live node against the others' templates; and what is wrong."""

    at_zero: dict[str, dict[str, str | None]]
    live: dict[str, dict[str, str | None]]
    problems: list[str]


def balance(scene: Scene) -> Balancing:
    """Which groups a scale-up is balanced across: a GPU pod's for GPU groups, a plain pod's for
    the others. Groups of one pool and capacity type (one shape by construction) must be
    balanced; groups of different pools, capacity types or shapes must not be; the system group
    with none."""
    flags = scene.autoscaler.flags
    at_zero: dict[str, dict[str, str | None]] = {}
    live: dict[str, dict[str, str | None]] = {}
    for g in scene.managed:
        pod = GPU_POD if g.gpu else PLAIN_POD

        def fits(node: Node, pod: Mapping[str, Any] = pod) -> bool:
            return fit_failure(pod, node) is None

        at_zero[g.name] = similar_groups(g.name, scene.templates, flags, fits)
        nodes = {**scene.templates, g.name: live_template(g, scene.daemonsets, flags)}
        live[g.name] = similar_groups(g.name, nodes, flags, fits)
    problems = [
        problem
        for state, result in (("all at zero", at_zero), ("one live node", live))
        for group, other, why in _pairs(state, result)
        if (problem := _pair_problem(scene, state, group, other, why)) is not None
    ]
    return Balancing(at_zero, live, problems)


def _pairs(
    state: str, result: Mapping[str, Mapping[str, str | None]]
) -> list[tuple[str, str, str | None]]:
    """(group, other, why) of every compared pair; all at zero, each unordered pair once."""
    seen: set[frozenset[str]] = set()
    pairs = []
    for group, others in result.items():
        for other, why in others.items():
            if state == "all at zero" and frozenset((group, other)) in seen:
                continue
            seen.add(frozenset((group, other)))
            pairs.append((group, other, why))
    return pairs


def _pair_problem(scene: Scene, state: str, group: str, other: str, why: str | None) -> str | None:
    """What is wrong with the autoscaler balancing (``why`` None) or not balancing two groups."""
    by_name = {g.name: g for g in scene.managed}
    a, b = by_name[group], by_name[other]
    pools = scene.pools
    same_shape = _shape(scene.templates[group]) == _shape(scene.templates[other])
    expected = (
        a.gpu
        and b.gpu
        and pools[group] == pools[other] != "-"
        and a.nodegroup.capacity_type == b.nodegroup.capacity_type
    )
    where = state if state == "all at zero" else f"a live node in {group}"
    if why is None and not (expected and same_shape):
        differ = (
            "their nodes differ"
            if not same_shape
            else "they are different pools"
            if pools[group] != pools[other]
            else "their capacity types differ"
            if a.nodegroup.capacity_type != b.nodegroup.capacity_type
            else "one is not a GPU group"
        )
        return f"{group} and {other} are balanced ({where}) although {differ}"
    if why is not None and expected:
        if same_shape:
            return f"{group} and {other} are not balanced ({where}): {why}"
        if state == "all at zero":
            return f"pool {pools[group]} has groups of different shapes: {group} and {other}"
    return None
