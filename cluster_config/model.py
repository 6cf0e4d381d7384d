"""The config model: one frozen, validated description of a GPU spot cluster.

Defaults are not here: they live in ``cdk.json`` (context ``cluster``) so there is one place to
read them; a user file given with ``-c config=PATH`` overrides any field (see ``loader``).
Field rules are checked by pydantic; rules across fields by ``_check_cross_field_rules``, which
reports every broken rule at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Annotated, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cluster_config import aws_limits, ebs, nodeadm
from cluster_config.catalog import (
    GENERAL_INSTANCE_TYPES,
    GPU_INSTANCE_TYPES,
    InstanceShape,
    why_not_accepted,
)
from cluster_config.gpu_sharing import sharing_problems
from cluster_config.labels import RESERVED_GPU_LABELS, SYSTEM_POOL
from cluster_config.nodegroup_names import group_name
from cluster_config.versions import KUBERNETES_RELEASES
from cluster_config.zone_offerings import zone_id_problem

# EKS allows [0-9A-Za-z][A-Za-z0-9-_]*; CloudFormation stack names (derived from it) allow no "_".
ClusterName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,99}$")]
# Lower-case words joined by single hyphens, so each maps to a distinct PascalCase construct ID.
# At most 56: node group names are "<name>-<6-character digest>" and EKS allows 63 (EKS API
# Reference, CreateNodegroup nodegroupName; aws_limits.NODEGROUP_NAME).
_WORDS = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
GroupName = Annotated[str, StringConstraints(pattern=_WORDS, max_length=56)]
# A pool's longest group name is "<pool>-od-<zone letter>" (5 more): at most 56 like the others.
PoolName = Annotated[str, StringConstraints(pattern=_WORDS, max_length=51)]
MAX_GPU_NODE_GROUPS = 20
"""Project bound on the node groups all pools generate together (EKS's default quota is 30
managed node groups per cluster; each GPU group is also one autoscaler template to simulate)."""


def _limit(check: Callable[[str], str | None]) -> AfterValidator:
    """A pydantic check from an ``aws_limits`` rule: its problem becomes the field's error."""

    def validate(value: str) -> str:
        problem = check(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(validate)


Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$"),
    _limit(aws_limits.region_problem),
]
AccountId = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
AvailabilityZone = Annotated[
    str, StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+[a-f]$")
]
PrincipalArn = Annotated[
    str, StringConstraints(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
]
TagKey = Annotated[str, _limit(aws_limits.tag_key_problem)]
TagValue = Annotated[str, _limit(aws_limits.tag_value_problem)]
LabelKey = Annotated[str, _limit(aws_limits.label_key_problem)]
LabelValue = Annotated[str, _limit(aws_limits.label_value_problem)]


def _cidr_text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be a CIDR string such as '10.0.0.0/16'")
    return value


Cidr = Annotated[IPv4Network, BeforeValidator(_cidr_text)]
"""An IPv4 CIDR given as text (pydantic alone would also take an integer or a boolean)."""

NodeCount = Annotated[int, Field(strict=True, ge=0, le=450)]
Flag = Annotated[bool, Field(strict=True)]
InstanceTypes = Annotated[
    tuple[Annotated[str, StringConstraints(max_length=32)], ...], Field(min_length=1, max_length=20)
]


RULE_VIOLATIONS = "rule_violations"


def _rule_violations(problems: list[str]) -> PydanticCustomError:
    """A model rule's problems, one line each as ``<path inside the model>: <message>``."""
    return PydanticCustomError(RULE_VIOLATIONS, "\n".join(problems))


def _supported_kubernetes_version(minor: str) -> str:
    if minor not in KUBERNETES_RELEASES:
        raise ValueError(f"{minor!r} is not supported; allowed: {', '.join(KUBERNETES_RELEASES)}")
    return minor


# CloudWatch Logs PutRetentionPolicy, retentionInDays: the only values it accepts.
LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096),
    *(1827, 2192, 2557, 2922, 3288, 3653),
)


