"""Config changes users make day to day must not resize node groups behind the autoscaler."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from charts import build_charts
from cluster_config.node_groups import node_group_specs
from cluster_config.nodegroup_names import ADDED_DEFAULTS, DIGESTED, NOT_DIGESTED
from stacks import new_app
from stacks.cluster_stack import ClusterStack
from stacks.network_stack import NetworkStack
from tests.support import config_with, default_data, nodegroups_by_name, synthesize
from verify.disruption import check_disruption
from verify.replacement import create_only_properties
from verify.synth import Synthesis, feature_flags


@pytest.fixture(scope="module")
def resized(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    data = default_data()
    data["system_node_group"].update(min_size=3, max_size=30)
    data["gpu_pools"][0]["max_size"] = 8
    return synthesize(config_with(data), tmp_path_factory.mktemp("resized"))


def scaling(synth: Synthesis) -> dict[str, dict[str, Any]]:
    return {name: g["ScalingConfig"] for name, g in nodegroups_by_name(synth.cluster).items()}


def test_template_desired_size_never_changes_with_min_or_max(
    default_synth: Synthesis, resized: Synthesis
) -> None:
    before, after = scaling(default_synth), scaling(resized)
    assert after["spot-ng"]["MinSize"] == 3 and after["gpu-spot-ng-a"]["MaxSize"] == 8
    for name in before:
        assert after[name]["DesiredSize"] == before[name]["DesiredSize"], name
        assert set(after[name]["DesiredSize"]) == {"Fn::GetAtt"}, name


def test_the_guard_reruns_when_the_bounds_change(
    default_synth: Synthesis, resized: Synthesis
) -> None:
    """A changed guard property makes CloudFormation update it, so it re-reads the live size."""

    def guard(synth: Synthesis, logical_id: str) -> dict[str, Any]:
        props: dict[str, Any] = synth.cluster["Resources"][logical_id]["Properties"]
        return props

    for name, group in nodegroups_by_name(default_synth.cluster).items():
        logical_id = group["ScalingConfig"]["DesiredSize"]["Fn::GetAtt"][0]
        old, new = guard(default_synth, logical_id), guard(resized, logical_id)
        assert (old["MinSize"], old["MaxSize"]) != (new["MinSize"], new["MaxSize"]), name


def test_guard_fingerprint_changes_with_anything_else_that_updates_the_group(
    default_synth: Synthesis, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = default_data()
    data["gpu_pools"][0]["labels"] = {"team": "vision"}
    relabelled = synthesize(config_with(data), tmp_path_factory.mktemp("relabelled"))
    logical_id = nodegroups_by_name(default_synth.cluster)["gpu-spot-ng-a"]["ScalingConfig"][
        "DesiredSize"
    ]["Fn::GetAtt"][0]
    before = default_synth.cluster["Resources"][logical_id]["Properties"]["Fingerprint"]
    after = relabelled.cluster["Resources"][logical_id]["Properties"]["Fingerprint"]
    assert before != after


def test_changing_a_pools_instance_types_renames_only_its_groups(
    default_synth: Synthesis, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """EKS replaces a group to change its types; a new name lets CloudFormation do that."""
    data = default_data()
    data["gpu_pools"][0]["instance_types"] = ["g6.xlarge", "g5.xlarge"]
    changed = synthesize(config_with(data), tmp_path_factory.mktemp("types"))
    before = {n: g["NodegroupName"] for n, g in nodegroups_by_name(default_synth.cluster).items()}
    after = {n: g["NodegroupName"] for n, g in nodegroups_by_name(changed.cluster).items()}
    pool = ("gpu-spot-ng-a", "gpu-spot-ng-b", "gpu-spot-ng-c")
    assert all(before[n] != after[n] for n in pool)
    assert {n: v for n, v in before.items() if n not in pool} == {
        n: v for n, v in after.items() if n not in pool
    }


def test_resizing_keeps_every_node_group_name(default_synth: Synthesis, resized: Synthesis) -> None:
    def names(synth: Synthesis) -> list[str]:
        return sorted(g["NodegroupName"] for g in nodegroups_by_name(synth.cluster).values())

    assert names(default_synth) == names(resized)


# --- Names follow every create-only property ---------------------------------------------------

DEPLOYED_NAMES = {
    "spot-ng-839a54",
    "gpu-spot-ng-a-bee838",
    "gpu-spot-ng-b-40f3fd",
    "gpu-spot-ng-c-a57b80",
}
"""The default config's node group names as every release so far deployed them."""


def test_the_name_covers_every_create_only_property_in_cfn_lints_schema() -> None:
    """Catches a create-only property (today's or one a cfn-lint upgrade adds) that the name
    does not follow: replacing the group for it would fail on the taken name."""
    covered = {*DIGESTED, *ADDED_DEFAULTS, *NOT_DIGESTED}
    assert covered == set(create_only_properties("AWS::EKS::Nodegroup", "us-west-2"))


def test_default_node_group_names_stay_those_already_deployed(default_synth: Synthesis) -> None:
    """A changed name replaces the group: an upgrade of this project must not rename any."""
    names = {g["NodegroupName"] for g in nodegroups_by_name(default_synth.cluster).values()}
    assert names == DEPLOYED_NAMES


def test_setting_disk_size_renames_the_group() -> None:
    spec = node_group_specs(config_with()).gpu[0]
    assert replace(spec, disk_size=200).physical_name != spec.physical_name


def test_moving_groups_to_another_node_role_renames_them_so_they_replace_cleanly(
    default_synth: Synthesis,
) -> None:
    """NodeRole is create-only and was outside the old digest: the GPU groups would have been
    replaced under their old names, which CloudFormation refuses."""
    config = config_with()
    specs = node_group_specs(config)
    moved = replace(specs, gpu=tuple(replace(s, node_role_id="GpuNodeRole") for s in specs.gpu))
    app = new_app(context=feature_flags())
    env = cdk.Environment(region=config.region)
    network = NetworkStack(app, "gpu-spot-network", config=config, env=env)
    cluster = ClusterStack(
        app,
        "gpu-spot-cluster",
        config=config,
        node_groups=moved,
        vpc=network.vpc,
        charts=build_charts(config, moved),
        env=env,
    )
    new = {
        "gpu-spot-network": Template.from_stack(network).to_json(),
        "gpu-spot-cluster": Template.from_stack(cluster).to_json(),
    }
    result = check_disruption(default_synth.templates, new, "us-west-2", allow_disruption=True)
    assert result.status == "WARN", result.details
    replaced = [d for d in result.details if "(NodeRole changed)" in d]
    assert len(replaced) == 3, result.details
    assert all(" is replaced by gpu-spot-ng-" in d for d in replaced)
