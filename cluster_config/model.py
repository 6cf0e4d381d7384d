"""The config model: one frozen, validated description of a GPU spot cluster.

Defaults are in ``cdk.json`` (context ``cluster``) for the fields a user sets, and here for the
optional fields inside a pool; a user file given with ``-c config=PATH`` overrides any field
(see ``loader``). This module holds each field's own rules (type, format, bounds, one value's
limits), each with a stable code; rules across fields live in ``cluster_config.rules``. Use
``cluster_config.loader.validate_config``, which runs both: ``ClusterConfig.model_validate``
alone checks fields only.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from aws_rules import ebs
from cluster_config import aws_limits
from cluster_config.catalog import GENERAL_INSTANCE_TYPES, GPU_INSTANCE_TYPES, why_not_accepted
from cluster_config.gpu_sharing import MAX_REPLICAS, MIN_REPLICAS, rename_problem, strategy_problem
from cluster_config.images import registry_mirror_problem
from cluster_config.versions import KUBERNETES_RELEASES

T = TypeVar("T")


def field_rule(code: str, check: Callable[[T], str | None]) -> AfterValidator:
    """A field's own rule: ``check`` says why a value is refused (or None); its message becomes
    the field's problem under ``code``."""

    def validate(value: T) -> T:
        problem = check(value)
        if problem is not None:
            raise PydanticCustomError(code, "{problem}", {"problem": problem})
        return value

    return AfterValidator(validate)


# EKS allows [0-9A-Za-z][A-Za-z0-9-_]*; CloudFormation stack names (derived from it) allow no "_".
ClusterName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,99}$")]
# Lower-case words joined by single hyphens, so each maps to a distinct PascalCase construct ID.
# At most 56: node group names are "<name>-<6-character digest>" and EKS allows 63 (EKS API
# Reference, CreateNodegroup nodegroupName; aws_rules/eks.py NODEGROUP_NAME).
_WORDS = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
GroupName = Annotated[str, StringConstraints(pattern=_WORDS, max_length=56)]
# A pool's longest group name is "<pool>-od-<zone letter>" (5 more): at most 56 like the others.
PoolName = Annotated[str, StringConstraints(pattern=_WORDS, max_length=51)]

# Patterns spell out [0-9]: pydantic's regex engine (Rust) reads \d as any Unicode digit, and
# AWS means ASCII digits in account IDs, zone names and ARNs.
Region = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$"),
    field_rule("UnknownRegion", aws_limits.region_problem),
]
AccountId = Annotated[str, StringConstraints(pattern=r"^[0-9]{12}$")]
AvailabilityZone = Annotated[
    str, StringConstraints(pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+[a-f]$")
]
ZoneId = Annotated[str, StringConstraints(pattern=r"^[a-z]+[0-9]+-az[0-9]+$", max_length=32)]
# IAM names: "alphanumeric characters plus +=,.@-_" (IAM User Guide, "IAM identifiers"), ASCII.
PrincipalArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]+$",
        max_length=2048,
    ),
]
TagKey = Annotated[str, field_rule("TagKey", aws_limits.tag_key_problem)]
TagValue = Annotated[str, field_rule("TagValue", aws_limits.tag_value_problem)]
LabelKey = Annotated[str, field_rule("LabelKey", aws_limits.label_key_problem)]
LabelValue = Annotated[str, field_rule("LabelValue", aws_limits.label_value_problem)]


def _cidr_text(value: object) -> object:
    if not isinstance(value, str):
        raise PydanticCustomError(
            "WrongType", "must be a CIDR such as '10.0.0.0/16' (got: {got})", {"got": value}
        )
    return value


Cidr = Annotated[IPv4Network, BeforeValidator(_cidr_text)]
"""An IPv4 CIDR given as text (pydantic alone would also take an integer or a boolean)."""


def _vpc_cidr_size(cidr: IPv4Network) -> str | None:
    if 16 <= cidr.prefixlen <= 20:
        return None
    return (
        f"'{cidr}' has prefix /{cidr.prefixlen}; allowed: /16 to /20 (AWS allows a VPC of /16 to "
        "/28; each zone's private subnet here takes 1/8 of it for node and pod addresses, fewer "
        "than 512 below /20)"
    )


NodeCount = Annotated[int, Field(strict=True, ge=0, le=450)]
MaxNodeCount = Annotated[int, Field(strict=True, ge=1, le=450)]
Flag = Annotated[bool, Field(strict=True)]
Fraction = Annotated[float, Field(strict=True, gt=0, le=1)]
"""Strict: ``true`` is not a number (it would render ``=1``)."""


