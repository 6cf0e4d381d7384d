"""Replacement safety: what a deploy of the new templates would replace, against a baseline.

A resource is replaced when its logical ID or type changes, or when a property that its
CloudFormation resource schema lists as ``createOnlyProperties`` changes. The schemas come with
cfn-lint, so no rule is written here by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

from verify.report import CheckResult

PROTECTED = {
    "AWS::EKS::Cluster": "deletes the cluster and every workload on it",
    "AWS::EC2::VPC": "rebuilds the network under the running cluster",
    "AWS::EC2::Subnet": "moves nodes and load balancers to new subnets",
    "AWS::KMS::Key": "loses the key that encrypts the cluster's secrets",
}
"""Replacing or removing these is refused: verify fails."""

REPLACEABLE = {
    "AWS::EKS::Nodegroup": "a new group is created, then the old one is drained and deleted",
}
"""Replacing these is allowed and reported as a warning."""


@dataclass(frozen=True)
class Change:
    stack: str
    logical_id: str
    resource_type: str
    what: str

    def describe(self) -> str:
        return f"{self.stack}/{self.logical_id} ({self.resource_type}) {self.what}"


def compare(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], region: str
) -> tuple[list[str], list[Change]]:
    """(stacks no longer produced, resources replaced or removed) going from ``old`` to ``new``."""
    missing_stacks = sorted(set(old) - set(new))
    changes = []
    for stack in sorted(set(old) & set(new)):
        old_resources = old[stack].get("Resources", {})
        new_resources = new[stack].get("Resources", {})
        for logical_id, before in sorted(old_resources.items()):
            after = new_resources.get(logical_id)
            resource_type = before["Type"]
            if after is None:
                changes.append(Change(stack, logical_id, resource_type, "is removed"))
            elif after["Type"] != resource_type:
                changes.append(
                    Change(stack, logical_id, resource_type, f"becomes a {after['Type']}")
                )
            else:
                changed = _changed_create_only(
                    resource_type, before.get("Properties", {}), after.get("Properties", {}), region
                )
                if changed:
                    changes.append(
                        Change(
                            stack,
                            logical_id,
                            resource_type,
                            f"is replaced: {', '.join(changed)} changed",
                        )
                    )
    return missing_stacks, changes


def check_replacement(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], region: str
) -> CheckResult:
    missing_stacks, changes = compare(old, new, region)
    refused = [
        f"stack {name} is no longer produced (was the cluster renamed?): deploying creates a new "
        "cluster beside the old one, which keeps running until its stacks are deleted"
        for name in missing_stacks
    ]
    refused += [
        f"{c.describe()}: {PROTECTED[c.resource_type]}"
        for c in changes
        if c.resource_type in PROTECTED
    ]
    warned = [
        f"{c.describe()}: {REPLACEABLE.get(c.resource_type, 'recreated by CloudFormation')}"
        for c in changes
        if c.resource_type not in PROTECTED
    ]
    compared = sum(len(t.get("Resources", {})) for name, t in old.items() if name in new)
    if refused:
        return CheckResult(
            "replacement",
            "FAIL",
            f"{len(refused)} refused change(s) against the baseline",
            refused + warned,
        )
    if warned:
        return CheckResult(
            "replacement", "WARN", f"{len(warned)} resource(s) replaced or removed", warned
        )
    return CheckResult(
        "replacement", "PASS", f"{compared} baseline resources kept; none replaced or removed"
    )


def _changed_create_only(
    resource_type: str, before: dict[str, Any], after: dict[str, Any], region: str
) -> list[str]:
    return [
        pointer
        for pointer in _create_only_properties(resource_type, region)
        if _at(before, pointer) != _at(after, pointer)
    ]


@cache
def _create_only_properties(resource_type: str, region: str) -> tuple[str, ...]:
    if resource_type.startswith("Custom::") or "::" not in resource_type:
        return ()
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except Exception:  # unknown to cfn-lint's schemas: nothing to compare
        return ()
    return tuple(
        p.removeprefix("/properties/").replace("/", ".")
        for p in schema.get("createOnlyProperties", [])
    )


def _at(properties: dict[str, Any], dotted: str) -> Any:
    value: Any = properties
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
