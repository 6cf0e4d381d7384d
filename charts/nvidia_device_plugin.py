"""NVIDIA device plugin DaemonSet: advertises ``nvidia.com/gpu`` on GPU nodes, and only there."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import cdk8s
import yaml
from cdk8s_plus_33 import k8s
from constructs import Construct

from charts.gpu_toleration import GPU_TOLERATION
from charts.node_affinity import required_node_affinity
from cluster_config.gpu_sharing import SHARING_CONFIG_LABEL
from cluster_config.images import image_reference

# Defaults block: the pinned release. Compared field by field with NVIDIA/k8s-device-plugin
# deployments/static/nvidia-device-plugin.yml at tag v0.20.0 (identical to v0.19.3 but for the
# image; v0.17.4, which the EKS user guide installs, still set FAIL_ON_INIT_ERROR=false; since
# 0.19.3 ``env`` is empty). The fields this chart takes from it: tests/test_charts.py.
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin"
DEVICE_PLUGIN_TAG = "v0.20.0"
# Multi-arch index digest of the tag, read (no registry access here) from public repositories:
# the "Image ID" kubectl describe shows for a running v0.20.0 pod, and two repos that pin it.
DEVICE_PLUGIN_DIGEST = "sha256:a61ba9fd8efb82f3a79f877f7580e02c1e8e7593f62473644bc9c79e315c3312"
# v0.20.1 (2026-09-22, NVIDIA/k8s-device-plugin#2057) fixes the config manager's dangling symlink
# (#1982) that time-slicing goes through; not taken yet: no source readable here gives its image
# digest or its static manifest (the repository snapshot read ends at v0.20.0, 1b826ac), and a
# v0.20.1 tag with v0.20.0's digest would still run v0.20.0.

INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
DEVICE_PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
NAMESPACE = "kube-system"
NAME = "nvidia-device-plugin-daemonset"
# On every device-plugin pod (base and time-slicing copies), beside each one's selector label:
# what the NetworkPolicy selects.
POD_LABEL = {"app.kubernetes.io/name": "nvidia-device-plugin"}


class NvidiaDevicePluginChart(cdk8s.Chart):
    """NVIDIA's static ``nvidia-device-plugin.yml``, plus a required node affinity.

    The plugin fails on a node without a GPU, and the static manifest selects no nodes, so the
    pods are pinned to ``gpu_instance_types`` (every type of every GPU pool) through the
    ``node.kubernetes.io/instance-type`` label (the seed's ``beta.`` label is deprecated).

    Hardened beyond NVIDIA's manifest where its behaviour allows: seccomp ``RuntimeDefault`` and no
    service-account token (the plugin binary, ``cmd/nvidia-device-plugin``, creates no Kubernetes
    client; only gpu-feature-discovery does, through ``internal/flags/kubeclient.go``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        gpu_instance_types: Sequence[str],
        image_tag: str = DEVICE_PLUGIN_TAG,
        image_digest: str = DEVICE_PLUGIN_DIGEST,
        image_registry_mirror: str | None = None,
        sharing_configs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """``sharing_configs`` (config name -> device-plugin config file, see
        ``cluster_config.gpu_sharing``) adds ``time_slicing_daemon_sets``."""
        super().__init__(scope, construct_id, disable_resource_name_hashes=True)
        if not gpu_instance_types:
            raise ValueError("gpu_instance_types: at least one GPU instance type is required")
        labels = {"name": "nvidia-device-plugin-ds"}
        daemon_set = k8s.KubeDaemonSet(
            self,
            "DaemonSet",
            metadata=k8s.ObjectMeta(name=NAME, namespace=NAMESPACE),
            spec=k8s.DaemonSetSpec(
                selector=k8s.LabelSelector(match_labels=labels),
                update_strategy=k8s.DaemonSetUpdateStrategy(type="RollingUpdate"),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={**labels, **POD_LABEL}),
                    spec=k8s.PodSpec(
                        priority_class_name="system-node-critical",
                        automount_service_account_token=False,
                        security_context=k8s.PodSecurityContext(
                            seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault")
                        ),
                        tolerations=[GPU_TOLERATION],
                        affinity=required_node_affinity({INSTANCE_TYPE_LABEL: gpu_instance_types}),
                        containers=[
                            k8s.Container(
                                name="nvidia-device-plugin-ctr",
                                image=image_reference(
                                    DEVICE_PLUGIN_IMAGE,
                                    image_tag,
                                    image_digest,
                                    registry_mirror=image_registry_mirror,
                                ),
                                security_context=k8s.SecurityContext(
                                    allow_privilege_escalation=False,
                                    capabilities=k8s.Capabilities(drop=["ALL"]),
                                    # v0.20.0 writes only its socket, in the kubelet's
                                    # hostPath: the CDI handler is a no-op unless a CDI
                                    # device-list strategy is set (internal/cdi/cdi.go New),
                                    # and MPS, the other writer, is refused by the config.
                                    read_only_root_filesystem=True,
                                ),
                                resources=k8s.ResourceRequirements(
                                    requests={
                                        "cpu": k8s.Quantity.from_string("10m"),
                                        "memory": k8s.Quantity.from_string("64Mi"),
                                    },
                                    limits={"memory": k8s.Quantity.from_string("256Mi")},
                                ),
                                volume_mounts=[
                                    k8s.VolumeMount(
                                        name="device-plugin", mount_path=DEVICE_PLUGIN_DIR
                                    )
                                ],
                            )
                        ],
                        volumes=[
                            k8s.Volume(
                                name="device-plugin",
                                host_path=k8s.HostPathVolumeSource(
                                    path=DEVICE_PLUGIN_DIR, type="Directory"
                                ),
                            )
                        ],
                    ),
                ),
            ),
        )
        if sharing_configs:
            time_slicing_daemon_sets(self, daemon_set, sharing_configs)
        # The plugin talks to the kubelet over a unix socket only: no traffic in or out.
        k8s.KubeNetworkPolicy(
            self,
            "NetworkPolicy",
            metadata=k8s.ObjectMeta(name="nvidia-device-plugin-deny-all", namespace=NAMESPACE),
            spec=k8s.NetworkPolicySpec(
                pod_selector=k8s.LabelSelector(match_labels=POD_LABEL),
                policy_types=["Ingress", "Egress"],
            ),
        )


