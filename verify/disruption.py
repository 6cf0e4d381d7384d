"""What a deploy against a baseline does to running pods, and the changes EKS refuses.

EKS's rules, each from its documentation (EKS User Guide, read 2026-12):

- "Delete a managed node group": EKS sets the group's Auto Scaling group to 0 and drains each
  node; a node not drained after 5 minutes is terminated anyway, so pods a PodDisruptionBudget
  protects are killed. A replaced group is a new group (starting at ``min_size``) plus the
  deletion of the old one (CloudFormation creates the replacement first, deletes the old one
  in its clean-up phase).
- "Understand each phase of node updates": a new launch template version, AMI release or
  Kubernetes version replaces every node of the group; each is drained as PodDisruptionBudgets
  allow, and an eviction still blocked after 15 minutes fails the update (PodEvictionFailure)
  unless ``force`` is set (this project sets ``ForceUpdateEnabled: false``): CloudFormation then
  rolls the stack back.
- "Update existing cluster to new Kubernetes version": no downgrade, one minor at a time.
- "View Amazon EKS networking requirements for VPC and subnets": subnets added to a cluster must
  be in the Availability Zones given at creation (aws/containers-roadmap#2330).
- CloudFormation replaces a resource with a custom name only if the name changes too
  (``AWS::EKS::Nodegroup`` ``NodegroupName``), else the update fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verify.replacement import NODEGROUP, Change, Templates, compare, resolve_subnet_zones
from verify.report import CheckResult

CLUSTER = "AWS::EKS::Cluster"
LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"

DRAIN = (
    "EKS drains its nodes and terminates any still running after 5 minutes, "
    "PodDisruptionBudgets or not"
)
ROLL = (
    "each node is drained as PodDisruptionBudgets allow; an eviction blocked for 15 minutes "
    "fails the update (PodEvictionFailure) and the stack rolls back"
)
ALLOW_FLAG = "--allow-disruption"


@dataclass
class Verdict:
    refused: list[str] = field(default_factory=list)
    """Changes EKS or CloudFormation refuse: the deploy fails and rolls back."""
    disruptive: list[str] = field(default_factory=list)
    """One line per node group whose running pods the deploy evicts, with the cause."""
    compared: int = 0


def disruption_verdict(old: Templates, new: Templates, region: str) -> Verdict:
    verdict = Verdict()
    _, changes = compare(old, new, region)
    by_id = {(c.stack, c.logical_id): c for c in changes}
    for stack in sorted(set(old) & set(new)):
        old_resources = old[stack].get("Resources", {})
        new_resources = new[stack].get("Resources", {})
        for logical_id, before in sorted(old_resources.items()):
            after = new_resources.get(logical_id)
            if before["Type"] == CLUSTER and after is not None:
                verdict.refused += _cluster_refusals(
                    before["Properties"], after["Properties"], stack, old, new
                )
            if before["Type"] != NODEGROUP:
                continue
            verdict.compared += 1
            change = by_id.get((stack, logical_id))
            if change is not None:
                _replaced_or_removed(verdict, change, before, after)
            elif after is not None:
                causes = _roll_causes(before, after, old_resources, new_resources)
                if causes:
                    verdict.disruptive.append(
                        f"{_name(before)} rolls every node ({'; '.join(causes)}): {ROLL}"
                    )
    return verdict


def check_disruption(
    old: Templates, new: Templates, region: str, *, allow_disruption: bool
) -> CheckResult:
    """FAIL on a refused change whatever the flag; FAIL on evicting changes unless allowed."""
    verdict = disruption_verdict(old, new, region)
    details = verdict.refused + verdict.disruptive
    if verdict.refused:
        return CheckResult(
            "disruption",
            "FAIL",
            f"{len(verdict.refused)} change(s) EKS or CloudFormation refuse (the deploy would "
            f"fail and roll back; {ALLOW_FLAG} does not change that)",
            details,
        )
    groups = len(verdict.disruptive)
    if groups and not allow_disruption:
        return CheckResult(
            "disruption",
            "FAIL",
            f"{groups} node group(s) would evict running pods; deploy when they may go, and "
            f"pass {ALLOW_FLAG} to accept it",
            details,
        )
    if groups:
        return CheckResult(
            "disruption",
            "WARN",
            f"{groups} node group(s) would evict running pods (accepted: {ALLOW_FLAG})",
            details,
        )
    return CheckResult(
        "disruption",
        "PASS",
        f"{verdict.compared} baseline node groups: none deleted, replaced or rolled",
    )


def _replaced_or_removed(
    verdict: Verdict, change: Change, before: dict[str, Any], after: dict[str, Any] | None
) -> None:
    name = _name(before)
    if change.removed or after is None:
        verdict.disruptive.append(f"{name} is deleted: {DRAIN}")
        return
    new_name = after.get("Properties", {}).get("NodegroupName")
    causes = [c for c in change.changed if c != "NodegroupName"]
    if causes and new_name == before.get("Properties", {}).get("NodegroupName"):
        verdict.refused.append(
            f"{name} would be replaced ({', '.join(causes)} changed) under the same name: "
            "CloudFormation cannot create a resource with a custom name that is still taken, "
            "so the update fails (the name must change with every create-only property)"
        )
        return
    minimum = after.get("Properties", {}).get("ScalingConfig", {}).get("MinSize")
    why = ", ".join(causes or change.changed)
    verdict.disruptive.append(
        f"{name} is replaced by {new_name} ({why} changed): the new group starts at min_size "
        f"{minimum}, then the old group is deleted: {DRAIN}"
    )


def _roll_causes(
    before: dict[str, Any],
    after: dict[str, Any],
    old_resources: dict[str, Any],
    new_resources: dict[str, Any],
) -> list[str]:
    old_props, new_props = before.get("Properties", {}), after.get("Properties", {})
    causes = []
    if old_props.get("Version") != new_props.get("Version"):
        causes.append(f"Kubernetes {old_props.get('Version')} -> {new_props.get('Version')}")
    release = new_props.get("ReleaseVersion")
    if release is not None and release != old_props.get("ReleaseVersion"):
        causes.append(f"AMI release {old_props.get('ReleaseVersion') or 'latest'} -> {release}")
    old_template = _launch_template(old_props, old_resources)
    new_template = _launch_template(new_props, new_resources)
    if old_template != new_template:
        causes.append("new launch template version")
    return causes


def _launch_template(properties: dict[str, Any], resources: dict[str, Any]) -> Any:
    """The launch template as it decides a group's nodes: its reference and version, and the
    data of the template it refers to (``LatestVersionNumber`` changes with the data)."""
    spec = properties.get("LaunchTemplate")
    if not isinstance(spec, dict):
        return spec
    template_id = spec.get("Id")
    data = None
    if isinstance(template_id, dict) and isinstance(template_id.get("Ref"), str):
        template = resources.get(template_id["Ref"], {})
        if template.get("Type") == LAUNCH_TEMPLATE:
            data = template.get("Properties", {}).get("LaunchTemplateData")
    return (spec, data)


def _cluster_refusals(
    before: dict[str, Any], after: dict[str, Any], stack: str, old: Templates, new: Templates
) -> list[str]:
    refused = []
    was, now = before.get("Version"), after.get("Version")
    old_minor, new_minor = _minor(was), _minor(now)
    if old_minor is not None and new_minor is not None:
        if new_minor < old_minor:
            refused.append(
                f"Kubernetes {was} -> {now}: EKS cannot downgrade a cluster; keep "
                f'kubernetes_version: "{was}" (a lower minor needs a new cluster)'
            )
        elif new_minor[0] == old_minor[0] and new_minor[1] > old_minor[1] + 1:
            step = f"{old_minor[0]}.{old_minor[1] + 1}"
            refused.append(
                f"Kubernetes {was} -> {now}: EKS upgrades one minor at a time; deploy "
                f'kubernetes_version: "{step}" first, then the next'
            )
    old_zones = _subnet_zones(before, stack, old)
    new_zones = _subnet_zones(after, stack, new)
    if old_zones is not None and new_zones is not None and set(old_zones) != set(new_zones):
        keep = ", ".join(sorted(set(old_zones)))
        refused.append(
            f"the control plane's zones change ({', '.join(sorted(set(old_zones)))} -> "
            f"{', '.join(sorted(set(new_zones)))}): EKS moves a cluster's subnets only within "
            "the Availability Zones it was created with, so the update fails; keep "
            f"control_plane_availability_zones: [{keep}] (node groups may still use other zones)"
        )
    return refused


def _subnet_zones(
    cluster: dict[str, Any], stack: str, templates: Templates
) -> tuple[str, ...] | None:
    subnets = cluster.get("ResourcesVpcConfig", {}).get("SubnetIds")
    return resolve_subnet_zones(subnets, stack, templates)


def _minor(version: Any) -> tuple[int, int] | None:
    if not isinstance(version, str):
        return None
    major, _, minor = version.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def _name(nodegroup: dict[str, Any]) -> str:
    name = nodegroup.get("Properties", {}).get("NodegroupName")
    return f"node group {name}" if isinstance(name, str) else "a node group"