def _log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise PydanticCustomError(
            "log_retention",
            "{days} is not a CloudWatch Logs retention; allowed: {allowed}",
            {"days": days, "allowed": ", ".join(map(str, LOG_RETENTION_DAYS))},
        )
    return days


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EndpointConfig(_Frozen):
    """Who can reach the Kubernetes API endpoint."""

    public_access_cidrs: tuple[Cidr, ...]
    """CIDRs allowed to reach the public endpoint; empty means no public endpoint."""
    private_access: Flag
    """Whether nodes and the VPC reach the API through the private endpoint."""

    @model_validator(mode="after")
    def _reachable(self) -> EndpointConfig:
        open_to_all = any(c.prefixlen == 0 for c in self.public_access_cidrs)
        if self.public_access_cidrs and not open_to_all and not self.private_access:
            raise _rule_violations(
                [
                    "private_access: false while public_access_cidrs is restricted: the kubectl "
                    "provider that applies the add-ons runs in Lambda with no fixed address and "
                    "could not reach the API; set private_access: true"
                ]
            )
        if not self.public_access_cidrs and not self.private_access:
            raise _rule_violations(
                [
                    "public_access_cidrs: empty while private_access is false, so nothing could "
                    "reach "
                    "the API; allow a public CIDR or set private_access: true"
                ]
            )
        return self


class _NodeGroupConfig(_Frozen):
    name: GroupName
    instance_types: InstanceTypes
    """Spot diversity: several types, all of one shape (vCPUs, memory, GPUs)."""
    min_size: NodeCount
    max_size: Annotated[int, Field(strict=True, ge=1, le=450)]

    _catalog: ClassVar[dict[str, InstanceShape]]
    _kind: ClassVar[str]

    @model_validator(mode="after")
    def _check_group(self) -> Self:
        problems = _size_and_shape_problems(self, self._catalog, self._kind)
        if problems:
            raise _rule_violations(problems)
        return self


class SystemNodeGroupConfig(_NodeGroupConfig):
    """The always-on spot group for kube-system and ordinary workloads, spread over all AZs."""

    _catalog = GENERAL_INSTANCE_TYPES
    _kind = "non-GPU"

    capacity_type: Literal["SPOT", "ON_DEMAND"]
    root_volume_gib: Annotated[int, Field(strict=True, ge=20, le=16384)]


class GpuSharingConfig(_Frozen):
    """How the NVIDIA device plugin shares each GPU of a node (``api/config/v1`` ``Sharing``).

    Only time-slicing of ``nvidia.com/gpu`` under its own name is supported (see
    ``cluster_config.gpu_sharing``); each GPU is advertised ``replicas`` times.
    """

    strategy: str = "time-slicing"
    replicas: Annotated[int, Field(strict=True)]
    rename_by_default: Flag = False
    fail_requests_greater_than_one: Flag = True
    """Upstream's recommended setting: a container asking for more than one replica fails."""

    @model_validator(mode="after")
    def _supported(self) -> Self:
        problems = sharing_problems(self)
        if problems:
            raise _rule_violations(problems)
        return self


class AutoscalerConfig(_Frozen):
    """Cluster-autoscaler timings and thresholds (docs/capacity-strategy.md)."""

    scale_down_unneeded_minutes: Annotated[int, Field(strict=True, ge=1, le=1440)]
    scale_down_delay_after_add_minutes: Annotated[int, Field(strict=True, ge=0, le=1440)]
    max_node_provision_minutes: Annotated[int, Field(strict=True, ge=5, le=60)]
    scale_down_utilization_threshold: Annotated[float, Field(gt=0, le=1)]
    scale_down_gpu_utilization_threshold: Annotated[float, Field(gt=0, le=1)]
    scan_interval_seconds: Annotated[int, Field(strict=True, ge=1, le=60)]
    """``--scan-interval``: how often the autoscaler looks for pending pods (upstream 10 s)."""
    new_pod_scale_up_delay_seconds: Annotated[int, Field(strict=True, ge=0, le=600)]
    """``--new-pod-scale-up-delay``: pods younger than this are not scaled up for (upstream 0)."""


