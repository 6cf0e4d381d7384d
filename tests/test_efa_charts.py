"""The EFA device plugin chart on its own (no CDK stack): upstream's fields, placement, schema,
and the k8s-security check (checkov: tests/test_checkov.py, in the session's one scan)."""

from __future__ import annotations

from typing import Any

import cdk8s
import kubernetes_validate
import pytest
import yaml
from cdk8s import Testing as Cdk8sTesting

from charts.efa_device_plugin import EfaDevicePluginChart
from cluster_config.versions import KUBERNETES_RELEASES
from tests.support import charts_for, config_with
from verify.manifests import check_security

TRAINING = {
    "name": "training",
    "instance_types": ["p5.48xlarge"],
    "availability_zones": ["us-west-2a"],
    "capacity_type": "ON_DEMAND",
    "min_size": 0,
    "max_size": 2,
    "efa": True,
}
INFERENCE = {"name": "inference", "instance_types": ["g6.xlarge"], "min_size": 0, "max_size": 2}
# aws/eks-charts stable/aws-efa-k8s-device-plugin, chart v0.5.30 (5239609): values.yaml and
# templates/daemonset.yaml rendered with release name "aws-efa-k8s-device-plugin" in us-west-2.
UPSTREAM_V0_5_30 = {
    "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-efa-k8s-device-plugin:v0.5.20",
    "securityContext": {
        "allowPrivilegeEscalation": True,
        "privileged": True,
        "runAsNonRoot": False,
        "runAsUser": 0,
    },
    "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}},
    "priorityClassName": "system-node-critical",
    "hostNetwork": True,
    "automountServiceAccountToken": False,
    "updateStrategy": {"type": "RollingUpdate"},
    "volumes": {
        "device-plugin": ("/var/lib/kubelet/device-plugins", "/var/lib/kubelet/device-plugins"),
        "infiniband-volume": ("/dev/infiniband/", "/dev/infiniband/"),
        "neuron-tools": ("/opt/aws/neuron/", "/opt/aws/neuron/"),
    },
}


def daemon_set(chart: cdk8s.Chart) -> dict[str, Any]:
    (found,) = [o for o in Cdk8sTesting.synth(chart) if o["kind"] == "DaemonSet"]
    return found


@pytest.fixture(scope="module")
def chart() -> EfaDevicePluginChart:
    plugin = charts_for(config_with({"gpu_pools": [INFERENCE, TRAINING]})).efa_device_plugin
    assert plugin is not None
    return plugin


def test_the_plugin_is_upstreams_chart(chart: EfaDevicePluginChart) -> None:
    ds = daemon_set(chart)
    spec = ds["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    ours = {
        "image": container["image"],
        "securityContext": container["securityContext"],
        "resources": container["resources"],
        "priorityClassName": spec["priorityClassName"],
        "hostNetwork": spec["hostNetwork"],
        "automountServiceAccountToken": spec["automountServiceAccountToken"],
        "updateStrategy": ds["spec"]["updateStrategy"],
        "volumes": {v["name"]: (v["hostPath"]["path"], mounts[v["name"]]) for v in spec["volumes"]},
    }
    assert ours == UPSTREAM_V0_5_30
    assert ds["metadata"] == {"name": "aws-efa-k8s-device-plugin", "namespace": "kube-system"}
    # No huge pages: upstream's pod asks for none, so the node template needs none for it.
    assert not any("hugepages" in r for r in container["resources"]["requests"])


def test_the_plugin_runs_only_on_efa_pools_nodes(chart: EfaDevicePluginChart) -> None:
    # Bug caught: upstream's affinity (every EFA-capable type) would also put it on a non-EFA
    # pool of p5.48xlarge, which has no EFA interface; the plugin finds nothing there.
    spec = daemon_set(chart)["spec"]["template"]["spec"]
    (term,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert term["matchExpressions"] == [
        {"key": "pool", "operator": "In", "values": ["training"]},
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge"]},
    ]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"
    ]
    assert {"key": "CriticalAddonsOnly", "operator": "Exists"} in spec["tolerations"]


def test_no_efa_pool_means_no_efa_plugin() -> None:
    charts = charts_for(config_with({"gpu_pools": [INFERENCE]}))
    assert charts.efa_device_plugin is None
    assert "aws-efa-k8s-device-plugin" not in charts.by_file_name()


def test_the_image_comes_from_the_clusters_region() -> None:
    # Bug caught: upstream's us-west-2 registry in another region (cross-region pulls need that
    # region's ECR endpoint; in China or GovCloud the account does not exist).
    chart = EfaDevicePluginChart(
        cdk8s.App(),
        "Plugin",
        registry="918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn",
        pools=["training"],
        instance_types=["p5.48xlarge"],
    )
    (container,) = daemon_set(chart)["spec"]["template"]["spec"]["containers"]
    assert container["image"] == (
        "918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn/eks/aws-efa-k8s-device-plugin:v0.5.20"
    )


@pytest.mark.parametrize("minor", sorted(KUBERNETES_RELEASES))
def test_the_plugin_passes_the_kubernetes_schema(chart: EfaDevicePluginChart, minor: str) -> None:
    for obj in Cdk8sTesting.synth(chart):
        kubernetes_validate.validate(obj, f"{minor}.0", strict=True)


def test_k8s_security_accepts_exactly_the_efa_plugin(chart: EfaDevicePluginChart) -> None:
    ds = daemon_set(chart)
    assert check_security([ds]).status == "PASS"
    impostor = yaml.safe_load(yaml.safe_dump(ds))
    impostor["metadata"]["name"] = "another-plugin"
    result = check_security([impostor])
    assert result.status == "FAIL"
    assert "DaemonSet/another-plugin: container aws-efa-k8s-device-plugin is privileged" in (
        result.details
    )
