"""A node-group spec as the props of its ``ManagedNodeGroup``: the one place the config's
view of a group meets the construct's.

Its own module so that mypy checks every argument here (``pyproject.toml``): the stacks'
modules are checked without ``arg-type``, which jsii's protocol stubs break.
"""

from __future__ import annotations

from cluster_config.node_groups import NodeGroupSpec
from constructs_lib.managed_node_group import ManagedNodeGroupProps, Taint


def node_group_props(spec: NodeGroupSpec) -> ManagedNodeGroupProps:
    """The props of ``spec``'s ``ManagedNodeGroup``: its own values, and its launch template's
    that the construct checks the template against."""
    return ManagedNodeGroupProps(
        physical_name=spec.physical_name,
        kubernetes_version=spec.kubernetes_version,
        instance_types=spec.instance_types,
        capacity_type=spec.capacity_type,
        ami_type=spec.ami_type,
        availability_zones=spec.availability_zones,
        min_size=spec.min_size,
        max_size=spec.max_size,
        labels=spec.labels,
        taints=tuple(Taint(key=t.key, value=t.value, effect=t.effect) for t in spec.taints),
        release_version=spec.release_version,
        node_auto_repair=spec.node_auto_repair,
        node_template_tags=spec.node_template_tags,
        node_template_resources=spec.node_template_resources,
        node_role_id=spec.node_role_id,
        disk_size=spec.disk_size,
        root_volume_gib=spec.launch.root_volume_gib,
        throughput_mibps=spec.launch.throughput_mibps,
        network_interfaces=spec.launch.network_interfaces,
    )