class OnDemandFallbackConfig(_Frozen):
    """On-demand groups of the pool's shape, one per pool zone, named ``<pool>-od-<zone letter>``.

    They carry the pool's labels (a pod that selects the pool may land on them), and the
    priority expander tries them only when none of the pool's spot groups can scale up.
    """

    min_size: NodeCount = 0
    """Per zone group; 0: no on-demand node runs until spot capacity runs out."""
    max_size: Annotated[int, Field(strict=True, ge=1, le=450)]
    """Per zone group."""

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if self.min_size > self.max_size:
            raise _rule_violations(
                [
                    f"min_size: {self.min_size} is greater than max_size {self.max_size}; "
                    "allowed: min_size <= max_size"
                ]
            )
        return self


Gp3Iops = Annotated[int, Field(strict=True, ge=ebs.GP3_BASELINE_IOPS, le=ebs.GP3_MAX_IOPS)]


class RootVolumeConfig(_Frozen):
    """A GPU pool's encrypted gp3 root volume (``cluster_config/ebs.py`` holds EBS's limits)."""

    size_gib: Annotated[int, Field(strict=True, ge=20, le=16384)] | None = None
    """Unset: ``gpu_root_volume_gib``."""
    throughput_mibps: (
        Annotated[
            int,
            Field(
                strict=True, ge=ebs.GP3_BASELINE_THROUGHPUT_MIBPS, le=ebs.GP3_MAX_THROUGHPUT_MIBPS
            ),
        ]
        | None
    ) = None
    """Unset: gp3's baseline 125 MiB/s, or with ``fast_image_pull`` the 600 MiB/s nodeadm
    recommends."""
    iops: Gp3Iops | None = None
    """Unset: gp3's baseline 3000."""


class GpuPoolConfig(_NodeGroupConfig):
    """One GPU shape spread over zones: one single-AZ group per zone, ``<pool>-<zone letter>``,
    balanced with each other by the autoscaler (and with no other pool's groups)."""

    _catalog = GPU_INSTANCE_TYPES
    _kind = "GPU"

    name: PoolName
    """Also the ``pool`` label value of the pool's nodes."""
    availability_zones: (
        Annotated[tuple[AvailabilityZone, ...], Field(min_length=1, max_length=6)] | None
    ) = None
    """Unset: every zone of the cluster."""
    min_size: NodeCount
    """Per zone group."""
    max_size: Annotated[int, Field(strict=True, ge=1, le=450)]
    """Per zone group."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Extra Kubernetes labels for the pool's nodes (also written as autoscaler node-template
    tags)."""
    capacity_type: Literal["SPOT", "ON_DEMAND"] = "SPOT"
    gpu_sharing: GpuSharingConfig | None = None
    """Time-slicing of every GPU of the pool's nodes; unset, each pod gets whole GPUs."""
    on_demand_fallback: OnDemandFallbackConfig | None = None
    """Only for a SPOT pool: on-demand groups tried when no spot group of the pool can scale."""
    root_volume: RootVolumeConfig | None = None
    """Size, throughput and IOPS of the pool's root volume; set, the pool gets a launch template
    of its own (docs/redeploy.md)."""
    fast_image_pull: Flag = False
    """nodeadm's experimental ``FastImagePull`` (SOCI parallel pull and unpack); the pool gets a
    launch template of its own, and a root volume of at least 600 MiB/s unless one is set."""

    warm_nodes: NodeCount = 0
    """Nodes of the pool kept ready for the next GPU pod (a CapacityBuffer, or pause pods where
    the cluster's autoscaler has no CapacityBuffer API); each is billed like a running node."""

    image_size_gb: Annotated[int, Field(strict=True, ge=1, le=1000)] | None = None
    """The size of the pool's typical image, for verify's cold-start budget only (unset: 15 GB,
    the low end of the deep-learning images AWS's SOCI post measures)."""

    @property
    def own_launch_template(self) -> bool:
        """Whether the pool has launch settings of its own (else it shares the GPU template)."""
        return self.root_volume is not None or self.fast_image_pull

    @model_validator(mode="after")
    def _check_pool(self) -> Self:
        problems = _fast_image_pull_problems(self)
        reserved = sorted(k for k in self.labels if k in RESERVED_GPU_LABELS)
        if reserved:
            problems.append(f"labels: {reserved} are set by this project; choose other keys")
        if self.name == SYSTEM_POOL:
            problems.append(
                f"name: {SYSTEM_POOL!r} is the system group's pool label value; choose another"
            )
        if self.on_demand_fallback is not None and self.capacity_type == "ON_DEMAND":
            problems.append(
                "on_demand_fallback: the pool is already ON_DEMAND; a fallback is for a SPOT "
                "pool (remove it, or set capacity_type: SPOT)"
            )
        if self.availability_zones is not None and len(set(self.availability_zones)) != len(
            self.availability_zones
        ):
            problems.append(
                f"availability_zones: {list(self.availability_zones)} lists a zone twice"
            )
        if problems:
            raise _rule_violations(problems)
        return self