def _instance_type_rule(gpu: bool) -> AfterValidator:
    allowed = GPU_INSTANCE_TYPES if gpu else GENERAL_INSTANCE_TYPES
    kind = "GPU" if gpu else "non-GPU"

    def check(name: str) -> str | None:
        if name in allowed:
            return None
        return f"{name!r} is not a supported {kind} instance type: " + why_not_accepted(
            name, gpu=gpu
        )

    return field_rule("InstanceTypeNotSupported", check)


def _instance_types(gpu: bool) -> Any:
    item = Annotated[str, StringConstraints(max_length=32), _instance_type_rule(gpu)]
    return Annotated[tuple[item, ...], Field(min_length=1, max_length=20)]


def _supported_kubernetes_version(minor: str) -> str | None:
    if minor in KUBERNETES_RELEASES:
        return None
    return f"{minor!r} is not supported; allowed: {', '.join(KUBERNETES_RELEASES)}"


# CloudWatch Logs PutRetentionPolicy, retentionInDays: the only values it accepts.
LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096),
    *(1827, 2192, 2557, 2922, 3288, 3653),
)


def _log_retention(days: int) -> str | None:
    if days in LOG_RETENTION_DAYS:
        return None
    allowed = ", ".join(map(str, LOG_RETENTION_DAYS))
    return f"{days} is not a CloudWatch Logs retention; allowed: {allowed}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EndpointConfig(_Frozen):
    """Who can reach the Kubernetes API endpoint."""

    public_access_cidrs: tuple[Cidr, ...]
    """CIDRs allowed to reach the public endpoint; empty means no public endpoint."""
    private_access: Flag
    """Whether nodes and the VPC reach the API through the private endpoint."""


class SystemNodeGroupConfig(_Frozen):
    """The always-on spot group for kube-system and ordinary workloads, spread over all AZs."""

    name: GroupName
    instance_types: _instance_types(gpu=False)  # type: ignore[valid-type]
    """Spot diversity: several types, all of one shape (vCPUs, memory)."""
    min_size: NodeCount
    max_size: MaxNodeCount
    capacity_type: Literal["SPOT", "ON_DEMAND"]
    root_volume_gib: Annotated[int, Field(strict=True, ge=20, le=16384)]


class GpuSharingConfig(_Frozen):
    """How the NVIDIA device plugin shares each GPU of a node (``api/config/v1`` ``Sharing``).

    Only time-slicing of ``nvidia.com/gpu`` under its own name is supported (see
    ``cluster_config.gpu_sharing``); each GPU is advertised ``replicas`` times.
    """

    strategy: Annotated[str, field_rule("SharingStrategy", strategy_problem)] = "time-slicing"
    replicas: Annotated[int, Field(strict=True, ge=MIN_REPLICAS, le=MAX_REPLICAS)]
    rename_by_default: Annotated[
        bool, Field(strict=True), field_rule("SharingRename", rename_problem)
    ] = False
    fail_requests_greater_than_one: Flag = True
    """Upstream's recommended setting: a container asking for more than one replica fails."""


class AutoscalerConfig(_Frozen):
    """Cluster-autoscaler timings and thresholds (docs/capacity-strategy.md)."""

    scale_down_unneeded_minutes: Annotated[int, Field(strict=True, ge=1, le=1440)]
    scale_down_delay_after_add_minutes: Annotated[int, Field(strict=True, ge=0, le=1440)]
    max_node_provision_minutes: Annotated[int, Field(strict=True, ge=5, le=60)]
    scale_down_utilization_threshold: Fraction
    scale_down_gpu_utilization_threshold: Fraction
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
    max_size: MaxNodeCount
    """Per zone group."""


Gp3Iops = Annotated[int, Field(strict=True, ge=ebs.GP3_BASELINE_IOPS, le=ebs.GP3_MAX_IOPS)]
Gp3Throughput = Annotated[
    int,
    Field(strict=True, ge=ebs.GP3_BASELINE_THROUGHPUT_MIBPS, le=ebs.GP3_MAX_THROUGHPUT_MIBPS),
]


class RootVolumeConfig(_Frozen):
    """A GPU pool's encrypted gp3 root volume (``aws_rules/ebs.py`` holds EBS's limits)."""

    size_gib: Annotated[int, Field(strict=True, ge=20, le=16384)] | None = None
    """Unset: ``gpu_root_volume_gib``."""
    throughput_mibps: Gp3Throughput | None = None
    """Unset: gp3's baseline 125 MiB/s, or with ``fast_image_pull`` the 600 MiB/s nodeadm
    recommends."""
    iops: Gp3Iops | None = None
    """Unset: gp3's baseline 3000."""


