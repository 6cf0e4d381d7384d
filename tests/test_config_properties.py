"""Property-based tests over the config space (hypothesis): hostile input never crashes,
valid configs always synthesize cleanly, invalid ones always fail with a config error."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cluster_config import ClusterConfig, ConfigError
from cluster_config.aws_limits import REGION_PARTITIONS, SUPPORTED_PARTITIONS
from cluster_config.catalog import GPU_INSTANCE_TYPES
from cluster_config.loader import validate_config
from cluster_config.versions import KUBERNETES_RELEASES
from tests.support import FULL_MATRIX, config_with, default_data, synthesize
from verify.cfn_lint import check_cfn_lint
from verify.manifests import attached_objects, check_schema, check_security

# "<field path>: <message> [<Code>]"; a path is dotted names and indexes, or names a mapping key.
PROBLEM_LINE = re.compile(
    r'^(config|[a-z_]+(\.\w+|\[".*?"\])*( key ".*")?): \S.* \[[A-Z][A-Za-z]+\]$'
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 500)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

FIELDS = [
    ("cluster_name",),
    ("kubernetes_version",),
    ("region",),
    ("account",),
    ("availability_zones",),
    ("vpc_cidr",),
    ("nat_gateways",),
    ("endpoint",),
    ("endpoint", "public_access_cidrs"),
    ("endpoint", "private_access"),
    ("admin_principal_arns",),
    ("tags",),
    ("system_node_group",),
    ("system_node_group", "instance_types"),
    ("system_node_group", "min_size"),
    ("system_node_group", "max_size"),
    ("gpu_pools",),
    ("gpu_pools", 0),
    ("gpu_pools", 0, "name"),
    ("gpu_pools", 0, "availability_zones"),
    ("gpu_pools", 0, "instance_types"),
    ("gpu_pools", 0, "max_size"),
    ("gpu_pools", 0, "gpu_sharing"),
    ("gpu_pools", 0, "on_demand_fallback"),
    ("gpu_root_volume_gib",),
    ("gpu_smoke_test",),
    ("node_ami_release_version",),
    ("unknown_key",),
]


def with_value(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = default_data()
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def outcome(data: dict[str, Any]) -> ClusterConfig | list[str]:
    """The config, or the report's lines (``<field>: <message> [<Code>]``)."""
    try:
        return validate_config(data)
    except ConfigError as error:
        return [str(p) for p in error.problems]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(FIELDS), value=json_values)
def test_any_value_anywhere_is_accepted_or_reported_never_a_crash(
    path: tuple[Any, ...], value: Any
) -> None:
    result = outcome(with_value(path, value))
    if isinstance(result, list):
        assert result, "a ConfigError must name at least one problem"
        for line in result:
            assert PROBLEM_LINE.match(line), line


KNOWN_BAD: list[tuple[str, tuple[Any, ...], Any, tuple[str, str]]] = [
    (
        "min > max",
        ("system_node_group", "min_size"),
        25,
        ("MinSizeAboveMaxSize", "system_node_group.min_size"),
    ),
    ("zero AZs", ("availability_zones",), [], ("WrongLength", "availability_zones")),
    (
        "AZ of another region",
        ("gpu_pools", 0, "availability_zones"),
        ["eu-west-1a"],
        ("PoolZoneNotInCluster", "gpu_pools.0.availability_zones.0"),
    ),
    (
        "non-GPU type in a GPU group",
        ("gpu_pools", 0, "instance_types"),
        ["m5.xlarge"],
        ("InstanceTypeNotSupported", "gpu_pools.0.instance_types.0"),
    ),
    (
        "mixed shapes",
        ("gpu_pools", 0, "instance_types"),
        ["g5.xlarge", "g5.4xlarge"],
        ("InstanceShapesDiffer", "gpu_pools.0.instance_types"),
    ),
    (
        "mixed GPU memory",
        ("gpu_pools", 0, "instance_types"),
        ["g5.xlarge", "g4dn.xlarge"],
        ("GpuShapesDiffer", "gpu_pools.0.instance_types"),
    ),
    (
        "unsupported Kubernetes",
        ("kubernetes_version",),
        "1.29",
        ("KubernetesVersionNotSupported", "kubernetes_version"),
    ),
    ("bad cluster name", ("cluster_name",), "-bad", ("BadFormat", "cluster_name")),
    ("empty string", ("region",), "", ("BadFormat", "region")),
    ("wrong type", ("nat_gateways",), "one", ("WrongType", "nat_gateways")),
    ("unknown key", ("colour",), "blue", ("UnknownKey", "colour")),
    (
        "CIDR as a boolean",
        ("endpoint", "public_access_cidrs"),
        [True],
        ("WrongType", "endpoint.public_access_cidrs.0"),
    ),
]