class ObservabilityConfig(_Frozen):
    """Opt-in telemetry that AWS bills for (docs/using-gpus.md, "GPU utilization")."""

    gpu_metrics: Flag
    """The ``amazon-cloudwatch-observability`` EKS add-on: Container Insights, with NVIDIA GPU
    metrics through DCGM; container logs stay off."""


def _fast_image_pull_problems(pool: GpuPoolConfig) -> list[str]:
    """A fast-pull pool: enough root-volume throughput, and types nodeadm enables it on."""
    if not pool.fast_image_pull:
        return []
    problems = []
    throughput = pool.root_volume.throughput_mibps if pool.root_volume else None
    if throughput is not None and throughput < nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS:
        problems.append(
            f"root_volume.throughput_mibps: {throughput} is below the "
            f"{nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS} MiB/s fast_image_pull needs "
            "(nodeadm's guidance: slower disks make a parallel pull slower than a normal one); "
            f"allowed: {nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS}-"
            f"{ebs.GP3_MAX_THROUGHPUT_MIBPS}, or unset it (then "
            f"{nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS})"
        )
    for j, name in enumerate(pool.instance_types):
        shape = GPU_INSTANCE_TYPES.get(name)
        why = shape and nodeadm.fast_image_pull_ignored(shape.vcpus, shape.memory_mib)
        if why:
            problems.append(
                f"instance_types.{j}: {name!r} is below nodeadm's fast-pull threshold ({why}), "
                "so fast_image_pull would be ignored; use a larger type or remove fast_image_pull"
            )
    return problems


def _at_least_one_pool(pools: tuple[GpuPoolConfig, ...]) -> tuple[GpuPoolConfig, ...]:
    if not pools:
        raise ValueError(
            "a cluster needs at least one GPU pool (name, instance_types, min_size, max_size); "
            "see README, Configuration"
        )
    return pools


