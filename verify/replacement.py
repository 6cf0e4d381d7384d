"""Replacement safety: what a deploy of the new templates would replace, against a baseline.

A resource is replaced when its logical ID or type changes, when a property that its
CloudFormation resource schema lists as ``createOnlyProperties`` changes, or when such a property
refers (``Ref``, ``Fn::GetAtt``, or ``Fn::ImportValue`` of an export that does) to a resource
that is replaced: its physical ID changes, so the property does too. The schemas come with
cfn-lint, so no rule is written here by hand. What a node group's change does to running pods is
``verify/disruption.py``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

from verify.report import CheckResult

NODEGROUP = "AWS::EKS::Nodegroup"

PROTECTED = {
    "AWS::EKS::Cluster": "deletes the cluster and every workload on it",
    "AWS::EC2::VPC": "rebuilds the network under the running cluster",
    "AWS::EC2::Subnet": "moves nodes and load balancers to new subnets",  # removal: a warning
    "AWS::KMS::Key": "loses the key that encrypts the cluster's secrets",
}
"""Replacing or removing these is refused: verify fails."""

REMOVED = {
    "AWS::EKS::Addon": "EKS deletes the add-on and its pods",
    "Custom::AWSCDK-EKS-KubernetesResource": (
        "the kubectl provider deletes its Kubernetes objects (and their pods) from the cluster"
    ),
}
"""What removing one of these does, beyond CloudFormation deleting it."""


@dataclass(frozen=True)
class Change:
    stack: str
    logical_id: str
    resource_type: str
    what: str
    cause: tuple[str, str] | None = None
    """(stack, logical ID) of the replaced resource this one is replaced with, if any."""
    changed: tuple[str, ...] = ()
    """The create-only properties that changed (for a cascade, those that refer to ``cause``)."""

    def describe(self) -> str:
        return f"{self.stack}/{self.logical_id} ({self.resource_type}) {self.what}"

    @property
    def removed(self) -> bool:
        return self.what == "is removed"


Templates = dict[str, dict[str, Any]]


def compare(old: Templates, new: Templates, region: str) -> tuple[list[str], list[Change]]:
    """(stacks no longer produced, resources replaced or removed) going from ``old`` to ``new``."""
    missing_stacks = sorted(set(old) - set(new))
    changes: dict[tuple[str, str], Change] = {}
    for stack in sorted(set(old) & set(new)):
        old_resources = old[stack].get("Resources", {})
        new_resources = new[stack].get("Resources", {})
        for logical_id, before in sorted(old_resources.items()):
            after = new_resources.get(logical_id)
            resource_type = before["Type"]
            if after is None:
                change = Change(stack, logical_id, resource_type, "is removed")
            elif after["Type"] != resource_type:
                change = Change(stack, logical_id, resource_type, f"becomes a {after['Type']}")
            else:
                changed = _changed_create_only(
                    resource_type, before.get("Properties", {}), after.get("Properties", {}), region
                )
                if not changed:
                    continue
                change = Change(
                    stack,
                    logical_id,
                    resource_type,
                    f"is replaced: {', '.join(changed)} changed",
                    changed=tuple(changed),
                )
            changes[(stack, logical_id)] = change
    _add_cascade(old, new, region, changes)
    return missing_stacks, [changes[key] for key in sorted(changes)]


def _add_cascade(
    old: Templates, new: Templates, region: str, changes: dict[tuple[str, str], Change]
) -> None:
    """Resources whose create-only properties refer to a replaced resource, until none is left."""
    exports = _exports(new)
    grew = True
    while grew:
        grew = False
        for stack in sorted(set(old) & set(new)):
            for logical_id, after in sorted(new[stack].get("Resources", {}).items()):
                before = old[stack].get("Resources", {}).get(logical_id)
                if (stack, logical_id) in changes or before is None:
                    continue
                if before["Type"] != after["Type"]:
                    continue
                properties = after.get("Properties", {})
                causes = {
                    pointer: target
                    for pointer in _create_only_properties(after["Type"], region)
                    for target in _references(_at(properties, pointer), stack, exports)
                    if target in changes and not changes[target].removed
                }
                if causes:
                    cause = next(iter(causes.values()))
                    changes[(stack, logical_id)] = Change(
                        stack,
                        logical_id,
                        after["Type"],
                        f"is replaced with {cause[1]}: {', '.join(causes)} refer(s) to it",
                        cause=cause,
                        changed=tuple(causes),
                    )
                    grew = True


def _exports(templates: Templates) -> dict[str, tuple[str, Any]]:
    """Export name -> (stack, exported value) over every template."""
    return {
        output["Export"]["Name"]: (stack, output.get("Value"))
        for stack, template in templates.items()
        for output in template.get("Outputs", {}).values()
        if isinstance(output.get("Export", {}).get("Name"), str)
    }


def _references(
    value: Any, stack: str, exports: dict[str, tuple[str, Any]]
) -> Iterator[tuple[str, str]]:
    """(stack, logical ID) of every resource ``value`` refers to, through exports too."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item, stack, exports)
    elif isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            yield (stack, value["Ref"])
        elif isinstance(value.get("Fn::GetAtt"), list) and value["Fn::GetAtt"]:
            yield (stack, value["Fn::GetAtt"][0])
        elif isinstance(value.get("Fn::ImportValue"), str) and value["Fn::ImportValue"] in exports:
            exporter, exported = exports[value["Fn::ImportValue"]]
            yield from _references(exported, exporter, exports)
        else:
            for item in value.values():
                yield from _references(item, stack, exports)


