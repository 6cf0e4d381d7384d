"""What the attached manifests and the EKS add-ons run that the autoscaler's decisions depend on.

The autoscaler's own Deployment (its pod and command line), the DaemonSets of the cluster's EKS
add-ons (from their published manifests), and how a device plugin's DaemonSet is recognised: by
the image its containers run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster_config.images import repository_of
from verify.autoscaler_model import AutoscalerFlags, DaemonSet, parse_flags

DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin"
"""Upstream's image repository, how verify recognises the plugin in any DaemonSet (its own copy,
not the chart's: verify reads the synthesized output, not the code that wrote it)."""

EFA_PLUGIN_REPOSITORY = "/eks/aws-efa-k8s-device-plugin"
"""The EFA plugin's image, in any region's EKS registry (charts/efa_device_plugin.py)."""

ADDON_DAEMONSETS = Path(__file__).parents[1] / "data" / "eks-addon-daemonsets.json"
"""The DaemonSets of each EKS add-on, from its published manifest (source and version inside)."""


def addon_daemonsets(cluster: Mapping[str, Any]) -> tuple[list[DaemonSet], list[str]]:
    """The DaemonSets of the cluster's EKS add-ons (``AWS::EKS::Addon``) from their published
    manifests, and a problem for each add-on the data file does not describe: its pods would be
    missing from every template node."""
    known = json.loads(ADDON_DAEMONSETS.read_text(encoding="utf-8"))["addons"]
    names = sorted(
        r["Properties"]["AddonName"]
        for r in cluster["Resources"].values()
        if r["Type"] == "AWS::EKS::Addon"
    )
    daemonsets: list[DaemonSet] = []
    problems: list[str] = []
    for name in names:
        if name not in known:
            problems.append(
                f"EKS add-on {name}: verify does not know its DaemonSets; add them from its "
                f"published manifest to verify/data/{ADDON_DAEMONSETS.name}"
            )
            continue
        daemonsets += [
            DaemonSet(d["name"], d["namespace"], d["spec"]) for d in known[name]["daemonsets"]
        ]
    return daemonsets, problems


@dataclass(frozen=True)
class AutoscalerDeployment:
    """The autoscaler's Deployment as attached to the cluster (``manifest`` None when it is not),
    its pod spec and its command line."""

    manifest: Mapping[str, Any] | None
    pod: Mapping[str, Any] | None
    args: tuple[str, ...]
    flags: AutoscalerFlags

    @property
    def release(self) -> str:
        image = self.pod["containers"][0]["image"] if self.pod else ""
        return image.rpartition(":")[2] if ":" in image else "(not deployed)"


def read_deployment(objects: Sequence[Mapping[str, Any]]) -> AutoscalerDeployment:
    deployment = _find(objects, "Deployment", "cluster-autoscaler")
    if deployment is None:
        return AutoscalerDeployment(None, None, (), parse_flags([]))
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = (*container.get("command", []), *container.get("args", []))
    return AutoscalerDeployment(deployment, pod, args, parse_flags(list(args)))


def _find(objects: Sequence[Mapping[str, Any]], kind: str, name: str) -> Mapping[str, Any] | None:
    return next(
        (o for o in objects if o["kind"] == kind and o["metadata"].get("name") == name), None
    )


def runs_image(obj: Mapping[str, Any], image: str) -> bool:
    """Whether a container runs ``image`` (from its registry, or from a mirror of it)."""
    containers = obj["spec"]["template"]["spec"]["containers"]
    repositories = [repository_of(c.get("image", "")) for c in containers]
    return any(r == image or r.endswith(f"/{image}") for r in repositories)


def runs_repository(obj: Mapping[str, Any], repository: str) -> bool:
    """A container image ``<any registry><repository>:<tag>``."""
    containers = obj["spec"]["template"]["spec"]["containers"]
    return any(f"{repository}:" in c.get("image", "") for c in containers)