class ClusterConfig(_Frozen):
    cluster_name: ClusterName
    kubernetes_version: Annotated[
        str, StringConstraints(max_length=16), AfterValidator(_supported_kubernetes_version)
    ]
    region: Region
    account: AccountId | None = None
    """Optional: without it the stacks deploy to the account of the caller's credentials."""
    availability_zones: Annotated[tuple[AvailabilityZone, ...], Field(min_length=2, max_length=6)]
    availability_zone_ids: tuple[Annotated[str, StringConstraints(max_length=32)], ...] | None = (
        None
    )
    """Optional: the zone ID of each of ``availability_zones`` in the deploying account, same
    order; the ``zones`` check then knows exactly which zones a group lands in."""
    control_plane_availability_zones: (
        Annotated[tuple[AvailabilityZone, ...], Field(min_length=2, max_length=6)] | None
    ) = None
    """Zones of the control plane's subnets; unset: every zone of ``availability_zones``. EKS
    keeps a cluster in the zones it was created with (EKS User Guide, "View Amazon EKS
    networking requirements for VPC and subnets"), so set it to those before adding a zone."""
    vpc_cidr: Cidr
    nat_gateways: Annotated[int, Field(strict=True, ge=1, le=6)]
    endpoint: EndpointConfig
    admin_principal_arns: Annotated[tuple[PrincipalArn, ...], Field(max_length=100)]
    control_plane_log_retention_days: Annotated[
        int, Field(strict=True), AfterValidator(_log_retention)
    ]
    """Retention of the control-plane log group ``/aws/eks/<cluster>/cluster``."""
    control_plane_log_retain_on_delete: Flag
    """Keep the control-plane log group (the audit trail) and its KMS key when the stack is
    deleted, so deleting the stack does not erase the record of what was done in the cluster."""
    key_deletion_principal_arns: Annotated[tuple[PrincipalArn, ...], Field(max_length=20)]
    """The only principals that may disable or schedule the deletion of the cluster's KMS keys
    (secrets, audit log); empty, nobody can without first changing the key policy."""
    termination_protection: Flag
    """CloudFormation termination protection on the cluster stack."""
    tags: dict[TagKey, TagValue]
    system_node_group: SystemNodeGroupConfig
    gpu_pools: Annotated[
        tuple[GpuPoolConfig, ...], Field(max_length=20), AfterValidator(_at_least_one_pool)
    ]
    """GPU shapes, each spread over its zones (README, "Using GPUs")."""
    gpu_root_volume_gib: Annotated[int, Field(strict=True, ge=20, le=16384)]
    gpu_smoke_test: Flag
    """Deploy the GPU smoke-test Job with the cluster (it is always exported as YAML)."""
    node_ami_release_version: (
        Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+-\d{8}$")] | None
    ) = None
    """Optional: pins the EKS AMI release; unset, new groups get the latest and keep it."""
    autoscaler: AutoscalerConfig
    node_auto_repair: Flag
    """EKS node auto repair on every node group."""
    node_monitoring_agent: Flag
    """The ``eks-node-monitoring-agent`` EKS add-on (reports GPU and other node faults)."""
    ebs_csi_driver: Flag
    """The ``aws-ebs-csi-driver`` EKS add-on and the default encrypted gp3 StorageClass."""
    metrics_server: Flag
    """The ``metrics-server`` EKS add-on (``kubectl top``, HorizontalPodAutoscaler)."""
    observability: ObservabilityConfig

    @property
    def control_plane_zones(self) -> tuple[str, ...]:
        """The control plane's zones: ``control_plane_availability_zones``, else every zone."""
        return self.control_plane_availability_zones or self.availability_zones

    @model_validator(mode="after")
    def _check_cross_field_rules(self) -> ClusterConfig:
        problems = [
            *_network_problems(self),
            *_group_problems(self),
            *_aws_limit_problems(self),
            *_root_volume_problems(self),
            *_warm_capacity_problems(self),
        ]
        if problems:
            raise _rule_violations(problems)
        return self


def _network_problems(config: ClusterConfig) -> list[str]:
    problems = []
    for i, zone in enumerate(config.availability_zones):
        if not re.fullmatch(re.escape(config.region) + "[a-z]", zone):
            problems.append(
                f"availability_zones.{i}: {zone!r} is not in region {config.region!r}; "
                f"allowed: {', '.join(config.region + z for z in 'abcdef')} (those your "
                "account has)"
            )
    if len(set(config.availability_zones)) != len(config.availability_zones):
        problems.append(f"availability_zones: {list(config.availability_zones)} lists a zone twice")
    problems.extend(_zone_id_problems(config))
    problems.extend(_control_plane_zone_problems(config))
    if config.nat_gateways > len(config.availability_zones):
        problems.append(
            f"nat_gateways: {config.nat_gateways} is more than the "
            f"{len(config.availability_zones)} "
            "availability zones; allowed: 1 to the number of zones"
        )
    if not 16 <= config.vpc_cidr.prefixlen <= 20:
        problems.append(
            f"vpc_cidr: '{config.vpc_cidr}' has prefix /{config.vpc_cidr.prefixlen}; "
            "allowed: /16 to /20"
        )
    return problems


