"""Per-pool launch settings and fast image pull: config rules, the launch templates, the
NodeConfig user data as nodeadm reads it (issue 25)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from aws_rules.nodeadm import fast_image_pull_ignored
from cluster_config import ConfigError
from cluster_config.catalog import GPU_INSTANCE_TYPES
from cluster_config.node_groups import node_group_specs
from tests.conftest import FAST_START_POOL
from tests.support import config_with, default_data, resources
from verify.cfn_lint import lint
from verify.node_user_data import (
    check_node_user_data,
    node_configs,
    nodeconfig_problems,
    user_data_text,
)
from verify.synth import Synthesis, stack_templates


def pools_with(**changes: Any) -> list[dict[str, Any]]:
    return [*default_data()["gpu_pools"], FAST_START_POOL | changes]


def problems_of(pools: list[dict[str, Any]]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        config_with({"gpu_pools": pools})
    return caught.value.codes


def launch_templates(synth: Synthesis) -> dict[str, dict[str, Any]]:
    """Launch templates by the construct ID in their logical ID (``FastLaunchTemplate``)."""
    return {
        key[:-8]: value
        for key, value in resources(synth.cluster, "AWS::EC2::LaunchTemplate").items()
    }


# --- config ---------------------------------------------------------------------------------


def test_an_explicit_throughput_below_what_fast_pull_needs_is_refused() -> None:
    """Catches: a fast-pull pool left on a disk slower than nodeadm's 600 MiB/s guidance."""
    assert problems_of(pools_with(root_volume={"throughput_mibps": 300})) == [
        ("FastPullThroughput", "gpu_pools.1.root_volume.throughput_mibps")
    ]


def test_fast_pull_raises_an_unset_throughput_to_nodeadms_figure() -> None:
    """Catches: fast pull on gp3's 125 MiB/s baseline."""
    specs = node_group_specs(config_with({"gpu_pools": pools_with()}))
    (fast,) = {s.launch for s in specs.gpu if s.pool == "fast"}
    assert (fast.construct_id, fast.throughput_mibps, fast.fast_image_pull) == (
        "FastLaunchTemplate",
        600,
        True,
    )


def test_an_explicit_higher_throughput_is_kept() -> None:
    pools = pools_with(root_volume={"throughput_mibps": 1000, "iops": 4000})
    specs = node_group_specs(config_with({"gpu_pools": pools}))
    assert {s.launch.throughput_mibps for s in specs.gpu if s.pool == "fast"} == {1000}


def test_throughput_above_what_the_iops_allow_is_refused() -> None:
    """Catches: 1000 MiB/s on gp3's default 3000 IOPS, which aws-cdk-lib lets through and EC2
    refuses (at most 0.25 MiB/s per IOPS)."""
    assert problems_of(pools_with(root_volume={"throughput_mibps": 1000})) == [
        ("RootVolumeLimits", "gpu_pools.1.root_volume.throughput_mibps")
    ]


def test_iops_above_500_per_gib_are_refused() -> None:
    volume = {"size_gib": 20, "iops": 12000}
    assert problems_of(pools_with(fast_image_pull=False, root_volume=volume)) == [
        ("RootVolumeLimits", "gpu_pools.1.root_volume.iops")
    ]


def test_gp3_bounds_name_the_field_and_the_limit() -> None:
    problems = problems_of(pools_with(root_volume={"throughput_mibps": 2001, "iops": 80001}))
    assert problems == [
        ("OutOfRange", "gpu_pools.1.root_volume.throughput_mibps"),
        ("OutOfRange", "gpu_pools.1.root_volume.iops"),
    ]


def test_a_type_below_nodeadms_threshold_would_be_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Catches: a gate nodeadm silently ignores (``UseSOCISnapshotter``: 4 cores, 7 GiB)."""
    small = dataclasses.replace(GPU_INSTANCE_TYPES["g6e.xlarge"], vcpus=2)
    monkeypatch.setitem(GPU_INSTANCE_TYPES, "g6e.xlarge", small)
    assert problems_of(pools_with()) == [("FastPullIgnored", "gpu_pools.1.instance_types.0")]


@pytest.mark.parametrize(
    ("vcpus", "memory_mib", "ignored"),
    [(4, 16384, False), (3, 16384, True), (4, 7 * 1024, True), (4, 8192, False)],
)
def test_nodeadms_threshold_uses_the_memory_the_kernel_reports(
    vcpus: int, memory_mib: int, ignored: bool
) -> None:
    """An 8 GiB instance reports about 7.5 GiB (over 7); a 7 GiB one reports less than 7."""
    assert (fast_image_pull_ignored(vcpus, memory_mib) is not None) is ignored


def test_every_accepted_gpu_type_is_above_nodeadms_threshold() -> None:
    assert [
        n for n, s in GPU_INSTANCE_TYPES.items() if fast_image_pull_ignored(s.vcpus, s.memory_mib)
    ] == []


def test_a_pool_without_launch_settings_keeps_the_shared_template_and_its_group_names() -> None:
    """Catches: per-pool templates renaming (so replacing) the groups of existing clusters.
    The names are the ones the default config had before per-pool templates."""
    specs = node_group_specs(config_with())
    assert {s.launch.construct_id for s in specs.gpu} == {"GpuLaunchTemplate"}
    assert [s.physical_name for s in specs.all] == [
        "spot-ng-839a54",
        "gpu-spot-ng-a-bee838",
        "gpu-spot-ng-b-40f3fd",
        "gpu-spot-ng-c-a57b80",
    ]


def test_moving_a_pool_to_its_own_template_renames_its_groups() -> None:
    """EKS cannot change a group's launch template ID, so the group must be replaced."""
    pools = default_data()["gpu_pools"]
    pools[0]["root_volume"] = {"size_gib": 100}
    renamed = node_group_specs(config_with({"gpu_pools": pools}))
    before = node_group_specs(config_with())
    assert [s.physical_name for s in renamed.gpu] != [s.physical_name for s in before.gpu]
    assert renamed.system.physical_name == before.system.physical_name


