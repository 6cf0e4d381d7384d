"""NVIDIA device plugin DaemonSet: advertises ``nvidia.com/gpu`` on GPU nodes, and only there."""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_33 import k8s
from constructs import Construct

from charts.gpu_toleration import GPU_TOLERATION

# Defaults block: the pinned release (the one the EKS user guide installs on the AL2023 NVIDIA AMI).
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin"
DEVICE_PLUGIN_TAG = "v0.17.4"

INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
DEVICE_PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
NAMESPACE = "kube-system"
NAME = "nvidia-device-plugin-daemonset"


class NvidiaDevicePluginChart(cdk8s.Chart):
    """NVIDIA's static ``nvidia-device-plugin.yml``, plus a required node affinity.

    The plugin fails on a node without a GPU, and the static manifest selects no nodes, so the
    pods are pinned to ``gpu_instance_types`` (every type of every GPU node group) through the
    ``node.kubernetes.io/instance-type`` label (the seed's ``beta.`` label is deprecated).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        gpu_instance_types: Sequence[str],
        image_tag: str = DEVICE_PLUGIN_TAG,
    ) -> None:
        super().__init__(scope, construct_id, disable_resource_name_hashes=True)
        if not gpu_instance_types:
            raise ValueError("gpu_instance_types: at least one GPU instance type is required")
        labels = {"name": "nvidia-device-plugin-ds"}
        k8s.KubeDaemonSet(
            self,
            "DaemonSet",
            metadata=k8s.ObjectMeta(name=NAME, namespace=NAMESPACE),
            spec=k8s.DaemonSetSpec(
                selector=k8s.LabelSelector(match_labels=labels),
                update_strategy=k8s.DaemonSetUpdateStrategy(type="RollingUpdate"),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=labels),
                    spec=k8s.PodSpec(
                        priority_class_name="system-node-critical",
                        tolerations=[GPU_TOLERATION],
                        affinity=k8s.Affinity(
                            node_affinity=k8s.NodeAffinity(
                                required_during_scheduling_ignored_during_execution=k8s.NodeSelector(
                                    node_selector_terms=[
                                        k8s.NodeSelectorTerm(
                                            match_expressions=[
                                                k8s.NodeSelectorRequirement(
                                                    key=INSTANCE_TYPE_LABEL,
                                                    operator="In",
                                                    values=sorted(set(gpu_instance_types)),
                                                )
                                            ]
                                        )
                                    ]
                                )
                            )
                        ),
                        containers=[
                            k8s.Container(
                                name="nvidia-device-plugin-ctr",
                                image=f"{DEVICE_PLUGIN_IMAGE}:{image_tag}",
                                security_context=k8s.SecurityContext(
                                    allow_privilege_escalation=False,
                                    capabilities=k8s.Capabilities(drop=["ALL"]),
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
