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

from cluster_config import aws_limits
from cluster_config.catalog import (
    GENERAL_INSTANCE_TYPES,
    GPU_INSTANCE_TYPES,
    InstanceShape,
    why_not_accepted,
)
from cluster_config.gpu_sharing import SHARING_CONFIG_LABEL, sharing_problems
from cluster_config.labels import RESERVED_GPU_LABELS
from cluster_config.versions import KUBERNETES_RELEASES

# EKS allows [0-9A-Za-z][A-Za-z0-9-_]*; CloudFormation stack names (derived from it) allow no "_".
ClusterName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,99}$")]
# Lower-case words joined by single hyphens, so each maps to a distinct PascalCase construct ID.
# At most 56: node group names are "<name>-<6-character digest>" and EKS allows 63 (EKS API
# Reference, CreateNodegroup nodegroupName; aws_limits.NODEGROUP_NAME).
GroupName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=56)
]


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
    """Cluster-autoscaler timings and thresholds (README: "Scale-down of expensive nodes")."""

    scale_down_unneeded_minutes: Annotated[int, Field(strict=True, ge=1, le=1440)]
    scale_down_delay_after_add_minutes: Annotated[int, Field(strict=True, ge=0, le=1440)]
    max_node_provision_minutes: Annotated[int, Field(strict=True, ge=5, le=60)]
    scale_down_utilization_threshold: Annotated[float, Field(gt=0, le=1)]
    scale_down_gpu_utilization_threshold: Annotated[float, Field(gt=0, le=1)]


