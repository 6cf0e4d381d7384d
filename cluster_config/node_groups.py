"""What each node group of a config is: ``node_group_specs``, the one place that knows it.

A pure function of the validated config. Every consumer takes its result: the stack and its
constructs (names, zones, labels, taints, node-template tags), the charts' plain values (the
device plugin's instance types and time-slicing configs, the autoscaler's balancing labels and
priority ConfigMap), the tag budget and the cost preview. Nothing else reads
``config.gpu_pools``; verify reads the synthesized output instead, as an independent check.

A pool becomes one single-AZ group per zone, ``<pool>-<zone letter>`` (what the autoscaler's AWS
README recommends for balancing across zones), and with ``on_demand_fallback`` one on-demand
group per zone, ``<pool>-od-<zone letter>``. All of a pool's groups carry ``pool=<pool name>``:
the autoscaler balances groups whose ``pool`` (and, when a pool mixes capacity types,
``eks.amazonaws.com/capacityType``) are equal, so groups of one pool are balanced with each other
and never with another pool's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Literal

from aws_rules import ebs, nodeadm
from aws_rules.ec2_launch_template import NetworkInterface
from aws_rules.nodeadm import cpu_quantity, ephemeral_storage_quantity, memory_quantity
from cluster_config.catalog import GPU_INSTANCE_TYPES, accelerator_label, gpu_memory_gb
from cluster_config.efa import EFA_RESOURCE, efa_interface_count, efa_network_interfaces
from cluster_config.gpu_sharing import (
    GPU_RESOURCE,
    SHARING_CONFIG_LABEL,
    advertised_gpus,
    device_plugin_config,
    sharing_config_name,
)
from cluster_config.labels import (
    ACCELERATOR_LABEL,
    CAPACITY_TYPE_LABEL,
    GPU_MEMORY_LABEL,
    GPU_PRESENT_LABEL,
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_TEMPLATE_PREFIX,
    POOL_LABEL,
    SYSTEM_NODE_LABELS,
    SYSTEM_POOL,
)
from cluster_config.model import ClusterConfig, GpuPoolConfig, GpuSharingConfig
from cluster_config.nodegroup_names import (
    GPU_AMI_TYPE,
    NODE_ROLE_ID,
    SYSTEM_AMI_TYPE,
    construct_id,
    group_name,
    physical_nodegroup_name,
)
from cluster_config.priority_expander import (
    ON_DEMAND_PRIORITY,
    SPOT_PRIORITY,
    expander_flag,
    expander_priorities,
)
from cluster_config.warm_capacity import WarmPool

CapacityType = Literal["SPOT", "ON_DEMAND"]
TaintEffectName = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

SYSTEM_CONSTRUCT_ID = "SystemNodeGroup"
SYSTEM_LAUNCH_TEMPLATE_ID = "SystemLaunchTemplate"
SHARED_GPU_LAUNCH_TEMPLATE_ID = "GpuLaunchTemplate"
"""The template of every GPU pool without launch settings of its own (all pools before per-pool
templates existed: keeping it keeps their groups, as EKS cannot move a group to another
template)."""


@dataclass(frozen=True)
class LaunchSpec:
    """One launch template: what it gives the nodes of the groups that use it.

    ``construct_id`` follows the pool's name (``GpuSpotNgLaunchTemplate``) for a pool with its
    own settings, never a list position. More node settings (network interfaces, placement)
    belong here as fields with a default that leaves the template unchanged, so adding one
    changes no other pool's template.
    """

    construct_id: str
    root_volume_gib: int
    throughput_mibps: int | None = None
    """None: gp3's baseline (125 MiB/s), not written to the template."""
    iops: int | None = None
    """None: gp3's baseline (3000), not written to the template."""
    fast_image_pull: bool = False
    """Write nodeadm's ``FastImagePull`` feature gate into the user data."""
    network_interfaces: tuple[NetworkInterface, ...] = ()
    """An EFA group's interfaces (``cluster_config/efa.py``); empty: EKS's default single
    interface, and the groups' security group is the cluster security group EKS adds."""
    placement_group: str | None = None
    """Construct ID of the EFA group's cluster placement group (``TrainingAPlacementGroup``)."""
    efa_security_group: str | None = None
    """Construct ID of the pool's EFA security group (``TrainingEfaSecurityGroup``), attached to
    every interface beside the cluster security group."""

    @property
    def efa(self) -> bool:
        return bool(self.network_interfaces)

    @property
    def own(self) -> bool:
        """A pool's own template (not the shared GPU one, not the system group's)."""
        return self.construct_id not in (SYSTEM_LAUNCH_TEMPLATE_ID, SHARED_GPU_LAUNCH_TEMPLATE_ID)

    @property
    def effective_throughput_mibps(self) -> int:
        return self.throughput_mibps or ebs.GP3_BASELINE_THROUGHPUT_MIBPS


