"""Capacity strategy: on-demand fallback, GPU time-slicing, scale-down tuning, node health (the
cost line: tests/test_cost.py).

Config rules, chart objects, synthesized stacks and the verify lines, one behaviour per test.
The priority rules are checked the way the autoscaler applies them
(``expander/priority/priority.go``: a regex matches when it is found anywhere in the ASG name).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdk8s import Testing as Cdk8sTesting

from cluster_config import ConfigError
from cluster_config.loader import merge_override, validate_config
from cluster_config.node_groups import NodeGroupSpecs, node_group_specs
from cluster_config.nodegroup_names import asg_name_pattern
from tests.support import (
    charts_for,
    config_with,
    default_data,
    nodegroups_by_name,
    resources,
    synthesize,
)
from verify.manifests import attached_objects
from verify.synth import Synthesis

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "capacity-strategy.yaml"
UUID = "1ac5c8f2-1c4e-4f0a-9f71-0b7f1c2d3e4f"


def example_config() -> Any:
    return validate_config(merge_override(default_data(), yaml.safe_load(EXAMPLE.read_text())))


def problems(overrides: dict[str, Any]) -> list[tuple[str, str]]:
    """(code, field) of each problem."""
    with pytest.raises(ConfigError) as error:
        config_with(overrides)
    return error.value.codes


def gpu_pool(**fields: Any) -> dict[str, Any]:
    pool = default_data()["gpu_pools"][0]
    pool.update(fields)
    return pool


def specs(config: Any) -> NodeGroupSpecs:
    return node_group_specs(config)


def charts_of(config: Any) -> Any:
    return charts_for(config)


@pytest.fixture(scope="module")
def example_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return synthesize(example_config(), tmp_path_factory.mktemp("capacity"))


# --- 1. on-demand fallback -------------------------------------------------------------------


def chosen(priorities: dict[int, list[str]], asg_names: list[str]) -> list[str]:
    """priority.go BestOption: the options of the highest priority any of their regexes match."""
    best: dict[int, list[str]] = {}
    for name in asg_names:
        matched = [p for p, res in priorities.items() if any(re.search(r, name) for r in res)]
        assert len(matched) == 1, f"{name} matches priorities {matched}"
        best.setdefault(matched[0], []).append(name)
    return best[max(best)]


def test_default_config_has_no_priority_expander() -> None:
    config = config_with()
    assert specs(config).expander_priorities == {}
    charts = charts_of(config)
    assert "--expander=least-waste" in charts.autoscaler.args
    kinds = [o["kind"] for o in Cdk8sTesting.synth(charts.autoscaler)]
    assert "ConfigMap" not in kinds


def test_spot_groups_are_tried_before_on_demand_ones() -> None:
    groups = specs(example_config())
    asgs = {s.name: f"eks-{s.physical_name}-{UUID}" for s in groups.all}
    priorities = groups.expander_priorities
    pool = [asgs[s.name] for s in groups.pools["gpu-spot"]]
    assert chosen(priorities, pool) == [asgs["gpu-spot-a"], asgs["gpu-spot-b"]]
    # spot out of capacity (backed off, no longer an option): the fallback is chosen
    fallback = [asgs["gpu-spot-od-a"], asgs["gpu-spot-od-b"]]
    assert chosen(priorities, fallback) == fallback
    # an unselected GPU pod: every pool's spot groups come first
    assert chosen(priorities, list(asgs.values())) == [
        asgs["spot-ng"],
        asgs["gpu-spot-a"],
        asgs["gpu-spot-b"],
    ]
    # the system group matches a priority too, else the expander would never use it
    assert chosen(priorities, [asgs["spot-ng"]]) == [asgs["spot-ng"]]


def test_asg_pattern_matches_only_its_own_group() -> None:
    pattern = asg_name_pattern("gpu-abc123")
    assert re.search(pattern, f"eks-gpu-abc123-{UUID}")
    assert not re.search(pattern, f"eks-gpu-abc123-x-def456-{UUID}")
    assert not re.search(pattern, f"eks-xgpu-abc123-{UUID}")
    assert not re.search(pattern, "eks-gpu-abc123-")


def test_priority_config_map_holds_the_priorities_as_the_autoscaler_parses_them() -> None:
    """Catches: a regex that is not anchored (``gpu-a`` would also pick ``gpu-a-x``'s ASG), a
    group left out or given the other capacity type's priority."""
    config = example_config()
    charts = charts_of(config)
    assert "--expander=priority,least-waste" in charts.autoscaler.args
    (config_map,) = [o for o in Cdk8sTesting.synth(charts.autoscaler) if o["kind"] == "ConfigMap"]
    assert config_map["metadata"] == {
        "name": "cluster-autoscaler-priority-expander",
        "namespace": "kube-system",
        "labels": {"app": "cluster-autoscaler"},
    }
    # Written out, not read back from the spec the chart is built from: spot groups (the system
    # group's too) at 20, on-demand at 10, each regex anchored on EKS's ASG name
    # ``eks-<node group name>-<UUID>`` (the names are the example's deployed ones).
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert yaml.safe_load(config_map["data"]["priorities"]) == {
        20: [
            f"^eks-{name}-{uuid}$"
            for name in ("spot-ng-839a54", "gpu-spot-a-bee838", "gpu-spot-b-40f3fd")
        ],
        10: [
            f"^eks-{name}-{uuid}$"
            for name in ("gpu-spot-od-a-0559f2", "gpu-spot-od-b-08db09", "gpu-dev-a-77dec8")
        ],
    }


def test_on_demand_groups_are_balanced_apart_from_spot_ones() -> None:
    config = example_config()
    assert specs(config).balancing_labels == ("pool", "eks.amazonaws.com/capacityType")
    args = charts_of(config).autoscaler.args
    assert [a for a in args if a.startswith("--balancing")] == [
        "--balancing-label=pool",
        "--balancing-label=eks.amazonaws.com/capacityType",
    ]


def test_synthesized_names_are_the_ones_the_priorities_match(example_synth: Synthesis) -> None:
    """Catches: priority regexes built from other names than the ones the stack deploys (the
    autoscaler never uses a group no regex matches). Both sides are read from the synthesized
    template, the NodegroupNames and the attached ConfigMap, not from the spec that makes both;
    ``chosen`` applies them as priority.go does."""
    (config_map,) = [
        o
        for o in attached_objects(example_synth.cluster)
        if o["metadata"]["name"] == "cluster-autoscaler-priority-expander"
    ]
    priorities = yaml.safe_load(config_map["data"]["priorities"])
    asgs = {
        f"eks-{p['NodegroupName']}-{UUID}": p["CapacityType"]
        for p in nodegroups_by_name(example_synth.cluster).values()
    }
    spot = sorted(a for a, c in asgs.items() if c == "SPOT")
    on_demand = sorted(a for a, c in asgs.items() if c == "ON_DEMAND")
    # system and gpu-spot-a/b on spot; gpu-spot-od-a/b and gpu-dev-a on demand
    assert (len(spot), len(on_demand)) == (3, 3)
    assert sorted(chosen(priorities, list(asgs))) == spot
    assert sorted(chosen(priorities, on_demand)) == on_demand


def test_capacity_type_must_be_spot_or_on_demand() -> None:
    assert problems({"gpu_pools": [gpu_pool(capacity_type="RESERVED")]}) == [
        ("NotAllowed", "gpu_pools.0.capacity_type")
    ]


# --- 2. GPU time-slicing ---------------------------------------------------------------------


def test_time_slicing_advertises_gpus_times_replicas_in_the_template_tag(
    example_synth: Synthesis,
) -> None:
    advertised = {
        s.name: s.node_template_resources["nvidia.com/gpu"] for s in specs(example_config()).gpu
    }
    assert advertised == {
        "gpu-spot-a": "4",
        "gpu-spot-b": "4",
        "gpu-spot-od-a": "4",
        "gpu-spot-od-b": "4",
        "gpu-dev-a": "2",
    }
    tags = [
        r["Properties"]["Tags"]
        for r in resources(example_synth.cluster, "Custom::AsgNodeTemplateTags").values()
    ]
    gpu_tag = "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"
    label_tag = "k8s.io/cluster-autoscaler/node-template/label/nvidia.com/device-plugin.config"
    values = sorted((t[gpu_tag], t[label_tag]) for t in tags)
    assert values == [("2", "time-slicing-2"), *[("4", "time-slicing-4")] * 4]


def test_multi_gpu_type_multiplies_physical_gpus() -> None:
    config = config_with(
        {"gpu_pools": [gpu_pool(instance_types=["g5.12xlarge"], gpu_sharing={"replicas": 3})]}
    )
    assert {s.node_template_resources["nvidia.com/gpu"] for s in specs(config).gpu} == {"12"}


def test_device_plugin_config_is_upstreams_time_slicing_document() -> None:
    assert specs(example_config()).device_plugin_configs["time-slicing-4"] == {
        "version": "v1",
        "sharing": {
            "timeSlicing": {
                "failRequestsGreaterThanOne": True,
                "resources": [{"name": "nvidia.com/gpu", "devices": "all", "replicas": 4}],
            }
        },
    }


def test_each_sharing_config_gets_a_device_plugin_selected_by_the_node_label() -> None:
    objs = Cdk8sTesting.synth(charts_of(example_config()).device_plugin)
    daemon_sets = {o["metadata"]["name"]: o for o in objs if o["kind"] == "DaemonSet"}
    assert set(daemon_sets) == {
        "nvidia-device-plugin-daemonset",
        "nvidia-device-plugin-time-slicing-2",
        "nvidia-device-plugin-time-slicing-4",
    }

    def config_expression(name: str) -> dict[str, Any]:
        pod = daemon_sets[name]["spec"]["template"]["spec"]
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        expression: dict[str, Any] = terms["nodeSelectorTerms"][0]["matchExpressions"][-1]
        return expression

    assert config_expression("nvidia-device-plugin-daemonset") == {
        "key": "nvidia.com/device-plugin.config",
        "operator": "NotIn",
        "values": ["time-slicing-2", "time-slicing-4"],
    }
    assert config_expression("nvidia-device-plugin-time-slicing-4")["values"] == ["time-slicing-4"]
    container = daemon_sets["nvidia-device-plugin-time-slicing-4"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert {"name": "CONFIG_FILE", "value": "/etc/nvidia-device-plugin/time-slicing-4"} in (
        container["env"]
    )
    selectors = {
        tuple(sorted(d["spec"]["selector"]["matchLabels"].items())) for d in daemon_sets.values()
    }
    assert len(selectors) == 3  # no DaemonSet adopts another's pods
    (config_map,) = [o for o in objs if o["kind"] == "ConfigMap"]
    assert (
        yaml.safe_load(config_map["data"]["time-slicing-2"])["sharing"]["timeSlicing"]["resources"][
            0
        ]["replicas"]
        == 2
    )


def test_default_device_plugin_has_no_sharing_objects() -> None:
    kinds = [o["kind"] for o in Cdk8sTesting.synth(charts_of(config_with()).device_plugin)]
    assert kinds == ["DaemonSet", "NetworkPolicy"]  # no ConfigMap, no time-slicing copies


@pytest.mark.parametrize(
    ("sharing", "expected"),
    [
        ({"replicas": 1}, ("OutOfRange", "gpu_sharing.replicas")),
        ({"replicas": 33}, ("OutOfRange", "gpu_sharing.replicas")),
        ({"replicas": 4, "strategy": "mps"}, ("SharingStrategy", "gpu_sharing.strategy")),
        (
            {"replicas": 4, "rename_by_default": True},
            ("SharingRename", "gpu_sharing.rename_by_default"),
        ),
        ({"replicas": 4, "mig": True}, ("UnknownKey", "gpu_sharing.mig")),
    ],
)
def test_unsupported_sharing_is_refused(sharing: dict[str, Any], expected: tuple[str, str]) -> None:
    code, field = expected
    assert problems({"gpu_pools": [gpu_pool(gpu_sharing=sharing)]}) == [
        (code, f"gpu_pools.0.{field}")
    ]


def test_top_level_gpu_sharing_is_gone_it_is_per_pool() -> None:
    assert problems({"gpu_sharing": {"replicas": 2}}) == [("MovedKey", "gpu_sharing")]


def test_sharing_label_is_reserved() -> None:
    found = problems({"gpu_pools": [gpu_pool(labels={"nvidia.com/device-plugin.config": "x"})]})
    assert found == [("ReservedLabel", "gpu_pools.0.labels")]


def test_only_a_sharing_pool_carries_the_sharing_label() -> None:
    """Pools are told apart by ``pool``, so a plain pool needs no ``none`` value any more."""
    config = config_with(
        {
            "gpu_pools": [
                gpu_pool(name="plain"),
                gpu_pool(name="shared", gpu_sharing={"replicas": 2}),
            ]
        }
    )
    labels = {s.name: s.labels.get("nvidia.com/device-plugin.config") for s in specs(config).gpu}
    assert labels == {
        "plain-a": None,
        "plain-b": None,
        "plain-c": None,
        "shared-a": "time-slicing-2",
        "shared-b": "time-slicing-2",
        "shared-c": "time-slicing-2",
    }


def test_pools_sharing_differently_are_told_apart_by_the_pool_label() -> None:
    config = config_with(
        {"gpu_pools": [gpu_pool(name="a"), gpu_pool(name="b", gpu_sharing={"replicas": 4})]}
    )
    assert specs(config).balancing_labels == ("pool",)
    assert {s.labels["pool"] for s in specs(config).gpu} == {"a", "b"}


# --- 3. scale-down tuning --------------------------------------------------------------------


def test_scale_down_flags_follow_the_config() -> None:
    args = charts_of(example_config()).autoscaler.args
    assert "--scale-down-unneeded-time=3m" in args
    assert "--scale-down-delay-after-add=5m" in args
    assert "--max-node-provision-time=12m" in args
    assert "--scale-down-gpu-utilization-threshold=0.5" in args


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scale_down_unneeded_minutes", 0),
        ("max_node_provision_minutes", 2),
        ("scale_down_gpu_utilization_threshold", 1.5),
        ("scale_down_utilization_threshold", 0),
    ],
)
def test_scale_down_bounds(field: str, value: float) -> None:
    assert problems({"autoscaler": {field: value}}) == [("OutOfRange", f"autoscaler.{field}")]