# --- synthesized templates ------------------------------------------------------------------


def test_the_fast_pools_template_has_the_gate_and_the_throughput(
    fast_start_synth: Synthesis,
) -> None:
    templates = launch_templates(fast_start_synth)
    data = templates["FastLaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["BlockDeviceMappings"][0]["Ebs"]["Throughput"] == 600
    (config,) = node_configs(user_data_text(templates["FastLaunchTemplate"]) or "")
    assert config["spec"]["featureGates"] == {"FastImagePull": True}
    fast_groups = {
        p["LaunchTemplate"]["Id"]["Ref"]
        for p in resources(fast_start_synth.cluster, "AWS::EKS::Nodegroup").values()
        if p["Properties"]["NodegroupName"].startswith("fast-")
        for p in [p["Properties"]]
    }
    assert fast_groups == {
        next(
            k
            for k in resources(fast_start_synth.cluster, "AWS::EC2::LaunchTemplate")
            if k.startswith("FastLaunchTemplate")
        )
    }


def test_the_shared_gpu_template_is_unchanged_by_another_pools_settings(
    default_synth: Synthesis, fast_start_synth: Synthesis
) -> None:
    """Catches: one pool's launch settings leaking into the template other pools use."""
    before = launch_templates(default_synth)["GpuLaunchTemplate"]["Properties"]
    after = launch_templates(fast_start_synth)["GpuLaunchTemplate"]["Properties"]
    strip = json.dumps(before).replace("gpu-spot-cluster/", "")
    assert json.loads(strip) == json.loads(json.dumps(after).replace("gpu-spot-cluster/", ""))
    assert "UserData" not in after["LaunchTemplateData"]


def test_user_data_parses_as_the_multipart_message_nodeadm_reads(
    fast_start_synth: Synthesis,
) -> None:
    result = check_node_user_data(fast_start_synth.templates)
    assert (result.status, result.summary) == (
        "PASS",
        "1 NodeConfig part(s): MIME multi-part, nodeadm's schema; FastImagePull in 1",
    )


def test_user_data_that_is_not_multipart_fails_the_check(fast_start_synth: Synthesis) -> None:
    """Catches: a NodeConfig written as plain YAML or with a broken MIME header."""
    broken = json.loads(json.dumps(fast_start_synth.templates))
    for resource in broken[fast_start_synth.stacks.cluster.stack_name]["Resources"].values():
        data = resource.get("Properties", {}).get("LaunchTemplateData", {})
        if "UserData" in data:
            text = data["UserData"]["Fn::Base64"]
            data["UserData"]["Fn::Base64"] = text.replace("multipart/mixed", "text/plain")
    result = check_node_user_data(broken)
    assert result.status == "FAIL"
    assert "not a MIME multi-part message (Content-Type text/plain)" in result.details[0]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {
                "apiVersion": "node.eks.aws/v1alpha1",
                "kind": "NodeConfig",
                "spec": {"featureGates": {"FastImagePull": "yes"}},
            },
            "spec.featureGates.FastImagePull: 'yes' is not of type 'boolean'",
        ),
        (
            {
                "apiVersion": "node.eks.aws/v1alpha1",
                "kind": "NodeConfig",
                "spec": {"featureGates": {"FastPull": True}},
            },
            "spec.featureGates.FastPull: not a nodeadm feature gate; known: "
            "InstanceIdNodeName, FastImagePull",
        ),
        (
            {"apiVersion": "node.eks.aws/v1", "kind": "NodeConfig", "spec": {}},
            "apiVersion: 'node.eks.aws/v1', not node.eks.aws/v1alpha1",
        ),
    ],
)
def test_nodeconfig_schema_rejects_what_nodeadm_would(
    document: dict[str, Any], problem: str
) -> None:
    assert problem in nodeconfig_problems(document)


def test_cfn_lint_passes_the_fast_pools_template(fast_start_synth: Synthesis) -> None:
    templates = list(stack_templates(Path(fast_start_synth.outdir)).values())
    assert lint(templates) == []