@dataclass(frozen=True)
class NodeTaint:
    key: str
    value: str
    effect: TaintEffectName


GPU_TAINT = NodeTaint(key=GPU_TAINT_KEY, value=GPU_TAINT_VALUE, effect=GPU_TAINT_EFFECT)


@dataclass(frozen=True)
class NodeGroupSpec:
    """One managed node group, everything the stack, the charts and the checks need of it."""

    construct_id: str
    """Stable: follows the group's name (``GpuSpotNgA``), never a list position."""
    name: str
    """``gpu-spot-ng-a``: the pool name and zone letter (the system group: its own name)."""
    source: str
    """Where in the config it comes from (``gpu_pools.0``, ``gpu_pools.0.on_demand_fallback``,
    ``system_node_group``), for messages."""
    pool: str
    """The ``pool`` label value: the pool's name, or ``system``."""
    gpu: bool
    fallback: bool
    """One of its pool's on-demand fallback groups (tried after the pool's spot groups)."""
    capacity_type: CapacityType
    instance_types: tuple[str, ...]
    ami_type: str
    availability_zones: tuple[str, ...]
    min_size: int
    max_size: int
    launch: LaunchSpec
    """The launch template the group uses (shared by a pool's groups)."""
    labels: Mapping[str, str]
    taints: tuple[NodeTaint, ...]
    node_template_resources: Mapping[str, str]
    """Resources the autoscaler cannot know from the instance type (empty: not scaled from
    zero; the group then gets no node-template tags)."""
    priority: int
    """The priority expander's priority: higher is tried first."""
    warm_nodes: int
    """The pool's ``warm_nodes`` (0 on the system group and on on-demand fallback groups)."""
    image_size_gb: int | None
    """The pool's ``image_size_gb`` (verify's cold-start budget only)."""
    sharing: GpuSharingConfig | None
    kubernetes_version: str
    release_version: str | None
    node_auto_repair: bool
    node_role_id: str = NODE_ROLE_ID
    """Construct ID of the node role the group runs on (the stack makes one role per ID)."""
    disk_size: int | None = None
    """``DiskSize``: unset, as the launch template gives the root volume (EKS allows only one)."""

    @property
    def create_only(self) -> dict[str, object]:
        """What decides each create-only property of the group's ``AWS::EKS::Nodegroup``."""
        return {
            "InstanceTypes": self.instance_types,
            "CapacityType": self.capacity_type,
            "AmiType": self.ami_type,
            "Subnets": self.availability_zones,
            "NodeRole": self.node_role_id,
            "DiskSize": self.disk_size,
            "RemoteAccess": None,
            "LaunchTemplate": self.launch.construct_id if self.launch.own else None,
        }

    @property
    def physical_name(self) -> str:
        """The node group's name in EKS: ``<name>-<digest of its create-only properties>``."""
        return physical_nodegroup_name(self.name, self.create_only)

    @property
    def root_volume_gib(self) -> int:
        return self.launch.root_volume_gib

    @property
    def node_template_tags(self) -> dict[str, str]:
        """The ASG tags that let the autoscaler build a node of this group while it has none:
        its labels, taints (``<value>:<Effect>``) and ``node_template_resources``."""
        if not self.node_template_resources:
            return {}
        return {
            **{f"{NODE_TEMPLATE_PREFIX}/label/{k}": v for k, v in sorted(self.labels.items())},
            **{
                f"{NODE_TEMPLATE_PREFIX}/taint/{t.key}": f"{t.value}:{t.effect}"
                for t in sorted(self.taints, key=lambda t: t.key)
            },
            **{
                f"{NODE_TEMPLATE_PREFIX}/resources/{k}": v
                for k, v in sorted(self.node_template_resources.items())
            },
        }