SHARING_CONFIG_MAP = "nvidia-device-plugin-configs"
SHARING_CONFIG_DIR = "/etc/nvidia-device-plugin"


def time_slicing_daemon_sets(
    chart: cdk8s.Chart, base: k8s.KubeDaemonSet, configs: Mapping[str, Mapping[str, Any]]
) -> None:
    """A ConfigMap of the sharing configs and, per config, a copy of ``base`` that runs only on
    nodes labelled ``nvidia.com/device-plugin.config=<name>`` with ``CONFIG_FILE`` pointing at
    it (upstream's per-node label; chosen here by node affinity, so no pod needs to read Node
    objects as the Helm chart's config-manager does). ``base`` avoids nodes labelled with one of
    ``configs`` (a node without the label keeps it)."""
    k8s.KubeConfigMap(
        chart,
        "SharingConfigs",
        metadata=k8s.ObjectMeta(name=SHARING_CONFIG_MAP, namespace=NAMESPACE),
        data={name: yaml.safe_dump(dict(doc), sort_keys=False) for name, doc in configs.items()},
    )
    terms = (
        "/spec/template/spec/affinity/nodeAffinity/"
        "requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/-"
    )
    cdk8s.ApiObject.of(base).add_json_patch(
        cdk8s.JsonPatch.add(
            terms, {"key": SHARING_CONFIG_LABEL, "operator": "NotIn", "values": sorted(configs)}
        )
    )
    for name in configs:
        manifest = copy.deepcopy(base.to_json())
        spec = manifest["spec"]
        pod = spec["template"]
        # Own selector: the base DaemonSet's must not match these pods.
        pod_labels = {"name": f"nvidia-device-plugin-ds-{name}"}
        spec["selector"] = {"matchLabels": pod_labels}
        pod["metadata"]["labels"] = {**pod_labels, **POD_LABEL}
        expressions = pod["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"][0]["matchExpressions"]
        expressions[-1] = {"key": SHARING_CONFIG_LABEL, "operator": "In", "values": [name]}
        container = pod["spec"]["containers"][0]
        container.setdefault("env", []).append(
            {"name": "CONFIG_FILE", "value": f"{SHARING_CONFIG_DIR}/{name}"}
        )
        container["volumeMounts"].append(
            {"name": "sharing-config", "mountPath": SHARING_CONFIG_DIR, "readOnly": True}
        )
        pod["spec"]["volumes"].append(
            {"name": "sharing-config", "configMap": {"name": SHARING_CONFIG_MAP}}
        )
        obj = cdk8s.ApiObject(
            chart,
            f"TimeSlicing{name.title().replace('-', '')}",
            api_version="apps/v1",
            kind="DaemonSet",
            metadata=cdk8s.ApiObjectMetadata(
                name=f"{NAME.removesuffix('-daemonset')}-{name}", namespace=NAMESPACE
            ),
        )
        obj.add_json_patch(cdk8s.JsonPatch.add("/spec", spec))