@pytest.mark.parametrize(
    ("case", "path", "value", "expected"), KNOWN_BAD, ids=[c[0] for c in KNOWN_BAD]
)
def test_inputs_people_get_wrong_fail_with_the_field_named(
    case: str, path: tuple[Any, ...], value: Any, expected: tuple[str, str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(with_value(path, value))
    assert expected in caught.value.codes, caught.value.codes


SHAPES = {  # GPU types by shape and GPU memory, so a group's types always share one
    shape: sorted(
        t
        for t, s in GPU_INSTANCE_TYPES.items()
        if (s.vcpus, s.memory_mib, s.gpus, s.gpu_memory_gb) == shape
    )
    for shape in {
        (s.vcpus, s.memory_mib, s.gpus, s.gpu_memory_gb) for s in GPU_INSTANCE_TYPES.values()
    }
}


@st.composite
def valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    letters = draw(st.lists(st.sampled_from("abcdef"), min_size=2, max_size=4, unique=True))
    zones = [f"us-east-1{letter}" for letter in letters]
    shapes = draw(st.lists(st.sampled_from(sorted(SHAPES)), min_size=1, max_size=2, unique=True))
    pools = []
    for index, shape in enumerate(shapes):
        types = draw(st.lists(st.sampled_from(SHAPES[shape]), min_size=1, max_size=3, unique=True))
        pool_zones = draw(
            st.none()
            | st.lists(st.sampled_from(zones), min_size=1, max_size=len(zones), unique=True)
        )
        pool: dict[str, Any] = {
            "name": f"pool-{index}",
            "instance_types": types,
            "min_size": 0,
            "max_size": draw(st.integers(1, 10)),
        }
        if pool_zones is not None:
            pool["availability_zones"] = pool_zones
        if draw(st.booleans()):
            pool["on_demand_fallback"] = {"max_size": draw(st.integers(1, 3))}
        if draw(st.booleans()):
            pool["gpu_sharing"] = {"replicas": draw(st.integers(2, 8))}
        pools.append(pool)
    return {
        "cluster_name": draw(st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?", fullmatch=True)),
        "kubernetes_version": draw(st.sampled_from(sorted(KUBERNETES_RELEASES))),
        "region": "us-east-1",
        "availability_zones": zones,
        "nat_gateways": draw(st.integers(1, len(zones))),
        "vpc_cidr": draw(st.sampled_from(["10.0.0.0/16", "172.20.0.0/18", "10.8.0.0/20"])),
        "system_node_group": {
            "min_size": draw(st.integers(1, 3)),
            "max_size": draw(st.integers(3, 30)),
        },
        "gpu_pools": pools,
        "gpu_smoke_test": draw(st.booleans()),
    }


@pytest.mark.slow
@settings(
    # Each example is a full synth (~3 s): 2 locally, 5 in CI; SYNTH_EXAMPLES=30 for a longer hunt.
    max_examples=int(os.environ.get("SYNTH_EXAMPLES", "5" if FULL_MATRIX else "2")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(overrides=valid_configs())
def test_every_valid_config_synthesizes_and_passes_the_checks(
    overrides: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    config = config_with(overrides)
    synth = synthesize(config, tmp_path_factory.mktemp("valid"))  # fails on any cdk-nag finding
    lint = check_cfn_lint(sorted(Path(synth.outdir).glob("*.template.json")))
    assert lint.status == "PASS", lint.details
    objects = attached_objects(synth.cluster)
    schema = check_schema(objects, config.kubernetes_version)
    assert schema.status == "PASS", schema.details
    security = check_security(objects)
    assert security.status == "PASS", security.details


# --- AWS and EKS limits (cluster_config/aws_limits.py) ----------------------------------------

TAG_ALPHABET = st.characters(categories=["L", "N", "Zs"]) | st.sampled_from(list("_.:/=+-@"))
# EKS API Reference (CreateNodegroup labels; the same pattern in SageMaker's
# ClusterKubernetesConfig): the label-key pattern AWS documents, used here as the oracle.
AWS_LABEL_KEY = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
)


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(TAG_ALPHABET, min_size=1, max_size=120),
    prefix=st.sampled_from(["aws:", "AWS:", "Aws:"]),
)
def test_tag_key_with_the_reserved_prefix_is_refused_and_without_it_accepted(
    key: str, prefix: str
) -> None:
    assume(not key.strip(" ").lower().startswith("aws:"))
    assert isinstance(outcome(with_value(("tags",), {key.strip(" ") or "k": "v"})), ClusterConfig)
    result = outcome(with_value(("tags",), {prefix + key: "v"}))
    assert isinstance(result, list)
    assert any(line.startswith("tags key ") and line.endswith("[TagKey]") for line in result), (
        result
    )


@settings(max_examples=200, deadline=None)
@given(key=st.text(TAG_ALPHABET, max_size=140), value=st.text(max_size=270))
def test_accepted_tags_meet_aws_tag_rules(key: str, value: str) -> None:
    result = outcome(with_value(("tags",), {key: value}))
    if isinstance(result, ClusterConfig):
        assert 1 <= len(key) <= 128 and len(value) <= 256
        assert not key.lower().startswith("aws:")
    else:
        assert all(line.startswith("tags") for line in result), result


@settings(max_examples=60, deadline=None)
@given(tags=st.integers(0, 60), labels=st.integers(0, 50), shared=st.booleans())
def test_tag_count_leaves_room_for_the_project_tags_on_every_resource(
    tags: int, labels: int, shared: bool
) -> None:
    data = with_value(("tags",), {f"t{i}": "v" for i in range(tags)})
    for pool in data["gpu_pools"]:
        pool["labels"] = {f"l{i}": "v" for i in range(labels)}
        if shared:
            pool["gpu_sharing"] = {"replicas": 2}
    result = outcome(data)
    # node-template tags: 4 labels (5 with time-slicing's config label), taint, 4 resources
    # (nvidia.com/gpu, ephemeral-storage, cpu, memory)
    template = 9 + shared + labels
    on_nodegroup = tags + template
    on_subnet = tags + 4  # Name, aws-cdk:subnet-name/-type, kubernetes.io/role/...
    on_asg = 4 + template  # EKS's 4 ASG tags + node-template tags
    fits = max(on_nodegroup, on_subnet, on_asg) <= 50
    assert isinstance(result, ClusterConfig) == fits, result


@settings(max_examples=100, deadline=None)
@given(
    key=st.text(st.sampled_from("abcXYZ09-_./"), min_size=1, max_size=70),
    value=st.text(st.sampled_from("abZ09-_."), min_size=0, max_size=66),
)
def test_label_rules_match_the_pattern_eks_documents(key: str, value: str) -> None:
    data = default_data()
    for pool in data["gpu_pools"]:
        pool["labels"] = {key: value}
    result = outcome(data)
    key_ok = len(key) <= 63 and AWS_LABEL_KEY.fullmatch(key) is not None
    key_ok = key_ok and len(key.rpartition("/")[2]) <= 63
    value_ok = 1 <= len(value) <= 63 and AWS_LABEL_KEY.fullmatch(value) is not None
    value_ok = value_ok and "/" not in value
    reserved = key in {
        "pool",
        "k8s.amazonaws.com/accelerator",
        "nvidia.com/gpu.present",
        "gpu-memory-gb",
        "nvidia.com/device-plugin.config",
    }
    assert isinstance(result, ClusterConfig) == (key_ok and value_ok and not reserved), result


@settings(max_examples=50, deadline=None)
@given(
    minor=st.sampled_from(sorted(KUBERNETES_RELEASES)),
    release_minor=st.sampled_from(["1.30", *sorted(KUBERNETES_RELEASES), "1.40"]),
    patch=st.integers(0, 20),
    day=st.dates(),
)
def test_ami_release_is_accepted_only_for_the_configured_minor(
    minor: str, release_minor: str, patch: int, day: Any
) -> None:
    release = f"{release_minor}.{patch}-{day:%Y%m%d}"
    data = with_value(("kubernetes_version",), minor)
    data["node_ami_release_version"] = release
    result = outcome(data)
    if release_minor == minor and day.year >= 1000:
        assert isinstance(result, ClusterConfig), result
    else:
        assert isinstance(result, list)
        assert any(
            line.startswith("node_ami_release_version: ")
            and line.endswith(("[AmiReleaseNotForVersion]", "[BadFormat]"))
            for line in result
        ), result


def _in_region(region: str, partition: str) -> dict[str, Any]:
    data = with_value(("region",), region)
    data["availability_zones"] = [f"{region}a", f"{region}b"]
    data["nat_gateways"] = 1
    data["admin_principal_arns"] = [f"arn:{partition}:iam::123456789012:role/Admin"]
    return data


@settings(max_examples=40, deadline=None)
@given(region=st.sampled_from(sorted(REGION_PARTITIONS)))
def test_every_known_region_is_accepted_in_a_supported_partition(region: str) -> None:
    partition = REGION_PARTITIONS[region]
    result = outcome(_in_region(region, partition))
    if partition in SUPPORTED_PARTITIONS:
        assert isinstance(result, ClusterConfig), result
    else:
        assert isinstance(result, list)
        assert any(
            line.startswith("region: ") and line.endswith(("[UnknownRegion]", "[BadFormat]"))
            for line in result
        ), result


@settings(max_examples=60, deadline=None)
@given(region=st.from_regex(r"[a-z]{2}-[a-z]{4,9}-[1-9]", fullmatch=True))
def test_a_region_that_does_not_exist_is_refused_by_name(region: str) -> None:
    result = outcome(_in_region(region, "aws"))
    if region in REGION_PARTITIONS:
        return
    assert isinstance(result, list)
    assert any(
        line.startswith("region: no such AWS region") and line.endswith("[UnknownRegion]")
        for line in result
    ), result
