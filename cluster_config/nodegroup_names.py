"""The names of this project's node groups and of the Auto Scaling groups EKS makes for them.

A pool's groups are named ``<pool>-<zone letter>`` (spot, or the pool's own capacity type) and
``<pool>-od-<zone letter>`` (its on-demand fallback); ``group_name`` is the one definition, used
by the config rules (collisions) and the node-group specs. The construct ID follows the name
(``gpu-spot-ng-a`` -> ``GpuSpotNgA``), never a list position.

In EKS a node group is named ``<group name>-<digest of its create-only properties>``
(``physical_nodegroup_name``); EKS names its ASG ``eks-<nodegroup name>-<nodegroup
UUID>`` (EKS user guide, "Managed node groups": the ASG created for a group; the UUID is the
group's ID, 8-4-4-4-12 lower-case hex).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

# AL2 AMIs ended in 2025 (no AL2 for Kubernetes 1.33+); the NVIDIA AMI has driver and toolkit.
SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD"
GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"

ON_DEMAND_FALLBACK_INFIX = "od"
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def group_name(pool: str, zone: str, *, fallback: bool = False) -> str:
    """``gpu-spot-ng`` in ``us-west-2a`` -> ``gpu-spot-ng-a`` (fallback: ``gpu-spot-ng-od-a``)."""
    parts = [pool, ON_DEMAND_FALLBACK_INFIX] if fallback else [pool]
    return "-".join([*parts, zone[-1]])


def construct_id(name: str) -> str:
    """``gpu-spot-ng-a`` -> ``GpuSpotNgA``: distinct for distinct names of lower-case words."""
    return "".join(part.capitalize() for part in name.split("-"))


def fingerprint(*parts: object) -> str:
    """A stable 16-hex-character digest of JSON-serialisable ``parts``."""
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


NODE_ROLE_ID = "NodeRole"
"""Construct ID of the node role every group uses today (``stacks/cluster_stack.py``)."""

DIGESTED = ("InstanceTypes", "CapacityType", "AmiType", "Subnets")
"""Create-only properties digested since the first release, in this order: today's names."""
ADDED_DEFAULTS: dict[str, object] = {
    "NodeRole": NODE_ROLE_ID,
    "DiskSize": None,
    "RemoteAccess": None,
}
"""The other create-only properties and their values in every group named so far: a group whose
value differs gets a different digest; at these values they add nothing, so no deployed group is
renamed (renaming replaces it)."""
EKS_IMMUTABLE = ("LaunchTemplate",)
"""Not create-only in CloudFormation, yet EKS refuses to change it: a group's launch template
ID ("After node group creation, you cannot use a different ID", EKS API Reference,
``LaunchTemplateSpecification``). ``None`` for the shared templates, so their groups keep their
names; a pool's own template's construct ID otherwise."""
NOT_DIGESTED = {
    "NodegroupName": "the name itself",
    "ClusterName": "a new cluster name makes new stacks and a new cluster: the group is created "
    "there, where no group has its name",
}
"""Create-only properties the name need not follow, each with its reason."""


def physical_nodegroup_name(name_prefix: str, create_only: Mapping[str, object]) -> str:
    """``<name_prefix>-<6 hex>``: the digest changes whenever a create-only property of
    ``AWS::EKS::Nodegroup`` (``DIGESTED`` and ``ADDED_DEFAULTS``) changes, so CloudFormation can
    create the replacement beside the group it replaces; ``create_only`` maps each of them to
    what decides it (``Subnets``: the group's zones, whose private subnets it uses).
    ``tests/test_redeploy_safety.py`` holds this list against cfn-lint's schema."""
    expected = set(DIGESTED) | set(ADDED_DEFAULTS) | set(EKS_IMMUTABLE)
    if set(create_only) != expected:
        raise ValueError(
            f"node group {name_prefix}: create-only values for {sorted(create_only)}, "
            f"expected {sorted(expected)}"
        )
    parts: list[object] = [_jsonable(create_only[key]) for key in DIGESTED]
    parts += [create_only[key] for key in EKS_IMMUTABLE if create_only[key] is not None]
    added = {
        key: _jsonable(create_only[key])
        for key, default in ADDED_DEFAULTS.items()
        if create_only[key] != default
    }
    if added:
        parts.append(added)
    return f"{name_prefix}-{fingerprint(*parts)[:6]}"


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def asg_name_pattern(nodegroup_name: str) -> str:
    """A regex that matches the ASG EKS creates for ``nodegroup_name`` and no other group's.

    Anchored at both ends and ending in the UUID's fixed shape, so group ``gpu-abc123`` does not
    match the ASG of ``gpu-abc123-x-def456`` (the autoscaler searches, it does not anchor:
    ``expander/priority/priority.go`` ``groupIDMatchesList`` uses ``FindStringIndex``).
    """
    if not re.fullmatch(r"[a-z0-9-]+", nodegroup_name):
        raise ValueError(f"node group name {nodegroup_name!r}: expected [a-z0-9-] only")
    return f"^eks-{nodegroup_name}-{_UUID}$"
