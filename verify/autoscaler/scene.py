"""The ``Scene``: the node groups as the autoscaler sees them, read once for every rule.

The groups its flags discover, their template nodes and ``pool`` labels, the DaemonSets (the
manifests' and the EKS add-ons'), the device plugins, and which probe pod (``probes.py``) and
which plugin fits which template node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster_config.labels import POOL_LABEL
from verify.autoscaler.groups import GroupFacts, discovered, read_groups
from verify.autoscaler.nodes import template_node
from verify.autoscaler.probes import efa_pods_of, probe_pods
from verify.autoscaler.workloads import (
    DEVICE_PLUGIN_IMAGE,
    EFA_PLUGIN_REPOSITORY,
    AutoscalerDeployment,
    addon_daemonsets,
    read_deployment,
    runs_image,
    runs_repository,
)
from verify.autoscaler_model import DaemonSet
from verify.scheduler_model import Node, daemon_pod_misfit, fit_failure


def plugin_fits(
    plugins: Sequence[Mapping[str, Any]],
    templates: Mapping[str, Node],
    why: tuple[str, str] = (
        "no device-plugin DaemonSet would run a pod on it",
        "no device-plugin DaemonSet",
    ),
) -> dict[str, str | None]:
    """Group -> None when one of the plugin's DaemonSets runs a pod on its template node, else
    why not (``why``: with DaemonSets, without any). The NVIDIA plugin has one DaemonSet, or one
    per time-slicing config, each selected by its node label."""
    why_not = why[0] if plugins else why[1]
    return {
        name: next(
            (
                None
                for p in plugins
                if daemon_pod_misfit(p["spec"]["template"]["spec"], node) is None
            ),
            why_not,
        )
        for name, node in templates.items()
    }


@dataclass(frozen=True)
class Scene:
    """The groups as the autoscaler sees them: what each rule (``rules.py``) reads, none changes."""

    autoscaler: AutoscalerDeployment
    groups: list[GroupFacts]
    managed: list[GroupFacts]
    """The groups the autoscaler's flags discover."""
    daemonsets: list[DaemonSet]
    unknown_addons: list[str]
    """A problem per EKS add-on whose DaemonSets verify does not know."""
    plugins: list[Mapping[str, Any]]
    """The DaemonSets running the NVIDIA device plugin."""
    efa_plugins: list[Mapping[str, Any]]
    """The DaemonSets running the EFA device plugin."""
    efa_pods: dict[str, Any]
    """EFA pool -> its multi-node training worker pod (``efa_pods_of``)."""
    templates: dict[str, Node]
    pools: dict[str, str]
    """Group name -> its nodes' ``pool`` label (``-`` when they have none)."""
    fits: dict[str, dict[str, str | None]]
    """Pod name -> group name -> None (fits its template node) or why not."""

    @property
    def gpu_groups(self) -> list[GroupFacts]:
        return [g for g in self.managed if g.gpu]

    @property
    def system_groups(self) -> list[GroupFacts]:
        return [g for g in self.managed if not g.gpu]


def read_scene(
    cluster: Mapping[str, Any], network: Mapping[str, Any], objects: Sequence[Mapping[str, Any]]
) -> Scene:
    autoscaler = read_deployment(objects)
    manifest_daemonsets = [o for o in objects if o["kind"] == "DaemonSet"]
    addons, unknown_addons = addon_daemonsets(cluster)
    daemonsets = [*(DaemonSet.from_manifest(d) for d in manifest_daemonsets), *addons]
    groups = read_groups(cluster, network)
    managed = [g for g in groups if discovered(autoscaler.args, g.asg_tags)]
    templates = {g.name: template_node(g, daemonsets) for g in managed}
    pools = {g.name: templates[g.name].labels.get(POOL_LABEL, "-") for g in managed}
    gpu_pools = sorted({pools[g.name] for g in managed if g.gpu})
    plugins = [d for d in manifest_daemonsets if runs_image(d, DEVICE_PLUGIN_IMAGE)]
    efa_plugins = [d for d in manifest_daemonsets if runs_repository(d, EFA_PLUGIN_REPOSITORY)]
    efa_pods = efa_pods_of(managed, templates)
    fits = {
        pod: {name: fit_failure(spec, node) for name, node in templates.items()}
        for pod, spec in probe_pods(gpu_pools, efa_pods, autoscaler).items()
    }
    fits["device plugin"] = plugin_fits(plugins, templates)
    no_efa = "no EFA device-plugin DaemonSet would run a pod on it"
    fits["efa plugin"] = plugin_fits(efa_plugins, templates, (no_efa, no_efa))
    return Scene(
        autoscaler,
        groups,
        managed,
        daemonsets,
        unknown_addons,
        plugins,
        efa_plugins,
        efa_pods,
        templates,
        pools,
        fits,
    )
