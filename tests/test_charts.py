"""Charts synthesized on their own (no CDK stack), then checked object by object."""

from __future__ import annotations

import re
from typing import Any

import cdk8s
import kubernetes_validate
import pytest
from cdk8s import Testing as Cdk8sTesting
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from charts import write_manifests
from charts.cluster_autoscaler import ClusterAutoscalerChart
from charts.nvidia_device_plugin import NvidiaDevicePluginChart
from cluster_config.catalog import GENERAL_INSTANCE_TYPES
from cluster_config.versions import KUBERNETES_RELEASES
from tests.support import charts_for, config_with, default_data

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


def objects(chart: cdk8s.Chart) -> list[dict[str, Any]]:
    return list(Cdk8sTesting.synth(chart))


def one(chart: cdk8s.Chart, kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects(chart) if o["kind"] == kind]
    return found


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def affinity_types(daemon_set: dict[str, Any]) -> list[str]:
    terms = pod_spec(daemon_set)["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    (term,) = terms
    (expression,) = term["matchExpressions"]
    assert (expression["key"], expression["operator"]) == ("node.kubernetes.io/instance-type", "In")
    values: list[str] = expression["values"]
    return values


@pytest.fixture(scope="module")
def charts() -> Any:
    return charts_for(config_with())


# --- NVIDIA device plugin -------------------------------------------------------------------


def test_device_plugin_affinity_is_exactly_the_configured_gpu_types(charts: Any) -> None:
    """Catches: a GPU type missing from the affinity (its nodes never advertise a GPU) or another
    group's type in it. The default pool's types, from cdk.json, written out here rather than
    read back through the spec the chart is built from."""
    daemon_set = one(charts.device_plugin, "DaemonSet")
    assert affinity_types(daemon_set) == ["g5.xlarge", "g6.xlarge"]


def test_device_plugin_affinity_follows_a_non_default_config() -> None:
    data = default_data()
    data["gpu_pools"] = [
        {
            "name": "big",
            "availability_zones": ["us-west-2a"],
            "instance_types": ["p5.48xlarge"],
            "min_size": 0,
            "max_size": 2,
        },
        {
            "name": "l40s",
            "instance_types": ["g6e.2xlarge"],
            "min_size": 0,
            "max_size": 2,
        },
    ]
    daemon_set = one(charts_for(config_with(data)).device_plugin, "DaemonSet")
    assert affinity_types(daemon_set) == ["g6e.2xlarge", "p5.48xlarge"]


def test_device_plugin_never_lands_on_a_non_gpu_node(charts: Any) -> None:
    daemon_set = one(charts.device_plugin, "DaemonSet")
    assert not set(affinity_types(daemon_set)) & set(GENERAL_INSTANCE_TYPES)
    assert "nodeSelector" not in pod_spec(daemon_set)  # the required affinity is the only gate


def test_device_plugin_needs_at_least_one_gpu_type() -> None:
    with pytest.raises(ValueError, match="gpu_instance_types: at least one"):
        NvidiaDevicePluginChart(cdk8s.App(), "Empty", gpu_instance_types=[])


# NVIDIA/k8s-device-plugin deployments/static/nvidia-device-plugin.yml at tag v0.20.0: the fields
# this chart takes from it (read with `git show v0.20.0:deployments/static/...`; v0.19.3 differs
# only in the image tag, v0.17.4 also set env FAIL_ON_INIT_ERROR=false).
UPSTREAM_V0_20_0 = {
    "metadata": {"name": "nvidia-device-plugin-daemonset", "namespace": "kube-system"},
    "selector": {"matchLabels": {"name": "nvidia-device-plugin-ds"}},
    "updateStrategy": {"type": "RollingUpdate"},
    "podLabels": {"name": "nvidia-device-plugin-ds"},
    "tolerations": [GPU_TOLERATION],
    "priorityClassName": "system-node-critical",
    "containerName": "nvidia-device-plugin-ctr",
    "image": "nvcr.io/nvidia/k8s-device-plugin:v0.20.0",
    "env": [],
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    "hostPath": {"path": "/var/lib/kubelet/device-plugins", "type": "Directory"},
    "mountPath": "/var/lib/kubelet/device-plugins",
}


def test_device_plugin_matches_nvidias_static_manifest_v0_20_0(charts: Any) -> None:
    daemon_set = one(charts.device_plugin, "DaemonSet")
    spec = pod_spec(daemon_set)
    (container,) = spec["containers"]
    (volume,) = spec["volumes"]
    (mount,) = container["volumeMounts"]
    image, digest = container["image"].split("@")
    ours = {
        "metadata": daemon_set["metadata"],
        "selector": daemon_set["spec"]["selector"],
        "updateStrategy": daemon_set["spec"]["updateStrategy"],
        # Minus this project's additions (test_device_plugin_is_hardened_beyond_upstream).
        "podLabels": {
            k: v
            for k, v in daemon_set["spec"]["template"]["metadata"]["labels"].items()
            if k != "app.kubernetes.io/name"
        },
        "tolerations": spec["tolerations"],
        "priorityClassName": spec["priorityClassName"],
        "containerName": container["name"],
        "image": image,
        "env": container.get("env", []),
        "securityContext": {
            k: v for k, v in container["securityContext"].items() if k != "readOnlyRootFilesystem"
        },
        "hostPath": volume["hostPath"],
        "mountPath": mount["mountPath"],
    }
    assert ours == UPSTREAM_V0_20_0
    assert mount["name"] == volume["name"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)


def test_device_plugin_is_hardened_beyond_upstream(charts: Any) -> None:
    daemon_set = one(charts.device_plugin, "DaemonSet")
    spec = pod_spec(daemon_set)
    assert spec["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert spec["automountServiceAccountToken"] is False
    # v0.20.0 writes only its socket, in the kubelet hostPath (charts/nvidia_device_plugin.py).
    assert spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    labels = daemon_set["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "nvidia-device-plugin"


def test_device_plugin_pods_may_send_and_receive_nothing(charts: Any) -> None:
    policy = one(charts.device_plugin, "NetworkPolicy")
    assert policy["metadata"] == {
        "name": "nvidia-device-plugin-deny-all",
        "namespace": "kube-system",
    }
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "nvidia-device-plugin"}},
        "policyTypes": ["Ingress", "Egress"],
    }