def resolve_subnet_zones(value: Any, stack: str, templates: Templates) -> tuple[str, ...] | None:
    """The ``AvailabilityZone`` of each subnet a ``SubnetIds``-like list refers to, or None if
    one cannot be followed to a subnet with a literal zone."""
    if not isinstance(value, list):
        return None
    zones = []
    exports = _exports(templates)
    for item in value:
        targets = list(_references(item, stack, exports))
        if len(targets) != 1:
            return None
        target_stack, logical_id = targets[0]
        resource = templates.get(target_stack, {}).get("Resources", {}).get(logical_id, {})
        zone = resource.get("Properties", {}).get("AvailabilityZone")
        if resource.get("Type") != "AWS::EC2::Subnet" or not isinstance(zone, str):
            return None
        zones.append(zone)
    return tuple(zones)


def check_replacement(
    old: Templates,
    new: Templates,
    region: str,
    environments: tuple[dict[str, str], dict[str, str]] | None = None,
) -> CheckResult:
    """FAIL for refused changes (see ``PROTECTED``, stacks no longer produced, a new region or
    account); WARN listing other replaced or removed resources. Node groups are left to the
    ``disruption`` check, except where a replaced resource takes them with it."""
    missing_stacks, changes = compare(old, new, region)
    refused = [
        f"stack {name} is no longer produced (was the cluster renamed?): deploying creates a new "
        "cluster with new stacks beside the old one, which keeps running (and billing) until its "
        f"stacks are deleted (cdk destroy with the old config)"
        for name in missing_stacks
    ]
    refused += _environment_changes(old, new, environments)
    refused += _exports_in_use(old, new, changes)
    taken: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        root = change
        while root.cause is not None:
            root = next(c for c in changes if (c.stack, c.logical_id) == root.cause)
        if root is not change:
            taken.setdefault((root.stack, root.logical_id), []).append(change)
    warned = []
    for change in changes:
        if change.cause is not None:
            continue
        line = f"{change.describe()}: {_effect(change)}" + _takes_with_it(
            taken.get((change.stack, change.logical_id), [])
        )
        if change.resource_type in PROTECTED and not (
            change.removed and change.resource_type == "AWS::EC2::Subnet"
        ):
            refused.append(line)
        elif change.resource_type != NODEGROUP or (change.stack, change.logical_id) in taken:
            warned.append(line)
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
            "replacement",
            "WARN",
            f"{len(warned)} resource(s) replaced or removed (node groups: see disruption)",
            warned,
        )
    return CheckResult(
        "replacement",
        "PASS",
        f"{compared} baseline resources compared: none replaced or removed (node groups: see "
        "disruption)",
    )


