"""The config's rules across fields: one function per rule, each with a stable code.

Every rule runs on every config, whatever else failed: ``rule_problems`` calls each rule on each
subject it applies to (the cluster, each node group, each pool...) and a rule that touches a field
which failed its own check (``fields.INVALID``) is skipped for that subject only. Rules of what
the config *generates* (``generated``: the tag budget, read from the node-group specs) run once
the config is otherwise valid, since only a valid config has specs.

To add a rule: write a function ``(subject, config) -> Iterator[(field, message)]`` under
``@rule("Code", scope)``; ``field`` is relative to the subject (``""`` for the subject itself).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from aws_rules import ebs, nodeadm
from cluster_config import aws_limits
from cluster_config.catalog import ALL_INSTANCE_TYPES, GPU_INSTANCE_TYPES, InstanceShape
from cluster_config.efa import efa_problems
from cluster_config.efa import region_problem as efa_region_problem
from cluster_config.fields import InvalidInput
from cluster_config.labels import RESERVED_GPU_LABELS, SYSTEM_POOL
from cluster_config.model import ClusterConfig
from cluster_config.nodegroup_names import group_name
from cluster_config.problems import Problem
from cluster_config.public_cidrs import MAX_PUBLIC_ACCESS_CIDRS, internet_share, not_public_reason
from cluster_config.versions import KUBERNETES_RELEASES
from cluster_config.zone_offerings import zone_id_problem

MAX_GPU_NODE_GROUPS = 20
"""Project bound on the node groups all pools generate together (EKS's default quota is 30
managed node groups per cluster; each GPU group is also one autoscaler template to simulate)."""

Subject = tuple[str, Callable[[], Any]]
"""A field path and how to read its value (read inside the rule, so an invalid one skips it)."""
Findings = Iterator[tuple[str, str]]


def _read(value: Any, path: str = "") -> Callable[[], Any]:
    """Reads ``path`` (dotted attributes) of ``value`` when called."""
    return partial(_get, value, path)


def _get(value: Any, path: str) -> Any:
    for part in filter(None, path.split(".")):
        value = getattr(value, part)
    return value


def cluster(config: ClusterConfig) -> Iterator[Subject]:
    yield "", lambda: config


def pools(config: ClusterConfig) -> Iterator[Subject]:
    for i, pool in enumerate(config.gpu_pools):
        yield f"gpu_pools.{i}", _read(pool)


def node_groups(config: ClusterConfig) -> Iterator[Subject]:
    """The system group and each pool: what has a name, instance types and sizes."""
    yield "system_node_group", lambda: config.system_node_group
    yield from pools(config)


def sized(config: ClusterConfig) -> Iterator[Subject]:
    """Everything with ``min_size`` and ``max_size``: node groups and on-demand fallbacks."""
    yield from node_groups(config)
    for i, pool in enumerate(config.gpu_pools):
        yield f"gpu_pools.{i}.on_demand_fallback", _read(pool, "on_demand_fallback")


@dataclass(frozen=True)
class Rule:
    code: str
    scope: Callable[[ClusterConfig], Iterator[Subject]]
    check: Callable[[Any, ClusterConfig], Findings]
    generated: bool = False
    """Reads the node-group specs: runs only when every other rule holds."""


RULES: list[Rule] = []


def rule(
    code: str,
    scope: Callable[[ClusterConfig], Iterator[Subject]] = cluster,
    *,
    generated: bool = False,
) -> Callable[[Callable[[Any, ClusterConfig], Findings]], Callable[[Any, ClusterConfig], Findings]]:
    def register(
        check: Callable[[Any, ClusterConfig], Findings],
    ) -> Callable[[Any, ClusterConfig], Findings]:
        RULES.append(Rule(code, scope, check, generated))
        return check

    return register


def rule_problems(config: ClusterConfig, *, fields_valid: bool) -> list[Problem]:
    """Every rule's problems; ``config`` may be partial (fields that failed hold ``INVALID``)."""
    problems = [p for r in RULES if not r.generated for p in _run(r, config)]
    if fields_valid and not problems:
        problems = [p for r in RULES if r.generated for p in _run(r, config)]
    return problems