def test_every_device_plugin_daemon_set_is_selected_by_the_network_policy() -> None:
    pool = {**default_data()["gpu_pools"][0], "gpu_sharing": {"replicas": 4}}
    charts = charts_for(config_with({"gpu_pools": [pool]}))
    daemon_sets = [o for o in objects(charts.device_plugin) if o["kind"] == "DaemonSet"]
    assert len(daemon_sets) == 2
    selector = one(charts.device_plugin, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"]
    for daemon_set in daemon_sets:
        labels = daemon_set["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        assert daemon_set["spec"]["selector"]["matchLabels"].items() <= labels.items()
        container = daemon_set["spec"]["template"]["spec"]["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


# --- Cluster autoscaler ---------------------------------------------------------------------


@pytest.mark.parametrize("minor", sorted(KUBERNETES_RELEASES))
def test_autoscaler_minor_equals_the_cluster_minor(minor: str) -> None:
    chart = charts_for(config_with({"kubernetes_version": minor})).autoscaler
    (container,) = pod_spec(one(chart, "Deployment"))["containers"]
    image, tag = container["image"].rsplit(":", 1)
    assert image == "registry.k8s.io/autoscaling/cluster-autoscaler"
    assert tag.startswith(f"v{minor}.")


def test_autoscaler_refuses_an_unsupported_minor() -> None:
    with pytest.raises(KeyError, match=r"Kubernetes '1\.30' is not supported; supported: 1\.33"):
        ClusterAutoscalerChart(
            cdk8s.App(),
            "Old",
            cluster_name="c",
            region="us-west-2",
            kubernetes_version="1.30",
            node_selector={"pool": "system"},
        )


def test_autoscaler_discovers_this_clusters_groups_and_balances_them(charts: Any) -> None:
    (container,) = pod_spec(one(charts.autoscaler, "Deployment"))["containers"]
    args = container["command"]
    assert args[0] == "./cluster-autoscaler"
    for flag in (
        "--cloud-provider=aws",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        "k8s.io/cluster-autoscaler/gpu-spot",
        "--balance-similar-node-groups=true",
        "--skip-nodes-with-system-pods=false",
        "--skip-nodes-with-local-storage=false",
        "--expander=least-waste",
        "--balancing-label=pool",
    ):
        assert flag in args
    assert not [a for a in args if a.startswith("--balancing-ignore-label")]
    assert container["env"] == [{"name": "AWS_REGION", "value": "us-west-2"}]


def test_autoscaler_reads_instance_types_from_ec2_not_its_static_list(charts: Any) -> None:
    # The catalog accepts types from EC2's DescribeInstanceTypes data (p5e, p6-b300) that the
    # autoscaler's static ec2_instance_types.go lacks: true only while it reads the API.
    (container,) = pod_spec(one(charts.autoscaler, "Deployment"))["containers"]
    assert not [a for a in container["command"] if a.startswith("--aws-use-static-instance-list")]


def test_autoscaler_runs_on_the_system_group_only(charts: Any) -> None:
    spec = pod_spec(one(charts.autoscaler, "Deployment"))
    assert spec["nodeSelector"] == {"pool": "system"}
    assert "tolerations" not in spec  # so the GPU taint keeps it off GPU nodes


def test_autoscaler_pod_is_hardened_and_never_evicted(charts: Any) -> None:
    deployment = one(charts.autoscaler, "Deployment")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {
        "cluster-autoscaler.kubernetes.io/safe-to-evict": "false"
    }
    assert spec["priorityClassName"] == "system-cluster-critical"
    assert spec["serviceAccountName"] == "cluster-autoscaler"
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65534,
        "fsGroup": 65534,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "600Mi"},
        "limits": {"cpu": "100m", "memory": "600Mi"},
    }


def test_autoscaler_uses_its_images_own_ca_certificates(charts: Any) -> None:
    """No host path: the distroless/static base of the image ships ca-certificates."""
    spec = pod_spec(one(charts.autoscaler, "Deployment"))
    assert "volumes" not in spec
    assert "volumeMounts" not in spec["containers"][0]


def test_nothing_may_connect_to_the_autoscaler(charts: Any) -> None:
    policy = one(charts.autoscaler, "NetworkPolicy")
    assert policy["metadata"]["namespace"] == "kube-system"
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {"app": "cluster-autoscaler"}},
        "policyTypes": ["Ingress"],
    }
    deployment = one(charts.autoscaler, "Deployment")
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "cluster-autoscaler"}