def _control_plane_zone_problems(config: ClusterConfig) -> list[str]:
    zones = config.control_plane_availability_zones
    if zones is None:
        return []
    problems = [
        f"control_plane_availability_zones.{i}: {zone!r} is not one of availability_zones "
        f"{list(config.availability_zones)}; the control plane's subnets are among the VPC's"
        for i, zone in enumerate(zones)
        if zone not in config.availability_zones
    ]
    if len(set(zones)) != len(zones):
        problems.append(f"control_plane_availability_zones: {list(zones)} lists a zone twice")
    return problems


def _zone_id_problems(config: ClusterConfig) -> list[str]:
    ids = config.availability_zone_ids
    if ids is None:
        return []
    problems = [
        f"availability_zone_ids.{i}: {problem}"
        for i, zone_id in enumerate(ids)
        if (problem := zone_id_problem(zone_id, config.region))
    ]
    if len(ids) != len(config.availability_zones):
        problems.append(
            f"availability_zone_ids: {len(ids)} IDs for {len(config.availability_zones)} "
            "availability_zones; allowed: one per zone, in the same order (aws ec2 "
            f"describe-availability-zones --region {config.region} shows your account's IDs)"
        )
    if len(set(ids)) != len(ids):
        problems.append(f"availability_zone_ids: {list(ids)} lists a zone ID twice")
    return problems


def _group_problems(config: ClusterConfig) -> list[str]:
    """Pool zones within the cluster's; unique pool names; no two generated groups alike."""
    problems = []
    pool_names: dict[str, str] = {}
    groups = {config.system_node_group.name: "system_node_group"}
    total = 0
    for i, pool in enumerate(config.gpu_pools):
        where = f"gpu_pools.{i}"
        if pool.name in pool_names:
            problems.append(
                f"{where}.name: {pool.name!r} is already used by {pool_names[pool.name]}"
            )
            continue
        pool_names[pool.name] = f"{where}.name"
        # Each zone once: a zone listed twice is reported on its own.
        zones = dict.fromkeys(pool.availability_zones or config.availability_zones)
        for j, zone in enumerate(pool.availability_zones or ()):
            if zone not in config.availability_zones:
                problems.append(
                    f"{where}.availability_zones.{j}: {zone!r} is not one of the cluster's "
                    f"availability_zones {list(config.availability_zones)}"
                )
        for fallback in (False, True) if pool.on_demand_fallback else (False,):
            source = f"{where}.on_demand_fallback" if fallback else where
            for zone in zones:
                name = group_name(pool.name, zone, fallback=fallback)
                total += 1
                if name in groups:
                    problems.append(
                        f"{where}.name: {pool.name!r} makes group {name!r} ({source}, {zone}), "
                        f"which is also the name of {groups[name]}; choose another pool name"
                    )
                groups.setdefault(name, f"{source}'s group in {zone}")
    if total > MAX_GPU_NODE_GROUPS:
        problems.append(
            f"gpu_pools: the pools make {total} GPU node groups (one per pool zone, twice with "
            f"on_demand_fallback); allowed: at most {MAX_GPU_NODE_GROUPS}"
        )
    return problems


def _aws_limit_problems(config: ClusterConfig) -> list[str]:
    """Limits AWS and EKS enforce across fields (see ``aws_limits`` for each source)."""
    problems = []
    if config.node_ami_release_version is not None:
        problem = aws_limits.release_version_problem(
            config.node_ami_release_version, config.kubernetes_version
        )
        if problem:
            problems.append(
                f"node_ami_release_version: {config.node_ami_release_version!r} {problem}"
            )
    partition = aws_limits.REGION_PARTITIONS[config.region]
    for field in ("admin_principal_arns", "key_deletion_principal_arns"):
        for i, arn in enumerate(getattr(config, field)):
            if aws_limits.arn_partition(arn) != partition:
                problems.append(
                    f"{field}.{i}: {arn!r} is in partition "
                    f"{aws_limits.arn_partition(arn)}, but region {config.region} is in "
                    f"{partition}; allowed: arn:{partition}:iam::..."
                )
    if len(set(config.key_deletion_principal_arns)) != len(config.key_deletion_principal_arns):
        problems.append(
            f"key_deletion_principal_arns: {list(config.key_deletion_principal_arns)} lists a "
            "principal twice"
        )
    return problems