class GpuPoolConfig(_Frozen):
    """One GPU shape spread over zones: one single-AZ group per zone, ``<pool>-<zone letter>``,
    balanced with each other by the autoscaler (and with no other pool's groups)."""

    name: PoolName
    """Also the ``pool`` label value of the pool's nodes."""
    instance_types: _instance_types(gpu=True)  # type: ignore[valid-type]
    """Spot diversity: several types, all of one shape (vCPUs, memory, GPUs)."""
    availability_zones: (
        Annotated[tuple[AvailabilityZone, ...], Field(min_length=1, max_length=6)] | None
    ) = None
    """Unset: every zone of the cluster."""
    min_size: NodeCount = 0
    """Per zone group; 0: the pool scales from zero."""
    max_size: MaxNodeCount = 4
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

    efa: Flag = False
    """Multi-node training: every EFA interface the type has (``cluster_config/efa.py``), a
    cluster placement group per zone group, a security group open to itself and the EFA device
    plugin; each group gets a launch template of its own. Every type must support EFA. SPOT is
    allowed (EC2 offers every EFA GPU type as spot), ON_DEMAND is what a long job wants."""

    @property
    def own_launch_template(self) -> bool:
        """Whether the pool has launch settings of its own (else it shares the GPU template)."""
        return self.root_volume is not None or self.fast_image_pull or self.efa


class ObservabilityConfig(_Frozen):
    """Opt-in telemetry that AWS bills for (docs/using-gpus.md, "GPU utilization")."""

    gpu_metrics: Flag
    """The ``amazon-cloudwatch-observability`` EKS add-on: Container Insights, with NVIDIA GPU
    metrics through DCGM; container logs stay off."""


def _at_least_one_pool(pools: tuple[GpuPoolConfig, ...]) -> str | None:
    if pools:
        return None
    return (
        "a cluster needs at least one GPU pool (name and instance_types; min_size 0 and "
        "max_size 4 by default); see docs/configuration.md"
    )


class ClusterConfig(_Frozen):
    cluster_name: ClusterName
    kubernetes_version: Annotated[
        str,
        StringConstraints(max_length=16),
        field_rule("KubernetesVersionNotSupported", _supported_kubernetes_version),
    ]
    region: Region
    account: AccountId | None = None
    """Optional: without it the stacks deploy to the account of the caller's credentials."""
    availability_zones: Annotated[tuple[AvailabilityZone, ...], Field(min_length=2, max_length=6)]
    availability_zone_ids: tuple[ZoneId, ...] | None = None
    """Optional: the zone ID of each of ``availability_zones`` in the deploying account, same
    order; the ``zones`` check then knows exactly which zones a group lands in."""
    control_plane_availability_zones: (
        Annotated[tuple[AvailabilityZone, ...], Field(min_length=2, max_length=6)] | None
    ) = None
    """Zones of the control plane's subnets and of the system group; unset: every zone of
    ``availability_zones``. EKS keeps a cluster in the zones it was created with (EKS User
    Guide, "View Amazon EKS networking requirements for VPC and subnets"), so set it to those
    before adding a zone."""
    vpc_cidr: Annotated[Cidr, field_rule("VpcCidrSize", _vpc_cidr_size)]
    nat_gateways: Annotated[int, Field(strict=True, ge=1, le=6)]
    endpoint: EndpointConfig
    admin_principal_arns: Annotated[tuple[PrincipalArn, ...], Field(max_length=100)]
    control_plane_log_retention_days: Annotated[
        int, Field(strict=True), field_rule("LogRetentionNotAllowed", _log_retention)
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
        tuple[GpuPoolConfig, ...],
        Field(max_length=20),
        field_rule("NoGpuPool", _at_least_one_pool),
    ]
    """GPU shapes, each spread over its zones (README, "Using GPUs")."""
    gpu_root_volume_gib: Annotated[int, Field(strict=True, ge=20, le=16384)]
    gpu_smoke_test: Flag
    """Deploy the GPU smoke-test Job with the cluster (it is always exported as YAML)."""
    node_ami_release_version: (
        Annotated[str, StringConstraints(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+-[0-9]{8}$")] | None
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
    image_registry_mirror: (
        Annotated[str, field_rule("RegistryMirror", registry_mirror_problem)] | None
    ) = None
    """Optional: a registry that serves every image this project deploys (``charts.images``),
    e.g. an ECR pull-through cache in a China region; unset, images come from their own
    registries (registry.k8s.io, nvcr.io, docker.io)."""

    @property
    def control_plane_zones(self) -> tuple[str, ...]:
        """The control plane's zones: ``control_plane_availability_zones``, else every zone."""
        return self.control_plane_availability_zones or self.availability_zones