def _run(checked: Rule, config: ClusterConfig) -> list[Problem]:
    problems: list[Problem] = []
    try:
        subjects = list(checked.scope(config))
    except InvalidInput:
        return []
    for prefix, read in subjects:
        try:
            subject = read()
            if subject is None:
                continue  # an optional part that is not set
            found = list(checked.check(subject, config))
        except InvalidInput:
            continue
        for field, message in found:
            path = ".".join(p for p in (prefix, field) if p)
            problems.append(Problem(checked.code, path, message))
    return problems


# --- Lists ------------------------------------------------------------------------------------

UNIQUE_LISTS = {
    "availability_zones": "zone",
    "availability_zone_ids": "zone ID",
    "control_plane_availability_zones": "zone",
    "admin_principal_arns": "principal",
    "key_deletion_principal_arns": "principal",
    "endpoint.public_access_cidrs": "CIDR",
    "system_node_group.instance_types": "type",
    "gpu_pools[].instance_types": "type",
    "gpu_pools[].availability_zones": "zone",
}
"""Lists in which an item may appear once (a repeat is a mistake: a zone twice would make two
groups of one name, an ARN twice two access entries of one ID)."""


def unique_lists(config: ClusterConfig) -> Iterator[Subject]:
    for path in UNIQUE_LISTS:
        if path.startswith("gpu_pools[]."):
            field = path.removeprefix("gpu_pools[].")
            for i, pool in enumerate(config.gpu_pools):
                yield f"gpu_pools.{i}.{field}", _read(pool, field)
        else:
            yield path, _read(config, path)


@rule("DuplicateItem", unique_lists)
def listed_twice(items: tuple[Any, ...], config: ClusterConfig) -> Findings:
    seen: dict[Any, int] = {}
    for j, item in enumerate(items):
        if item in seen:
            yield str(j), f"{str(item)!r} is already item {seen[item]}; list each once"
        seen.setdefault(item, j)


# --- Network ----------------------------------------------------------------------------------


@rule("ZoneNotInRegion")
def zones_in_region(config: ClusterConfig, _: ClusterConfig) -> Findings:
    allowed = ", ".join(config.region + z for z in "abcdef")
    for i, zone in enumerate(config.availability_zones):
        if not re.fullmatch(re.escape(config.region) + "[a-z]", zone):
            yield (
                f"availability_zones.{i}",
                f"{zone!r} is not in region {config.region!r}; allowed: {allowed} (those your "
                "account has)",
            )


@rule("ControlPlaneZoneNotInCluster")
def control_plane_zones_in_cluster(config: ClusterConfig, _: ClusterConfig) -> Findings:
    for i, zone in enumerate(config.control_plane_availability_zones or ()):
        if zone not in config.availability_zones:
            yield (
                f"control_plane_availability_zones.{i}",
                f"{zone!r} is not one of availability_zones {list(config.availability_zones)}; "
                "the control plane's subnets are among the VPC's",
            )


@rule("ZoneIdNotInRegion")
def zone_ids_in_region(config: ClusterConfig, _: ClusterConfig) -> Findings:
    for i, zone_id in enumerate(config.availability_zone_ids or ()):
        problem = zone_id_problem(zone_id, config.region)
        if problem:
            yield f"availability_zone_ids.{i}", problem


@rule("ZoneIdCount")
def one_zone_id_per_zone(config: ClusterConfig, _: ClusterConfig) -> Findings:
    ids = config.availability_zone_ids
    if ids is not None and len(ids) != len(config.availability_zones):
        yield (
            "availability_zone_ids",
            f"{len(ids)} IDs for {len(config.availability_zones)} availability_zones; allowed: "
            "one per zone, in the same order (aws ec2 describe-availability-zones --region "
            f"{config.region} shows your account's IDs)",
        )


@rule("NatGatewaysAboveZones")
def nat_gateways_within_zones(config: ClusterConfig, _: ClusterConfig) -> Findings:
    zones = len(config.availability_zones)
    if config.nat_gateways > zones:
        yield (
            "nat_gateways",
            f"{config.nat_gateways} is more than the {zones} availability zones; allowed: 1 to "
            "the number of zones (a NAT gateway sits in one zone's public subnet)",
        )


# --- API endpoint -----------------------------------------------------------------------------


@rule("EndpointUnreachable")
def endpoint_reachable(config: ClusterConfig, _: ClusterConfig) -> Findings:
    endpoint = config.endpoint
    if not endpoint.private_access and not endpoint.public_access_cidrs:
        yield (
            "endpoint.public_access_cidrs",
            "empty while private_access is false, so nothing could reach the API; allow a "
            "public CIDR or set private_access: true",
        )