@dataclass(frozen=True)
class NodeGroupSpecs:
    """The system group and every GPU group, in config order (pool by pool, zone by zone, the
    on-demand fallback after the pool's spot groups)."""

    system: NodeGroupSpec
    gpu: tuple[NodeGroupSpec, ...]

    @property
    def all(self) -> tuple[NodeGroupSpec, ...]:
        return (self.system, *self.gpu)

    @property
    def pools(self) -> dict[str, tuple[NodeGroupSpec, ...]]:
        """Pool name -> its groups, in config order."""
        pools: dict[str, list[NodeGroupSpec]] = {}
        for spec in self.gpu:
            pools.setdefault(spec.pool, []).append(spec)
        return {name: tuple(groups) for name, groups in pools.items()}

    @property
    def launch_templates(self) -> tuple[LaunchSpec, ...]:
        """Every launch template the groups use, each once, in config order."""
        return tuple(dict.fromkeys(spec.launch for spec in self.all))

    @property
    def efa_pools(self) -> dict[str, tuple[NodeGroupSpec, ...]]:
        """Pool name -> its groups, for the pools with ``efa: true``."""
        return {name: groups for name, groups in self.pools.items() if groups[0].launch.efa}

    @property
    def efa_security_groups(self) -> tuple[str, ...]:
        """Construct IDs of the EFA pools' security groups, in config order."""
        return tuple(
            dict.fromkeys(
                s.launch.efa_security_group for s in self.gpu if s.launch.efa_security_group
            )
        )

    @property
    def warm_pools(self) -> tuple[WarmPool, ...]:
        """Each pool with ``warm_nodes``: the buffer pods the warm-capacity chart makes."""
        return tuple(
            WarmPool(
                pool=name,
                nodes=groups[0].warm_nodes,
                gpus_per_node=int(groups[0].node_template_resources[GPU_RESOURCE]),
            )
            for name, groups in self.pools.items()
            if groups[0].warm_nodes
        )

    @property
    def gpu_instance_types(self) -> tuple[str, ...]:
        """Every instance type of every GPU group, each once, in config order."""
        return tuple(dict.fromkeys(t for spec in self.gpu for t in spec.instance_types))

    @property
    def device_plugin_configs(self) -> dict[str, dict[str, Any]]:
        """Every time-slicing config a GPU group's nodes select, by name (empty: no sharing)."""
        configs = {
            sharing_config_name(s.sharing): device_plugin_config(s.sharing)
            for s in self.gpu
            if s.sharing is not None
        }
        return dict(sorted(configs.items()))

    @property
    def expander_priorities(self) -> dict[int, list[str]]:
        """The priority ConfigMap's content (empty when every group has one priority)."""
        return expander_priorities({s.physical_name: s.priority for s in self.all})

    @property
    def expander_flag(self) -> str:
        return expander_flag(self.expander_priorities)

    @property
    def balancing_labels(self) -> tuple[str, ...]:
        """``--balancing-label`` values: groups are balanced iff all these labels are equal
        (``processors/nodegroupset/label_nodegroups.go``). ``pool`` always; the capacity type
        too when a pool has both (its on-demand fallback must not share every spot scale-up).
        Within a pool everything else is equal by construction."""
        mixed = any(len({s.capacity_type for s in p}) > 1 for p in self.pools.values())
        return (POOL_LABEL, CAPACITY_TYPE_LABEL) if mixed else (POOL_LABEL,)


