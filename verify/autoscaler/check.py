"""The ``autoscaler`` check's entry: ``simulate`` runs every decision, ``check_autoscaler``
reports them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verify.autoscaler.balancing import balance
from verify.autoscaler.buffers import warm_buffers
from verify.autoscaler.groups import GroupFacts
from verify.autoscaler.largest_pod import LargestPod, largest_pods
from verify.autoscaler.rules import RULES
from verify.autoscaler.scene import read_scene
from verify.autoscaler.table import report_table
from verify.autoscaler_model import AutoscalerFlags
from verify.report import CheckResult, Status
from verify.scheduler_model import Node


@dataclass(frozen=True)
class Simulation:
    """Everything the check decided, for the report and for tests."""

    flags: AutoscalerFlags
    groups: list[GroupFacts]
    templates: dict[str, Node]
    fits: dict[str, dict[str, str | None]]
    """pod name -> group name -> None (fits) or why not."""
    similar_at_zero: dict[str, dict[str, str | None]]
    similar_live: dict[str, dict[str, str | None]]
    pools: dict[str, str]
    """Group name -> its nodes' ``pool`` label (``-`` when they have none)."""
    largest: dict[str, LargestPod]
    """Group name -> the largest GPU pod it takes (GPU groups)."""
    problems: list[str]
    table: list[str]
    release: str
    """The autoscaler's image tag (``(not deployed)`` without its Deployment)."""
    buffers: dict[str, list[str]]
    """Warm-capacity buffer (``CapacityBuffer/<name>`` or ``Deployment/<name>``) -> the groups
    its pods scale up."""


def simulate(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
) -> Simulation:
    """Run the autoscaler's decisions over the synthesized groups and manifests."""
    scene = read_scene(cluster, network, objects)
    largest, largest_problems = largest_pods(scene)
    buffers, buffer_problems = warm_buffers(scene, objects)
    balancing = balance(scene)
    problems = [p for rule in RULES for p in rule(scene)]
    problems += largest_problems + buffer_problems + balancing.problems
    return Simulation(
        flags=scene.autoscaler.flags,
        groups=scene.groups,
        templates=scene.templates,
        fits=scene.fits,
        similar_at_zero=balancing.at_zero,
        similar_live=balancing.live,
        pools=scene.pools,
        largest=largest,
        problems=problems,
        table=report_table(scene, largest, balancing, buffers),
        release=scene.autoscaler.release,
        buffers=buffers,
    )


def check_autoscaler(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
) -> CheckResult:
    simulation = simulate(cluster, network, objects)
    gpu = [g for g in simulation.groups if g.gpu]
    pools = sorted({simulation.pools[g.name] for g in gpu if g.name in simulation.pools})
    summary = (
        f"{len(simulation.templates)} groups ({len(gpu)} GPU, {len(pools)} "
        f"pool{'s' if len(pools) != 1 else ''}) as cluster-autoscaler {simulation.release} sees "
        "them: scale-from-zero, placement, balancing, largest pod"
    )
    status: Status = "FAIL" if simulation.problems else "PASS"
    return CheckResult("autoscaler", status, summary, simulation.problems, simulation.table)