@rule("PrivateAccessNeeded")
def kubectl_provider_reaches_endpoint(config: ClusterConfig, _: ClusterConfig) -> Findings:
    endpoint = config.endpoint
    cidrs = endpoint.public_access_cidrs
    if cidrs and internet_share(cidrs) < 1 and not endpoint.private_access:
        yield (
            "endpoint.private_access",
            "false while public_access_cidrs is restricted: the kubectl provider that applies "
            "the add-ons runs in Lambda with no fixed address and could not reach the API; set "
            "private_access: true",
        )


@rule("PublicCidrNotPublic")
def public_cidrs_are_public(config: ClusterConfig, _: ClusterConfig) -> Findings:
    for i, cidr in enumerate(config.endpoint.public_access_cidrs):
        reason = not_public_reason(cidr)
        if reason:
            yield (
                f"endpoint.public_access_cidrs.{i}",
                f"'{cidr}' {reason}; EKS refuses reserved ranges here, and the public endpoint "
                "is reached from public addresses only (VPC addresses use private_access)",
            )


@rule("TooManyPublicCidrs")
def public_cidr_count(config: ClusterConfig, _: ClusterConfig) -> Findings:
    count = len(config.endpoint.public_access_cidrs)
    if count > MAX_PUBLIC_ACCESS_CIDRS:
        yield (
            "endpoint.public_access_cidrs",
            f"{count} CIDRs; EKS allows at most {MAX_PUBLIC_ACCESS_CIDRS} per cluster (EKS "
            "service quota 'Public endpoint access CIDR ranges per cluster'); merge neighbouring "
            "ranges",
        )


# --- Node groups and pools --------------------------------------------------------------------


@rule("MinSizeAboveMaxSize", sized)
def min_size_within_max_size(group: Any, _: ClusterConfig) -> Findings:
    if group.min_size > group.max_size:
        yield (
            "min_size",
            f"{group.min_size} is greater than max_size {group.max_size}; allowed: min_size <= "
            "max_size",
        )


def _shapes(group: Any) -> dict[str, InstanceShape]:
    return {name: ALL_INSTANCE_TYPES[name] for name in dict.fromkeys(group.instance_types)}


@rule("InstanceShapesDiffer", node_groups)
def one_shape_per_group(group: Any, _: ClusterConfig) -> Findings:
    shapes = _shapes(group)
    if len({(s.vcpus, s.memory_mib) for s in shapes.values()}) > 1:
        described = ", ".join(
            f"{n}={s.vcpus} vCPU/{_memory_text(s.memory_mib)}" for n, s in shapes.items()
        )
        yield (
            "instance_types",
            f"types differ in shape ({described}); the cluster autoscaler sizes a group by its "
            "first type, so all types in a group must have the same vCPUs and memory",
        )


@rule("GpuShapesDiffer", pools)
def one_gpu_shape_per_pool(pool: Any, _: ClusterConfig) -> Findings:
    shapes = _shapes(pool)
    if len({(s.gpus, s.gpu_memory_gb) for s in shapes.values()}) > 1:
        described = ", ".join(f"{n}={s.gpus}x{s.gpu_memory_gb} GB" for n, s in shapes.items())
        yield (
            "instance_types",
            "types differ in GPU count or GPU memory; the autoscaler's template node and the "
            "GPU memory label describe one GPU shape per group, so put each in its own pool "
            f"(got: {described})",
        )


@rule("ReservedLabel", pools)
def no_reserved_labels(pool: Any, _: ClusterConfig) -> Findings:
    reserved = sorted(k for k in pool.labels if k in RESERVED_GPU_LABELS)
    if reserved:
        yield "labels", f"{reserved} are set by this project; choose other keys"


@rule("PoolNamedSystem", pools)
def pool_not_named_system(pool: Any, _: ClusterConfig) -> Findings:
    if pool.name == SYSTEM_POOL:
        yield "name", f"{SYSTEM_POOL!r} is the system group's pool label value; choose another"


@rule("FallbackOnOnDemandPool", pools)
def fallback_only_on_spot(pool: Any, _: ClusterConfig) -> Findings:
    if pool.on_demand_fallback is not None and pool.capacity_type == "ON_DEMAND":
        yield (
            "on_demand_fallback",
            "the pool is already ON_DEMAND; a fallback is for a SPOT pool (remove it, or set "
            "capacity_type: SPOT)",
        )