def _exports_in_use(old: Templates, new: Templates, changes: list[Change]) -> list[str]:
    """Exports the deployed stacks import that the new templates drop or change.

    CloudFormation refuses to delete or modify an output another stack imports
    (CloudFormation User Guide, ``Fn::ImportValue``); ``cdk deploy --all`` updates the exporting
    stack first, so that update fails and rolls back.
    """
    replaced = {(c.stack, c.logical_id) for c in changes}
    old_exports, new_exports = _exports(old), _exports(new)
    imported = {
        name: stack
        for stack, template in old.items()
        for name in _imports(template)
        if name in old_exports and old_exports[name][0] != stack
    }
    lines = []
    for name, importer in sorted(imported.items()):
        exporter = old_exports[name][0]
        if name not in new_exports:
            what = "no longer exports"
        elif any(t in replaced for t in _references(new_exports[name][1], exporter, {})):
            what = "changes the value of"
        else:
            continue
        subnet = "Subnet" in name and what == "no longer exports"
        fix = (
            "remove the zone from every node group first (gpu_pools[].availability_zones, "
            "control_plane_availability_zones) and deploy, then remove it from availability_zones"
            if subnet
            else f"first deploy {importer} without it, then {exporter}"
        )
        lines.append(
            f"stack {exporter} {what} {name}, which the deployed {importer} imports: "
            f"CloudFormation refuses to change or delete an export in use, so the update fails "
            f"and rolls back; {fix}"
        )
    return lines


def _imports(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _imports(item)
    elif isinstance(value, dict):
        if isinstance(value.get("Fn::ImportValue"), str):
            yield value["Fn::ImportValue"]
        for item in value.values():
            yield from _imports(item)


def _effect(change: Change) -> str:
    if change.removed and change.resource_type == "AWS::EC2::Subnet":
        return (
            "CloudFormation deletes it, which fails while anything (a node, a load balancer, "
            "a pod's network interface) is still in it"
        )
    if change.resource_type in PROTECTED:
        return PROTECTED[change.resource_type]
    if change.removed:
        extra = REMOVED.get(change.resource_type)
        return "CloudFormation deletes it" + (f": {extra}" if extra else "")
    return "CloudFormation creates the new one, then deletes the old one"


def _takes_with_it(taken: list[Change]) -> str:
    if not taken:
        return ""
    names = ", ".join(f"{c.logical_id} ({c.resource_type})" for c in taken)
    return f"; and replaces {len(taken)} resource(s) that refer to it: {names}"


def _environment_changes(
    old: Templates, new: Templates, environments: tuple[dict[str, str], dict[str, str]] | None
) -> list[str]:
    """A stack that now deploys to another region or account is a second copy of it there."""
    if environments is None:
        return []
    old_envs, new_envs = environments
    lines = []
    for stack in sorted(set(old) & set(new)):
        before, after = _account_region(old_envs.get(stack)), _account_region(new_envs.get(stack))
        if before is None or after is None:
            continue
        for what, was, now in (("region", before[1], after[1]), ("account", before[0], after[0])):
            if was != now and None not in (was, now):
                lines.append(
                    f"stack {stack} moves from {what} {was} to {now}: CloudFormation stacks do not "
                    f"move; deploying creates a second copy (a second cluster) in {now}, and the "
                    f"one in {was} keeps running (and billing) until you destroy it there"
                )
    return lines


def _account_region(environment: str | None) -> tuple[str | None, str | None] | None:
    """``aws://123456789012/us-west-2`` -> (account, region); unknown parts are None."""
    if not environment or not environment.startswith("aws://"):
        return None
    account, _, region = environment.removeprefix("aws://").partition("/")
    unknown = ("unknown-account", "unknown-region")
    return (None if account in unknown else account, None if region in unknown else region)


def _changed_create_only(
    resource_type: str, before: dict[str, Any], after: dict[str, Any], region: str
) -> list[str]:
    return [
        pointer
        for pointer in _create_only_properties(resource_type, region)
        if _at(before, pointer) != _at(after, pointer)
    ]


def create_only_properties(resource_type: str, region: str) -> tuple[str, ...]:
    """The top-level create-only properties of ``resource_type`` per cfn-lint's schema."""
    return tuple(
        dict.fromkeys(p.split(".")[0] for p in _create_only_properties(resource_type, region))
    )


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