def granted(rules: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {
        (group, resource, verb, name)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", ["*"])
    }


# What kubernetes/autoscaler's AWS example (cluster-autoscaler-autodiscover.yaml) grants,
# written out here independently of the chart's own table.
UPSTREAM_CLUSTER_GRANTS = [
    ("", "events", "create"),
    ("", "events", "patch"),
    ("", "endpoints", "create"),
    ("", "pods/eviction", "create"),
    ("", "pods/status", "update"),
    ("", "nodes", "watch"),
    ("", "nodes", "list"),
    ("", "nodes", "get"),
    ("", "nodes", "update"),
    ("", "pods", "list"),
    ("", "namespaces", "watch"),
    ("", "services", "get"),
    ("", "replicationcontrollers", "list"),
    ("", "persistentvolumeclaims", "get"),
    ("", "persistentvolumes", "watch"),
    ("extensions", "replicasets", "list"),
    ("extensions", "daemonsets", "get"),
    ("policy", "poddisruptionbudgets", "watch"),
    ("policy", "poddisruptionbudgets", "list"),
    ("apps", "statefulsets", "get"),
    ("apps", "replicasets", "list"),
    ("apps", "daemonsets", "watch"),
    ("resource.k8s.io", "resourceslices", "list"),
    ("resource.k8s.io", "deviceclasses", "get"),
    ("resource.k8s.io", "resourceclaims", "watch"),
    ("storage.k8s.io", "csinodes", "list"),
    ("storage.k8s.io", "storageclasses", "get"),
    ("storage.k8s.io", "csidrivers", "watch"),
    ("storage.k8s.io", "csistoragecapacities", "list"),
    ("storage.k8s.io", "volumeattachments", "get"),
    ("batch", "jobs", "patch"),
    ("extensions", "jobs", "list"),
    ("coordination.k8s.io", "leases", "create"),
]


def test_autoscaler_cluster_role_grants_what_upstream_grants(charts: Any) -> None:
    rules = granted(one(charts.autoscaler, "ClusterRole")["rules"])
    missing = [g for g in UPSTREAM_CLUSTER_GRANTS if (*g, "*") not in rules]
    assert missing == []
    assert ("", "endpoints", "update", "cluster-autoscaler") in rules
    assert ("coordination.k8s.io", "leases", "update", "cluster-autoscaler") in rules


def test_autoscaler_role_manages_its_status_configmaps(charts: Any) -> None:
    role = one(charts.autoscaler, "Role")
    rules = granted(role["rules"])
    assert role["metadata"]["namespace"] == "kube-system"
    assert ("", "configmaps", "create", "*") in rules
    for name in ("cluster-autoscaler-status", "cluster-autoscaler-priority-expander"):
        for verb in ("delete", "get", "update", "watch"):
            assert ("", "configmaps", verb, name) in rules


def test_autoscaler_bindings_point_at_its_service_account(charts: Any) -> None:
    subject = {"kind": "ServiceAccount", "name": "cluster-autoscaler", "namespace": "kube-system"}
    for kind, role_kind in (("ClusterRoleBinding", "ClusterRole"), ("RoleBinding", "Role")):
        binding = one(charts.autoscaler, kind)
        assert binding["subjects"] == [subject]
        assert binding["roleRef"]["kind"] == role_kind
        assert binding["roleRef"]["name"] == "cluster-autoscaler"
    assert one(charts.autoscaler, "ServiceAccount")["metadata"]["namespace"] == "kube-system"


# --- GPU smoke test -------------------------------------------------------------------------


def test_smoke_test_asks_for_one_gpu_and_runs_nvidia_smi(charts: Any) -> None:
    job = one(charts.smoke_test, "Job")
    spec = pod_spec(job)
    (container,) = spec["containers"]
    assert container["command"] == ["nvidia-smi"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"] == (
        "docker.io/nvidia/cuda:12.8.1-base-ubuntu24.04"
        "@sha256:133c78a0575303be34164d0b90137a042172bdf60696af01a3c424ab402d86e2"
    )
    assert spec["tolerations"] == [GPU_TOLERATION]
    assert spec["restartPolicy"] == "Never"


def test_smoke_test_runs_in_its_own_restricted_namespace_without_a_token(charts: Any) -> None:
    namespace = one(charts.smoke_test, "Namespace")
    assert namespace["metadata"] == {
        "name": "gpu-smoke-test",
        "labels": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
        },
    }
    kinds = [o["kind"] for o in objects(charts.smoke_test)]
    assert kinds == ["Namespace", "NetworkPolicy", "Job"]  # applied in this order
    policy = one(charts.smoke_test, "NetworkPolicy")
    # Default deny both ways, no allowance: nvidia-smi needs no network (no DNS, no API).
    assert policy["metadata"] == {"name": "default-deny", "namespace": "gpu-smoke-test"}
    assert policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    job = one(charts.smoke_test, "Job")
    assert job["metadata"]["namespace"] == "gpu-smoke-test"
    assert pod_spec(job)["automountServiceAccountToken"] is False


