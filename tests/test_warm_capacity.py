"""Warm GPU capacity (``gpu_pools[].warm_nodes``): config rules, the CapacityBuffer or pause-pod
manifests per autoscaler release, the autoscaler's flags and RBAC, verify's model of the
buffer's pods and the cost line (issue 25)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from charts import build_charts
from cluster_config import ConfigError
from cluster_config.node_groups import node_group_specs
from tests.conftest import FAST_START_POOL
from tests.support import config_with, default_data
from verify.autoscaler.check import simulate
from verify.manifests import attached_objects, check_schema
from verify.pricing import InstancePrices, estimate
from verify.quota_needs import quota_needs
from verify.synth import Synthesis


def warm_config(version: str = "1.36", **pool: Any) -> Any:
    pools = [*default_data()["gpu_pools"], FAST_START_POOL | pool]
    return config_with({"kubernetes_version": version, "gpu_pools": pools})


def chart_objects(config: Any) -> dict[str, list[dict[str, Any]]]:
    charts = build_charts(config, node_group_specs(config))
    return {name: chart.to_json() for name, chart in charts.by_file_name().items()}


def kinds(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['apiVersion']} {o['kind']}" for o in objects]


def autoscaler_command(objects: dict[str, list[dict[str, Any]]]) -> list[str]:
    (deployment,) = [o for o in objects["cluster-autoscaler"] if o["kind"] == "Deployment"]
    command: list[str] = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    return command


# --- config ---------------------------------------------------------------------------------


def test_more_warm_nodes_than_the_pool_can_have_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        warm_config(warm_nodes=7)
    assert caught.value.codes == [("WarmNodesAboveMax", "gpu_pools.1.warm_nodes")]
    assert "max_size 2 x 3 zones" in caught.value.problems[0].message


def test_pause_pods_on_a_time_sliced_pool_that_refuses_them_are_refused() -> None:
    """Catches: pause pods asking for every replica, which the device plugin refuses."""
    with pytest.raises(ConfigError) as caught:
        warm_config("1.33", gpu_sharing={"replicas": 4})
    assert caught.value.codes == [("WarmNodesSharing", "gpu_pools.1.warm_nodes")]


# --- manifests per autoscaler release -------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "api", "dry_run_flag"),
    [("1.34", "v1alpha1", False), ("1.35", "v1beta1", False), ("1.36", "v1beta1", True)],
)
def test_a_capacity_buffer_where_the_autoscaler_has_one(
    version: str, api: str, dry_run_flag: bool
) -> None:
    objects = chart_objects(warm_config(version))
    assert kinds(objects["gpu-warm-capacity"]) == [
        "v1 Namespace",
        "networking.k8s.io/v1 NetworkPolicy",
        "v1 PodTemplate",
        f"autoscaling.x-k8s.io/{api} CapacityBuffer",
    ]
    buffer = objects["gpu-warm-capacity"][3]
    assert buffer["spec"] == {"podTemplateRef": {"name": "warm-fast"}, "replicas": 1}
    command = autoscaler_command(objects)
    for flag in (
        "--capacity-buffer-controller-enabled=true",
        "--capacity-buffer-pod-injection-enabled=true",
        "--kube-api-content-type=application/json",
    ):
        assert flag in command
    assert ("--capacity-buffer-pod-dry-run-enabled=false" in command) is dry_run_flag
    crds = [o for o in objects["cluster-autoscaler"] if o["kind"] == "CustomResourceDefinition"]
    assert [c["metadata"]["name"] for c in crds] == ["capacitybuffers.autoscaling.x-k8s.io"]
    assert api in [v["name"] for v in crds[0]["spec"]["versions"] if v["served"]]


def test_the_faq_pause_pods_where_the_autoscaler_has_no_buffer_api() -> None:
    objects = chart_objects(warm_config("1.33"))
    assert kinds(objects["gpu-warm-capacity"]) == [
        "v1 Namespace",
        "networking.k8s.io/v1 NetworkPolicy",
        "scheduling.k8s.io/v1 PriorityClass",
        "apps/v1 Deployment",
    ]
    policy, priority, deployment = objects["gpu-warm-capacity"][1:]
    # The namespace's pods (the pause pods) talk to nothing: default deny, both ways.
    assert policy["metadata"]["namespace"] == deployment["metadata"]["namespace"]
    assert policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert priority["value"] == -10
    assert deployment["spec"]["replicas"] == 1
    assert not any("capacity-buffer" in a for a in autoscaler_command(objects))
    assert "CustomResourceDefinition" not in kinds(objects["cluster-autoscaler"])[0]


def test_no_warm_nodes_no_buffer_objects_or_flags() -> None:
    """Catches: the CRD, RBAC or flags leaking into clusters that do not ask for warm nodes."""
    objects = chart_objects(config_with())
    assert "gpu-warm-capacity" not in objects
    assert not any(
        "capacity-buffer" in a or "content-type" in a for a in autoscaler_command(objects)
    )
    rules = next(o for o in objects["cluster-autoscaler"] if o["kind"] == "ClusterRole")["rules"]
    assert not any("autoscaling.x-k8s.io" in r["apiGroups"] for r in rules)


def test_the_buffer_pod_asks_for_every_gpu_a_node_advertises() -> None:
    objects = chart_objects(warm_config(gpu_sharing={"replicas": 4}))
    template = objects["gpu-warm-capacity"][2]["template"]["spec"]
    resources = template["containers"][0]["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == 4
    assert template["nodeSelector"] == {"pool": "fast"}


def test_the_capacity_buffer_validates_against_its_crd() -> None:
    objects = chart_objects(warm_config())
    every = [*objects["cluster-autoscaler"], *objects["gpu-warm-capacity"]]
    assert check_schema(every, "1.36").status == "PASS"
    broken = copy.deepcopy(every)
    broken[-1]["spec"]["replicas"] = -1
    result = check_schema(broken, "1.36")
    assert result.status == "FAIL"
    assert result.details == [
        "CapacityBuffer/warm-fast: spec.replicas: -1 is less than the minimum of 0"
    ]


# --- verify's autoscaler model and cost -----------------------------------------------------


def test_the_autoscaler_model_counts_the_buffer_pods(fast_start_synth: Synthesis) -> None:
    objects = attached_objects(fast_start_synth.cluster)
    simulation = simulate(fast_start_synth.cluster, fast_start_synth.network, objects)
    assert simulation.problems == []
    assert list(simulation.buffers) == ["CapacityBuffer/warm-fast"]
    assert {n.rsplit("-", 2)[0] for n in simulation.buffers["CapacityBuffer/warm-fast"]} == {"fast"}


def test_a_buffer_pod_that_fits_no_template_fails(fast_start_synth: Synthesis) -> None:
    """Catches: a buffer that keeps nothing warm (here: more GPUs than a node has)."""
    objects = copy.deepcopy(attached_objects(fast_start_synth.cluster))
    (template,) = [o for o in objects if o["kind"] == "PodTemplate"]
    resources = template["template"]["spec"]["containers"][0]["resources"]
    resources["requests"]["nvidia.com/gpu"] = resources["limits"]["nvidia.com/gpu"] = 2
    simulation = simulate(fast_start_synth.cluster, fast_start_synth.network, objects)
    assert "CapacityBuffer/warm-fast: its pods fit no group's template: nothing is kept warm" in (
        simulation.problems
    )


def test_buffers_without_the_content_type_flag_fail(fast_start_synth: Synthesis) -> None:
    """Catches: the known trap, a buffer controller that never writes status (protobuf)."""
    objects = copy.deepcopy(attached_objects(fast_start_synth.cluster))
    (deployment,) = [
        o
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "cluster-autoscaler"
    ]
    command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    command.remove("--kube-api-content-type=application/json")
    simulation = simulate(fast_start_synth.cluster, fast_start_synth.network, objects)
    assert simulation.problems == [
        "CapacityBuffers exist but the autoscaler lacks --kube-api-content-type=application/json"
    ]


def test_pause_pods_below_the_expendable_cutoff_fail(fast_start_synth: Synthesis) -> None:
    objects = [
        {
            "kind": "PriorityClass",
            "apiVersion": "scheduling.k8s.io/v1",
            "metadata": {"name": "low"},
            "value": -11,
        },
        {
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": {"name": "warm-x", "namespace": "n"},
            "spec": {
                "replicas": 1,
                "template": {"spec": {"priorityClassName": "low", "containers": []}},
            },
        },
    ]
    from verify.autoscaler.buffers import buffer_pods

    assert buffer_pods(objects) == (
        [],
        [
            "Deployment/warm-x: priority -11 is below the autoscaler's expendable cutoff -10: it "
            "never scales up"
        ],
    )


def test_the_cost_line_prices_the_warm_nodes() -> None:
    """Catches: warm nodes shown as free (they run with no pod of the user's on them)."""
    config = warm_config()
    cold = warm_config(warm_nodes=0)
    types = {t: 1.0 for t in ("g5.xlarge", "g6.xlarge", "g6e.xlarge", "m6i.xlarge", "m6a.xlarge")}
    types |= {"m5.xlarge": 0.2, "m5a.xlarge": 0.2, "m7i.xlarge": 0.2}
    prices = InstancePrices("us-west-2", "USD", types, "a test table")
    warm_cost = estimate(config, node_group_specs(config), prices=prices).pools["fast"]
    cold_cost = estimate(cold, node_group_specs(cold), prices=prices).pools["fast"]
    assert warm_cost.warm_nodes == 1
    assert (cold_cost.idle.low, cold_cost.idle.high) == (0, 0)  # min_size 0: nothing runs idle
    # Worked by hand: one g6e.xlarge at the table's $1.00/hour x 730 hours, plus its 100 GiB gp3
    # root volume (100 x $0.08) raised to fast pull's 600 MiB/s (475 above the free 125 MiB/s x
    # $0.04), per month (verify/data/prices.json): 730 + 8 + 19.
    assert (warm_cost.idle.low, warm_cost.idle.high) == (pytest.approx(757), pytest.approx(757))


def test_the_quota_needs_count_the_warm_nodes() -> None:
    """Catches: a warm node the G and VT spot quota cannot start (a new account has 0)."""
    warm, cold = warm_config(), warm_config(warm_nodes=0)
    need = {n.quota.code: n.min_vcpus for n in quota_needs(node_group_specs(warm)).needs}
    base = {n.quota.code: n.min_vcpus for n in quota_needs(node_group_specs(cold)).needs}
    # Every GPU group starts at min_size 0: without warm nodes the G and VT spot quota needs
    # nothing at min scale; with one, one g6e.xlarge (4 vCPUs, EC2's DescribeInstanceTypes).
    assert (base["L-3819A6DF"], need["L-3819A6DF"]) == (0, 4)