def node_group_specs(config: ClusterConfig) -> NodeGroupSpecs:
    """The node groups of ``config``: the system group, then each pool's groups."""
    return NodeGroupSpecs(
        system=_system_spec(config),
        gpu=tuple(
            spec
            for index, pool in enumerate(config.gpu_pools)
            for spec in _pool_specs(config, index, pool)
        ),
    )


def _system_spec(config: ClusterConfig) -> NodeGroupSpec:
    system = config.system_node_group
    return _spec(
        config,
        construct_id=SYSTEM_CONSTRUCT_ID,
        name=system.name,
        source="system_node_group",
        pool=SYSTEM_POOL,
        gpu=False,
        capacity_type=system.capacity_type,
        instance_types=system.instance_types,
        ami_type=SYSTEM_AMI_TYPE,
        # With the control plane: a zone added for GPU pools leaves the group as it is.
        availability_zones=config.control_plane_zones,
        min_size=system.min_size,
        max_size=system.max_size,
        launch=LaunchSpec(SYSTEM_LAUNCH_TEMPLATE_ID, root_volume_gib=system.root_volume_gib),
        labels=SYSTEM_NODE_LABELS,
        taints=(),
        node_template_resources={},
        # The system group never competes with GPU groups (GPU pods need the taint's
        # toleration and a GPU); it has a priority so that the expander still uses it.
        priority=SPOT_PRIORITY,
        sharing=None,
        warm_nodes=0,
        image_size_gb=None,
    )


def pool_launch_spec(config: ClusterConfig, pool: GpuPoolConfig) -> LaunchSpec:
    """The launch template of ``pool``'s groups: the shared GPU template unless the pool has
    launch settings of its own; with ``fast_image_pull`` and no throughput set, the throughput
    nodeadm recommends. (An EFA pool's groups each get a copy: ``efa_launch_spec``.)"""
    volume = pool.root_volume
    size = (volume.size_gib if volume else None) or config.gpu_root_volume_gib
    if not pool.own_launch_template:
        return LaunchSpec(SHARED_GPU_LAUNCH_TEMPLATE_ID, root_volume_gib=size)
    throughput = volume.throughput_mibps if volume else None
    if throughput is None and pool.fast_image_pull:
        throughput = nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS
    return LaunchSpec(
        f"{construct_id(pool.name)}LaunchTemplate",
        root_volume_gib=size,
        throughput_mibps=throughput,
        iops=volume.iops if volume else None,
        fast_image_pull=pool.fast_image_pull,
    )


def efa_launch_spec(pool_launch: LaunchSpec, pool: GpuPoolConfig, group: str) -> LaunchSpec:
    """The pool's template for one of its EFA groups: a template per group, because each zone
    group has its own cluster placement group (one zone each, EC2 user guide, "Placement
    strategies"), with every EFA interface of the pool's type and the pool's EFA security
    group."""
    return replace(
        pool_launch,
        construct_id=f"{construct_id(group)}LaunchTemplate",
        network_interfaces=efa_network_interfaces(GPU_INSTANCE_TYPES[pool.instance_types[0]]),
        placement_group=f"{construct_id(group)}PlacementGroup",
        efa_security_group=f"{construct_id(pool.name)}EfaSecurityGroup",
    )