# --- 4. node health --------------------------------------------------------------------------


def test_node_repair_and_monitoring_agent_are_on_by_default(default_synth: Synthesis) -> None:
    groups = nodegroups_by_name(default_synth.cluster)
    assert {n: g.get("NodeRepairConfig") for n, g in groups.items()} == {
        n: {"Enabled": True} for n in groups
    }
    addons = [
        r["Properties"]["AddonName"]
        for r in resources(default_synth.cluster, "AWS::EKS::Addon").values()
    ]
    assert "eks-node-monitoring-agent" in addons


def test_node_health_can_be_switched_off(tmp_path: Path) -> None:
    synth = synthesize(
        config_with({"node_auto_repair": False, "node_monitoring_agent": False}), tmp_path
    )
    assert all("NodeRepairConfig" not in g for g in nodegroups_by_name(synth.cluster).values())
    addons = [
        r["Properties"]["AddonName"] for r in resources(synth.cluster, "AWS::EKS::Addon").values()
    ]
    assert "eks-node-monitoring-agent" not in addons


# --- verify lines, read from the synthesized output ------------------------------------------


def capacity_lines(synth: Synthesis, template: dict[str, Any] | None = None) -> dict[str, Any]:
    from verify.capacity import check_capacity

    if template is not None:
        synth = dataclasses.replace(
            synth, templates={**synth.templates, synth_key(synth): template}
        )
    return {r.name: r for r in check_capacity(synth)}