@rule("PoolZoneNotInCluster", pools)
def pool_zones_in_cluster(pool: Any, config: ClusterConfig) -> Findings:
    for j, zone in enumerate(pool.availability_zones or ()):
        if zone not in config.availability_zones:
            yield (
                f"availability_zones.{j}",
                f"{zone!r} is not one of the cluster's availability_zones "
                f"{list(config.availability_zones)}",
            )


@rule("PoolNameTaken")
def pool_names_unique(config: ClusterConfig, _: ClusterConfig) -> Findings:
    first: dict[str, int] = {}
    for i, pool in enumerate(config.gpu_pools):
        if pool.name in first:
            yield (
                f"gpu_pools.{i}.name",
                f"{pool.name!r} is already used by gpu_pools.{first[pool.name]}.name",
            )
        first.setdefault(pool.name, i)


def _pool_groups(config: ClusterConfig) -> Iterator[tuple[int, str, str, str]]:
    """(pool index, group name, where it comes from, zone) of every GPU group, each pool name
    once (a repeated name is ``PoolNameTaken``)."""
    named: set[str] = set()
    for i, pool in enumerate(config.gpu_pools):
        if pool.name in named:
            continue
        named.add(pool.name)
        zones = dict.fromkeys(pool.availability_zones or config.availability_zones)
        for fallback in (False, True) if pool.on_demand_fallback else (False,):
            source = f"gpu_pools.{i}.on_demand_fallback" if fallback else f"gpu_pools.{i}"
            for zone in zones:
                yield i, group_name(pool.name, zone, fallback=fallback), source, zone


@rule("GroupNameCollision")
def group_names_unique(config: ClusterConfig, _: ClusterConfig) -> Findings:
    groups = {config.system_node_group.name: "system_node_group"}
    for i, name, source, zone in _pool_groups(config):
        if name in groups:
            yield (
                f"gpu_pools.{i}.name",
                f"{config.gpu_pools[i].name!r} makes group {name!r} ({source}, {zone}), which is "
                f"also the name of {groups[name]}; choose another pool name",
            )
        groups.setdefault(name, f"{source}'s group in {zone}")


@rule("TooManyGpuGroups")
def gpu_group_count(config: ClusterConfig, _: ClusterConfig) -> Findings:
    total = sum(1 for _ in _pool_groups(config))
    if total > MAX_GPU_NODE_GROUPS:
        yield (
            "gpu_pools",
            f"the pools make {total} GPU node groups (one per pool zone, twice with "
            f"on_demand_fallback); allowed: at most {MAX_GPU_NODE_GROUPS} (EKS allows 30 managed "
            "node groups per cluster, and each GPU group is one more template for the "
            "autoscaler to simulate)",
        )


# --- Launch settings and warm capacity --------------------------------------------------------


@rule("FastPullThroughput", pools)
def fast_pull_disk_fast_enough(pool: Any, _: ClusterConfig) -> Findings:
    """A fast-pull pool's explicit root-volume throughput is at least what nodeadm asks for."""
    volume = pool.root_volume
    throughput = volume.throughput_mibps if pool.fast_image_pull and volume else None
    needed = nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS
    if throughput is not None and throughput < needed:
        yield (
            "root_volume.throughput_mibps",
            f"{throughput} is below the {needed} MiB/s fast_image_pull needs (nodeadm's "
            "guidance: slower disks make a parallel pull slower than a normal one); allowed: "
            f"{needed}-{ebs.GP3_MAX_THROUGHPUT_MIBPS}, or unset it (then {needed})",
        )


@rule("FastPullIgnored", pools)
def fast_pull_types_above_nodeadm_threshold(pool: Any, _: ClusterConfig) -> Findings:
    """nodeadm ignores FastImagePull below its CPU and memory threshold."""
    if not pool.fast_image_pull:
        return
    for j, name in enumerate(pool.instance_types):
        shape = GPU_INSTANCE_TYPES.get(name)
        why = shape and nodeadm.fast_image_pull_ignored(shape.vcpus, shape.memory_mib)
        if why:
            yield (
                f"instance_types.{j}",
                f"{name!r} is below nodeadm's fast-pull threshold ({why}), so fast_image_pull "
                "would be ignored; use a larger type or remove fast_image_pull",
            )