# --- Whole manifests ------------------------------------------------------------------------


@pytest.mark.parametrize("minor", sorted(KUBERNETES_RELEASES))
def test_every_manifest_passes_the_kubernetes_schema_of_each_supported_minor(minor: str) -> None:
    charts = charts_for(config_with({"kubernetes_version": minor}))
    checked = 0
    for chart in charts.by_file_name().values():
        for obj in objects(chart):
            kubernetes_validate.validate(obj, f"{minor}.0", strict=True)
            checked += 1
    # DaemonSet, NetworkPolicy; SA, ClusterRole(+Binding), Role(+Binding), Deployment,
    # NetworkPolicy; Namespace, NetworkPolicy, Job; StorageClass
    assert checked == 13


def test_schema_validation_catches_a_broken_manifest() -> None:
    broken = one(charts_for(config_with()).device_plugin, "DaemonSet")
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.36.0", strict=True)


@pytest.mark.parametrize(
    "name", ["nvidia-device-plugin", "cluster-autoscaler", "gpu-smoke-test", "ebs-storage-class"]
)
def test_manifest_matches_snapshot(charts: Any, snapshot: SnapshotAssertion, name: str) -> None:
    chart = charts.by_file_name()[name]
    assert objects(chart) == snapshot.use_extension(JSONSnapshotExtension)


def test_manifests_are_written_as_one_yaml_file_per_chart(charts: Any, tmp_path: Any) -> None:
    written = write_manifests(charts, tmp_path / "manifests")
    assert sorted(p.name for p in written) == [
        "cluster-autoscaler.yaml",
        "ebs-storage-class.yaml",
        "gpu-smoke-test.yaml",
        "nvidia-device-plugin.yaml",
    ]
    text = (tmp_path / "manifests" / "cluster-autoscaler.yaml").read_text()
    assert text.count("\n---\n") == 6  # seven objects
    assert "kind: Deployment" in text


def test_default_storage_class_is_encrypted_gp3_bound_where_the_pod_lands(charts: Any) -> None:
    (storage_class,) = objects(charts.storage_class)
    assert storage_class == {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "gp3",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true"},
        "volumeBindingMode": "WaitForFirstConsumer",
        "reclaimPolicy": "Delete",
        "allowVolumeExpansion": True,
    }