class GpuNodeGroupConfig(_NodeGroupConfig):
    """A single-AZ spot GPU group that scales from zero (one per AZ, like the seed's a|b|c)."""

    _catalog = GPU_INSTANCE_TYPES
    _kind = "GPU"

    availability_zone: AvailabilityZone
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Extra Kubernetes labels for the nodes (also written as autoscaler node-template tags)."""
    capacity_type: Literal["SPOT", "ON_DEMAND"] = "SPOT"
    """ON_DEMAND groups are tried only when no SPOT group can take the pods (priority expander)."""
    gpu_sharing: GpuSharingConfig | None = None
    """Time-slicing for this group; unset, the cluster-wide ``gpu_sharing`` applies."""

    @model_validator(mode="after")
    def _check_labels(self) -> Self:
        reserved = sorted(k for k in self.labels if k in RESERVED_GPU_LABELS)
        if reserved:
            raise _rule_violations(
                [f"labels: {reserved} are set by this project; choose other keys"]
            )
        return self


class ClusterConfig(_Frozen):
    cluster_name: ClusterName
    kubernetes_version: Annotated[
        str, StringConstraints(max_length=16), AfterValidator(_supported_kubernetes_version)
    ]
    region: Region
    account: AccountId | None = None
    """Optional: without it the stacks deploy to the account of the caller's credentials."""
    availability_zones: Annotated[tuple[AvailabilityZone, ...], Field(min_length=2, max_length=6)]
    vpc_cidr: Cidr
    nat_gateways: Annotated[int, Field(strict=True, ge=1, le=6)]
    endpoint: EndpointConfig
    admin_principal_arns: Annotated[tuple[PrincipalArn, ...], Field(max_length=100)]
    control_plane_log_retention_days: Annotated[
        int, Field(strict=True), AfterValidator(_log_retention)
    ]
    """Retention of the control-plane log group ``/aws/eks/<cluster>/cluster``."""
    tags: dict[TagKey, TagValue]
    system_node_group: SystemNodeGroupConfig
    gpu_node_groups: Annotated[tuple[GpuNodeGroupConfig, ...], Field(min_length=1, max_length=20)]
    gpu_root_volume_gib: Annotated[int, Field(strict=True, ge=20, le=16384)]
    gpu_smoke_test: Flag
    """Deploy the GPU smoke-test Job with the cluster (it is always exported as YAML)."""
    node_ami_release_version: (
        Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+-\d{8}$")] | None
    ) = None
    """Optional: pins the EKS AMI release; unset, new groups get the latest and keep it."""
    gpu_sharing: GpuSharingConfig | None = None
    """Time-slicing for every GPU group that does not set its own."""
    autoscaler: AutoscalerConfig
    node_auto_repair: Flag
    """EKS node auto repair on every node group."""
    node_monitoring_agent: Flag
    """The ``eks-node-monitoring-agent`` EKS add-on (reports GPU and other node faults)."""

    @property
    def gpu_instance_types(self) -> tuple[str, ...]:
        """Every GPU instance type of every GPU group, each once, in config order."""
        return tuple(dict.fromkeys(t for g in self.gpu_node_groups for t in g.instance_types))

    @model_validator(mode="after")
    def _check_cross_field_rules(self) -> ClusterConfig:
        problems = [
            *_network_problems(self),
            *_group_problems(self),
            *_aws_limit_problems(self),
            *_capacity_problems(self),
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


def _group_problems(config: ClusterConfig) -> list[str]:
    problems = []
    system = config.system_node_group
    seen_names = {system.name: "system_node_group"}
    for i, group in enumerate(config.gpu_node_groups):
        where = f"gpu_node_groups.{i}"
        if group.name in seen_names:
            problems.append(
                f"{where}.name: {group.name!r} is already used by {seen_names[group.name]}"
            )
        seen_names.setdefault(group.name, where)
        if group.availability_zone not in config.availability_zones:
            problems.append(
                f"{where}.availability_zone: {group.availability_zone!r} is not one of the "
                f"cluster's availability_zones {list(config.availability_zones)}"
            )
    labels = {tuple(sorted(g.labels.items())) for g in config.gpu_node_groups}
    if len(labels) > 1:
        problems.append(
            "gpu_node_groups: the groups' labels differ, so the cluster autoscaler would not treat "
            "them as similar (--balance-similar-node-groups); give every GPU group the same labels"
        )
    return problems


def _aws_limit_problems(config: ClusterConfig) -> list[str]:
    """Limits AWS and EKS enforce across fields (see ``aws_limits`` for each source)."""
    problems = []
    extra_labels = max((len(g.labels) for g in config.gpu_node_groups), default=0)
    # Once any group time-slices, every GPU group carries the device-plugin config label too.
    if config.gpu_sharing is not None or any(g.gpu_sharing for g in config.gpu_node_groups):
        extra_labels += 1
    on_nodegroup = aws_limits.PROJECT_TAGS_ON_GPU_NODEGROUP_FIXED + extra_labels
    room = aws_limits.TAGS_PER_RESOURCE - max(aws_limits.PROJECT_TAGS_ON_SUBNET, on_nodegroup)
    if len(config.tags) > room:
        problems.append(
            f"tags: {len(config.tags)} tags, but this project adds up to "
            f"{aws_limits.TAGS_PER_RESOURCE - room} of its own to a resource (subnet names, "
            f"autoscaler node-template tags for {extra_labels} extra GPU label(s)) and AWS allows "
            f"{aws_limits.TAGS_PER_RESOURCE} per resource; allowed: at most {max(room, 0)}"
        )
    on_asg = aws_limits.EKS_TAGS_ON_ASG + on_nodegroup
    if on_asg > aws_limits.TAGS_PER_RESOURCE:
        allowed = aws_limits.TAGS_PER_RESOURCE - aws_limits.EKS_TAGS_ON_ASG
        allowed -= aws_limits.PROJECT_TAGS_ON_GPU_NODEGROUP_FIXED
        problems.append(
            f"gpu_node_groups: {extra_labels} labels on one group; each becomes an autoscaler tag "
            f"on its Auto Scaling group beside {aws_limits.EKS_TAGS_ON_ASG} EKS tags and "
            f"{aws_limits.PROJECT_TAGS_ON_GPU_NODEGROUP_FIXED} of this project's, and AWS "
            f"allows {aws_limits.TAGS_PER_RESOURCE}; allowed: at most {allowed} labels"
        )
    if config.node_ami_release_version is not None:
        problem = aws_limits.release_version_problem(
            config.node_ami_release_version, config.kubernetes_version
        )
        if problem:
            problems.append(
                f"node_ami_release_version: {config.node_ami_release_version!r} {problem}"
            )
    partition = aws_limits.REGION_PARTITIONS[config.region]
    for i, arn in enumerate(config.admin_principal_arns):
        if aws_limits.arn_partition(arn) != partition:
            problems.append(
                f"admin_principal_arns.{i}: {arn!r} is in partition "
                f"{aws_limits.arn_partition(arn)}, but region {config.region} is in {partition}; "
                f"allowed: arn:{partition}:iam::..."
            )
    return problems


def _capacity_problems(config: ClusterConfig) -> list[str]:
    return [
        f"gpu_node_groups.{i}.labels: {SHARING_CONFIG_LABEL!r} is set by this project from "
        "gpu_sharing; choose another key"
        for i, group in enumerate(config.gpu_node_groups)
        if SHARING_CONFIG_LABEL in group.labels
    ]


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
