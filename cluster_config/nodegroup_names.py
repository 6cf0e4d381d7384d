"""The names EKS gives this project's node groups and their Auto Scaling groups, known at synth.

A node group is named ``<configured name>-<digest of its replacement-only properties>`` (see
``constructs_lib.managed_node_group``); EKS names its ASG ``eks-<nodegroup name>-<nodegroup
UUID>`` (EKS user guide, "Managed node groups": the ASG created for a group; the UUID is the
group's ID, 8-4-4-4-12 lower-case hex).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from cluster_config.model import ClusterConfig

# AL2 AMIs ended in 2025 (no AL2 for Kubernetes 1.33+); the NVIDIA AMI has driver and toolkit.
SYSTEM_AMI_TYPE = "AL2023_x86_64_STANDARD"
GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


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
) -> str:
    """``<name_prefix>-<6 hex>``: the digest changes exactly when EKS must replace the group."""
    digest = fingerprint(list(instance_types), capacity_type, ami_type, list(availability_zones))[
        :6
    ]
    return f"{name_prefix}-{digest}"


def nodegroup_names(config: ClusterConfig) -> dict[str, str]:
    """Configured group name -> the node group's name in EKS, system group first."""
    system = config.system_node_group
    names = {
        system.name: physical_nodegroup_name(
            system.name,
            instance_types=system.instance_types,
            capacity_type=system.capacity_type,
            ami_type=SYSTEM_AMI_TYPE,
            availability_zones=config.availability_zones,
        )
    }
    for group in config.gpu_node_groups:
        names[group.name] = physical_nodegroup_name(
            group.name,
            instance_types=group.instance_types,
            capacity_type=group.capacity_type,
            ami_type=GPU_AMI_TYPE,
            availability_zones=[group.availability_zone],
        )
    return names


def asg_name_pattern(nodegroup_name: str) -> str:
    """A regex that matches the ASG EKS creates for ``nodegroup_name`` and no other group's.

    Anchored at both ends and ending in the UUID's fixed shape, so group ``gpu-abc123`` does not
    match the ASG of ``gpu-abc123-x-def456`` (the autoscaler searches, it does not anchor:
    ``expander/priority/priority.go`` ``groupIDMatchesList`` uses ``FindStringIndex``).
    """
    if not re.fullmatch(r"[a-z0-9-]+", nodegroup_name):
        raise ValueError(f"node group name {nodegroup_name!r}: expected [a-z0-9-] only")
    return f"^eks-{nodegroup_name}-{_UUID}$"
