"""The names of this project's node groups and of the Auto Scaling groups EKS makes for them.

A pool's groups are named ``<pool>-<zone letter>`` (spot, or the pool's own capacity type) and
``<pool>-od-<zone letter>`` (its on-demand fallback); ``group_name`` is the one definition, used
by the config rules (collisions) and the node-group specs. The construct ID follows the name
(``gpu-spot-ng-a`` -> ``GpuSpotNgA``), never a list position.

In EKS a node group is named ``<group name>-<digest of its replacement-only properties>`` (see
``constructs_lib.managed_node_group``); EKS names its ASG ``eks-<nodegroup name>-<nodegroup
UUID>`` (EKS user guide, "Managed node groups": the ASG created for a group; the UUID is the
group's ID, 8-4-4-4-12 lower-case hex).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

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


def physical_nodegroup_name(
    name_prefix: str,
    *,
    instance_types: Sequence[str],
    capacity_type: str,
    ami_type: str,
    availability_zones: Sequence[str],
    launch_template: str | None = None,
) -> str:
    """``<name_prefix>-<6 hex>``: the digest changes exactly when EKS must replace the group.

    ``launch_template`` (the construct ID of a pool's own template; ``None`` for the shared
    ones, so their groups keep their names) counts too: EKS cannot move a group to another
    launch template ("After node group creation, you cannot use a different ID", EKS API
    Reference, ``LaunchTemplateSpecification``).
    """
    parts: list[object] = [
        list(instance_types),
        capacity_type,
        ami_type,
        list(availability_zones),
    ]
    if launch_template is not None:
        parts.append(launch_template)
    digest = fingerprint(*parts)[:6]
    return f"{name_prefix}-{digest}"


def asg_name_pattern(nodegroup_name: str) -> str:
    """A regex that matches the ASG EKS creates for ``nodegroup_name`` and no other group's.

    Anchored at both ends and ending in the UUID's fixed shape, so group ``gpu-abc123`` does not
    match the ASG of ``gpu-abc123-x-def456`` (the autoscaler searches, it does not anchor:
    ``expander/priority/priority.go`` ``groupIDMatchesList`` uses ``FindStringIndex``).
    """
    if not re.fullmatch(r"[a-z0-9-]+", nodegroup_name):
        raise ValueError(f"node group name {nodegroup_name!r}: expected [a-z0-9-] only")
    return f"^eks-{nodegroup_name}-{_UUID}$"