def _pool_specs(config: ClusterConfig, index: int, pool: GpuPoolConfig) -> list[NodeGroupSpec]:
    shape = GPU_INSTANCE_TYPES[pool.instance_types[0]]
    launch = pool_launch_spec(config, pool)
    labels = {
        POOL_LABEL: pool.name,
        ACCELERATOR_LABEL: accelerator_label(pool.instance_types),
        GPU_PRESENT_LABEL: "true",
        GPU_MEMORY_LABEL: str(gpu_memory_gb(pool.instance_types)),
        **(
            {SHARING_CONFIG_LABEL: sharing_config_name(pool.gpu_sharing)}
            if pool.gpu_sharing
            else {}
        ),
        **pool.labels,
    }
    resources = {
        # Physical GPUs x time-slicing replicas: what the device plugin will advertise.
        GPU_RESOURCE: str(advertised_gpus(shape.gpus, pool.gpu_sharing)),
        # What the kubelet will offer, not the raw disk (aws_rules/nodeadm.py).
        "ephemeral-storage": ephemeral_storage_quantity(launch.root_volume_gib),
        # Nor the instance's CPUs and memory: less nodeadm's reservations, so a pod that scales
        # a group up from zero also fits the node that joins.
        "cpu": cpu_quantity(shape.vcpus),
        "memory": memory_quantity(shape.memory_mib, tuple(pool.instance_types)),
        # What the EFA device plugin will advertise: one per EFA interface of the template.
        **({EFA_RESOURCE: str(efa_interface_count(shape))} if pool.efa else {}),
    }
    sets: list[tuple[bool, CapacityType, int, int]] = [
        (False, pool.capacity_type, pool.min_size, pool.max_size)
    ]
    if pool.on_demand_fallback is not None:
        fallback = pool.on_demand_fallback
        sets.append((True, "ON_DEMAND", fallback.min_size, fallback.max_size))
    specs = []
    for is_fallback, capacity_type, min_size, max_size in sets:
        for zone in pool.availability_zones or config.availability_zones:
            name = group_name(pool.name, zone, fallback=is_fallback)
            specs.append(
                _spec(
                    config,
                    construct_id=construct_id(name),
                    name=name,
                    source=f"gpu_pools.{index}" + (".on_demand_fallback" if is_fallback else ""),
                    pool=pool.name,
                    gpu=True,
                    fallback=is_fallback,
                    capacity_type=capacity_type,
                    instance_types=pool.instance_types,
                    ami_type=GPU_AMI_TYPE,
                    availability_zones=(zone,),
                    min_size=min_size,
                    max_size=max_size,
                    launch=efa_launch_spec(launch, pool, name) if pool.efa else launch,
                    labels=labels,
                    taints=(GPU_TAINT,),
                    node_template_resources=resources,
                    priority=SPOT_PRIORITY if capacity_type == "SPOT" else ON_DEMAND_PRIORITY,
                    sharing=pool.gpu_sharing,
                    warm_nodes=0 if is_fallback else pool.warm_nodes,
                    image_size_gb=pool.image_size_gb,
                )
            )
    return specs


def _spec(
    config: ClusterConfig,
    *,
    construct_id: str,
    name: str,
    source: str,
    pool: str,
    gpu: bool,
    fallback: bool = False,
    capacity_type: CapacityType,
    instance_types: tuple[str, ...],
    ami_type: str,
    availability_zones: tuple[str, ...],
    min_size: int,
    max_size: int,
    launch: LaunchSpec,
    labels: Mapping[str, str],
    taints: tuple[NodeTaint, ...],
    node_template_resources: Mapping[str, str],
    priority: int,
    sharing: GpuSharingConfig | None,
    warm_nodes: int,
    image_size_gb: int | None,
) -> NodeGroupSpec:
    """A spec, with what every group takes from the cluster (version, AMI release, repair)."""
    return NodeGroupSpec(
        construct_id=construct_id,
        name=name,
        source=source,
        pool=pool,
        gpu=gpu,
        fallback=fallback,
        capacity_type=capacity_type,
        instance_types=instance_types,
        ami_type=ami_type,
        availability_zones=availability_zones,
        min_size=min_size,
        max_size=max_size,
        launch=launch,
        labels=MappingProxyType(dict(labels)),
        taints=taints,
        node_template_resources=MappingProxyType(dict(node_template_resources)),
        priority=priority,
        sharing=sharing,
        warm_nodes=warm_nodes,
        image_size_gb=image_size_gb,
        kubernetes_version=config.kubernetes_version,
        release_version=config.node_ami_release_version,
        node_auto_repair=config.node_auto_repair,
    )