def synth_key(synth: Synthesis) -> str:
    return f"{synth.config.cluster_name}-cluster"


def with_manifest_edit(synth: Synthesis, edit: Any) -> dict[str, Any]:
    """A copy of the cluster template whose attached manifests went through ``edit``."""
    template = copy.deepcopy(synth.cluster)
    for resource in template["Resources"].values():
        if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
            objects = json.loads(resource["Properties"]["Manifest"])
            resource["Properties"]["Manifest"] = json.dumps(edit(objects))
    return template


def test_verify_lines_pass_on_the_example(example_synth: Synthesis) -> None:
    lines = capacity_lines(example_synth)
    assert {n: r.status for n, r in lines.items()} == {
        "priority": "PASS",
        "gpu-sharing": "PASS",
        "scale-down": "PASS",
        "node-health": "PASS",
    }
    assert "spot GPU groups first" in lines["priority"].summary
    assert "5 of 5 GPU groups time-sliced" in lines["gpu-sharing"].summary


def test_verify_lines_on_the_default_config(default_synth: Synthesis) -> None:
    lines = capacity_lines(default_synth)
    assert lines["priority"].summary.startswith("--expander=least-waste")
    assert lines["gpu-sharing"].summary.startswith("0 of 3 GPU groups time-sliced")
    assert "after 5m" in lines["scale-down"].summary
    assert lines["node-health"].summary == (
        "auto repair on 4 of 4 node groups; node monitoring agent installed"
    )