@rule("RootVolumeLimits", pools)
def root_volume_within_gp3_limits(pool: Any, config: ClusterConfig) -> Findings:
    """EBS gp3 limits on a pool's root volume (size, throughput and IOPS together)."""
    volume = pool.root_volume
    if volume is None:
        return
    size = volume.size_gib or config.gpu_root_volume_gib
    throughput = volume.throughput_mibps
    if throughput is None and pool.fast_image_pull:
        throughput = nodeadm.FAST_IMAGE_PULL_MIN_THROUGHPUT_MIBPS
    for problem in ebs.gp3_problems(size, throughput, volume.iops):
        field, _, message = problem.partition(": ")
        yield f"root_volume.{field}", message


@rule("WarmNodesAboveMax", pools)
def warm_nodes_within_pool(pool: Any, config: ClusterConfig) -> Findings:
    zones = len(pool.availability_zones or config.availability_zones)
    if pool.warm_nodes > pool.max_size * zones:
        yield (
            "warm_nodes",
            f"{pool.warm_nodes} is more than the pool's {pool.max_size * zones} nodes (max_size "
            f"{pool.max_size} x {zones} zones); allowed: 0 to that",
        )


@rule("WarmNodesSharing", pools)
def pause_pods_admitted_by_sharing(pool: Any, config: ClusterConfig) -> Findings:
    """Pause pods (no CapacityBuffer API) ask for every GPU replica of a node."""
    buffers = KUBERNETES_RELEASES[config.kubernetes_version].capacity_buffer_api is not None
    sharing = pool.gpu_sharing
    if pool.warm_nodes and not buffers and sharing and sharing.fail_requests_greater_than_one:
        yield (
            "warm_nodes",
            f"on Kubernetes {config.kubernetes_version} warm nodes are held by pause pods asking "
            "for every GPU replica of a node, which gpu_sharing.fail_requests_greater_than_one "
            "refuses; use Kubernetes 1.34+ (CapacityBuffer) or set it to false",
        )


@rule("EfaNotSupported", pools)
def efa_on_efa_types(pool: Any, _: ClusterConfig) -> Findings:
    """``efa: true`` needs EFA on every type, with the same EFA cards (one launch template)."""
    if pool.efa:
        for problem in efa_problems(pool.instance_types):
            field, _sep, message = problem.partition(": ")
            yield field, message


@rule("EfaRegion", pools)
def efa_plugin_image_in_region(pool: Any, config: ClusterConfig) -> Findings:
    """An EFA pool needs the device plugin's image, which EKS publishes per region."""
    problem = efa_region_problem(config.region) if pool.efa else None
    if problem:
        yield "efa", problem


# --- AWS limits across fields -----------------------------------------------------------------


@rule("AmiReleaseNotForVersion")
def ami_release_of_the_minor(config: ClusterConfig, _: ClusterConfig) -> Findings:
    release = config.node_ami_release_version
    if release is not None:
        problem = aws_limits.release_version_problem(release, config.kubernetes_version)
        if problem:
            yield "node_ami_release_version", f"{release!r} {problem}"


@rule("ArnPartition")
def arns_in_the_regions_partition(config: ClusterConfig, _: ClusterConfig) -> Findings:
    partition = aws_limits.REGION_PARTITIONS[config.region]
    for field in ("admin_principal_arns", "key_deletion_principal_arns"):
        for i, arn in enumerate(getattr(config, field)):
            if aws_limits.arn_partition(arn) != partition:
                yield (
                    f"{field}.{i}",
                    f"{arn!r} is in partition {aws_limits.arn_partition(arn)}, but region "
                    f"{config.region} is in {partition}; allowed: arn:{partition}:iam::...",
                )


@rule("TagBudget", generated=True)
def tags_within_aws_limit(config: ClusterConfig, _: ClusterConfig) -> Findings:
    from cluster_config.node_groups import node_group_specs  # it imports the model: no cycle

    specs = node_group_specs(config).all
    yield from aws_limits.tag_budget_problems(
        len(config.tags),
        {s.name: len(s.node_template_tags) for s in specs},
        labels_field={
            s.name: f"{s.source.removesuffix('.on_demand_fallback')}.labels" for s in specs
        },
    )


def _memory_text(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"


def codes() -> Iterable[str]:
    """Every rule's code, in the order the rules run."""
    return [r.code for r in RULES]