def _root_volume_problems(config: ClusterConfig) -> list[str]:
    """EBS gp3 limits on each pool's root volume (size, throughput and IOPS together)."""
    problems: list[str] = []
    for i, pool in enumerate(config.gpu_pools):
        volume = pool.root_volume
        if volume is None:
            continue
        size = volume.size_gib or config.gpu_root_volume_gib
        throughput = volume.throughput_mibps
        if throughput is None and pool.fast_image_pull:
            throughput = nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS
        broken = ebs.gp3_problems(size, throughput, volume.iops)
        problems.extend(f"gpu_pools.{i}.root_volume.{p}" for p in broken)
    return problems


def _warm_capacity_problems(config: ClusterConfig) -> list[str]:
    """Warm nodes within the pool's groups; pause pods that the device plugin would admit."""
    problems = []
    buffers = KUBERNETES_RELEASES[config.kubernetes_version].capacity_buffer_api is not None
    for i, pool in enumerate(config.gpu_pools):
        if not pool.warm_nodes:
            continue
        zones = len(pool.availability_zones or config.availability_zones)
        if pool.warm_nodes > pool.max_size * zones:
            problems.append(
                f"gpu_pools.{i}.warm_nodes: {pool.warm_nodes} is more than the pool's "
                f"{pool.max_size * zones} nodes (max_size {pool.max_size} x {zones} zones); "
                "allowed: 0 to that"
            )
        sharing = pool.gpu_sharing
        if not buffers and sharing and sharing.fail_requests_greater_than_one:
            problems.append(
                f"gpu_pools.{i}.warm_nodes: on Kubernetes {config.kubernetes_version} warm "
                "nodes are held by pause pods asking for every GPU replica of a node, which "
                "gpu_sharing.fail_requests_greater_than_one refuses; use Kubernetes 1.34+ "
                "(CapacityBuffer) or set it to false"
            )
    return problems


def _size_and_shape_problems(
    group: _NodeGroupConfig, allowed: dict[str, InstanceShape], kind: str
) -> list[str]:
    """Problems within one group; each line starts with the field path inside the group."""
    problems = []
    if group.min_size > group.max_size:
        problems.append(
            f"min_size: {group.min_size} is greater than max_size {group.max_size}; "
            "allowed: min_size <= max_size"
        )
    for j, name in enumerate(group.instance_types):
        if name not in allowed:
            problems.append(
                f"instance_types.{j}: {name!r} is not a supported {kind} instance type: "
                + why_not_accepted(name, gpu=kind == "GPU")
            )
    if len(set(group.instance_types)) != len(group.instance_types):
        problems.append(f"instance_types: {list(group.instance_types)} lists a type twice")
    shapes = {name: allowed[name] for name in group.instance_types if name in allowed}
    if len({(s.vcpus, s.memory_mib) for s in shapes.values()}) > 1:
        described = ", ".join(
            f"{n}={s.vcpus} vCPU/{_memory_text(s.memory_mib)}" for n, s in shapes.items()
        )
        problems.append(
            f"instance_types: types differ in shape ({described}); the cluster autoscaler "
            "sizes a group by its first type, so all types in a group must have the same "
            "vCPUs and memory"
        )
    if len({(s.gpus, s.gpu_memory_gb) for s in shapes.values()}) > 1:
        described = ", ".join(f"{n}={s.gpus}x{s.gpu_memory_gb} GB" for n, s in shapes.items())
        problems.append(
            "instance_types: types differ in GPU count or GPU memory; the autoscaler's template "
            "node and the GPU memory label describe one GPU shape per group, so put each in its "
            f"own group (got: {described})"
        )
    return problems


def _memory_text(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"