def test_priority_line_fails_when_on_demand_ranks_with_spot(example_synth: Synthesis) -> None:
    def flatten(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for obj in objects:
            if obj["metadata"]["name"] == "cluster-autoscaler-priority-expander":
                merged = [
                    r for rs in yaml.safe_load(obj["data"]["priorities"]).values() for r in rs
                ]
                obj["data"]["priorities"] = yaml.safe_dump({10: merged})
        return objects

    line = capacity_lines(example_synth, with_manifest_edit(example_synth, flatten))["priority"]
    assert line.failed
    assert "as high as a spot group" in line.details[0]


def test_priority_line_fails_without_the_config_map(example_synth: Synthesis) -> None:
    """Catches: --expander=priority deployed without its ConfigMap (the autoscaler then scales
    nothing up); the line must say that, not fail for some other reason."""

    def drop(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            o for o in objects if o["metadata"]["name"] != "cluster-autoscaler-priority-expander"
        ]

    line = capacity_lines(example_synth, with_manifest_edit(example_synth, drop))["priority"]
    assert (line.status, line.summary) == (
        "FAIL",
        "--expander=priority without its ConfigMap: no scale-up",
    )


def test_node_health_line_fails_when_a_group_lacks_repair(example_synth: Synthesis) -> None:
    """Catches: a group deployed without auto repair although the config asks for it. The
    example has 6 groups (system, gpu-spot-a/b, gpu-spot-od-a/b, gpu-dev-a) and no monitoring
    agent (node_monitoring_agent: false), so only the repair count can fail the line."""
    template = copy.deepcopy(example_synth.cluster)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::EKS::Nodegroup":
            resource["Properties"].pop("NodeRepairConfig")
            break
    line = capacity_lines(example_synth, template)["node-health"]
    assert (line.status, line.summary) == (
        "FAIL",
        "auto repair on 5 of 6 node groups; node monitoring agent off (config says otherwise)",
    )


def test_sharing_line_fails_when_the_template_counts_physical_gpus(
    example_synth: Synthesis,
) -> None:
    template = copy.deepcopy(example_synth.cluster)
    for resource in template["Resources"].values():
        if resource["Type"] == "Custom::AsgNodeTemplateTags":
            resource["Properties"]["Tags"][
                "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"
            ] = "1"
    line = capacity_lines(example_synth, template)["gpu-sharing"]
    assert line.failed
    assert "the plugin will offer 1 x 4 = 4" in " ".join(line.details)


def test_sharing_line_fails_when_no_device_plugin_serves_the_label(
    example_synth: Synthesis,
) -> None:
    def drop(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            o for o in objects if o["metadata"]["name"] != "nvidia-device-plugin-time-slicing-2"
        ]

    line = capacity_lines(example_synth, with_manifest_edit(example_synth, drop))["gpu-sharing"]
    assert line.failed
    assert "selects no device plugin" in " ".join(line.details)


@pytest.mark.slow
def test_turning_on_sharing_and_switching_node_health_off_only_removes_the_agent(
    default_synth: Synthesis, tmp_path: Path
) -> None:
    from verify.replacement import check_replacement

    changed = synthesize(
        config_with(
            {
                "gpu_pools": [gpu_pool(gpu_sharing={"replicas": 4})],
                "node_auto_repair": False,
                "node_monitoring_agent": False,
            }
        ),
        tmp_path,
    )
    result = check_replacement(default_synth.templates, changed.templates, "us-west-2")
    assert (result.status, result.details) == (
        "WARN",
        [
            "gpu-spot-cluster/NodeMonitoringAgent5B5937C6 (AWS::EKS::Addon) is removed: "
            "CloudFormation deletes it: EKS deletes the add-on and its pods"
        ],
    )


@pytest.mark.slow
def test_adding_an_on_demand_fallback_replaces_no_group(
    default_synth: Synthesis, tmp_path: Path
) -> None:
    """The fallback's groups are new; the pool's spot groups keep their IDs and names."""
    from verify.replacement import compare

    pool = gpu_pool(on_demand_fallback={"max_size": 1})
    changed = synthesize(config_with({"gpu_pools": [pool]}), tmp_path)
    _, changes = compare(default_synth.templates, changed.templates, "us-west-2")
    assert not [c for c in changes if c.logical_id.startswith("GpuSpotNg")], changes
    new = nodegroups_by_name(changed.cluster)
    assert {n for n in new if "-od-" in n} == {
        "gpu-spot-ng-od-a",
        "gpu-spot-ng-od-b",
        "gpu-spot-ng-od-c",
    }
