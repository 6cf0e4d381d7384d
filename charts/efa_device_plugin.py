"""AWS EFA device plugin DaemonSet: advertises ``vpc.amazonaws.com/efa`` on EFA pools' nodes."""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_33 import k8s
from constructs import Construct

from charts.gpu_toleration import GPU_TOLERATION
from charts.node_affinity import required_node_affinity
from cluster_config.labels import POOL_LABEL

# Defaults block: the pinned release. Compared field by field with aws/eks-charts
# stable/aws-efa-k8s-device-plugin (chart v0.5.30, appVersion v0.5.20; values.yaml and
# templates/daemonset.yaml at 5239609, 2026-08-03), the chart the EKS user guide installs
# ("Manage EFA devices on Amazon EKS", device-management-efa.adoc at 43d79bdb).
DEVICE_PLUGIN_REPOSITORY = "eks/aws-efa-k8s-device-plugin"
DEVICE_PLUGIN_TAG = "v0.5.20"
# Pinned by tag, not digest: the image lives only in EKS's per-region private ECR registries
# (one digest per tag is not published anywhere readable here: no release notes, manifest or
# pinned copy of v0.5.20's digest was found; the source repository is not public). A digest
# would have to be read from ECR with credentials (aws ecr describe-images --registry-id
# 602401143452 ...), which synth never does.
DEVICE_PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
NAMESPACE = "kube-system"
NAME = "aws-efa-k8s-device-plugin"
POD_LABEL = {"name": NAME}
"""The chart's selector label (``name: <fullname>``); with release name ``efa`` Helm names it
``efa-aws-efa-k8s-device-plugin``, the static manifest eksctl ships names it as here."""


class EfaDevicePluginChart(cdk8s.Chart):
    """The EFA device plugin of aws/eks-charts, on the nodes of the EFA pools only.

    Upstream selects every EFA-capable instance type (``supportedInstanceLabels``); here the
    pods are pinned to nodes whose ``pool`` label is one of ``pools`` and whose instance type is
    one of ``instance_types``: a GPU pool without ``efa`` has no EFA interface even on an EFA
    type, and the plugin would find no device there. They tolerate the GPU taint (the chart's
    ``tolerations`` value) beside upstream's ``CriticalAddonsOnly``.

    As upstream's chart sets them: ``system-node-critical``, host network, no service-account
    token, requests 10m CPU and 20Mi memory (and no limits, no huge pages: the plugin's pod asks
    for none), RollingUpdate, the kubelet's device-plugin directory, ``/dev/infiniband`` and
    ``/opt/aws/neuron`` (DirectoryOrCreate) from the host, and its security context: privileged,
    as root. Upstream made it privileged in chart v0.5.16 (aws/eks-charts#1245: the plugin reads
    the host's accelerator topology to pair EFAs with devices); this project's k8s-security and
    checkov checks accept exactly that DaemonSet (verify/manifests.py, .checkov-skips.yaml).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry: str,
        pools: Sequence[str],
        instance_types: Sequence[str],
        image_tag: str = DEVICE_PLUGIN_TAG,
    ) -> None:
        """``registry``: the region's EKS add-on registry (``cluster_config/efa.py``)."""
        super().__init__(scope, construct_id, disable_resource_name_hashes=True)
        if not pools or not instance_types:
            raise ValueError("pools and instance_types: at least one EFA pool and type")
        volumes = {
            "device-plugin": (DEVICE_PLUGIN_DIR, None),
            "infiniband-volume": ("/dev/infiniband/", None),
            "neuron-tools": ("/opt/aws/neuron/", "DirectoryOrCreate"),
        }
        k8s.KubeDaemonSet(
            self,
            "DaemonSet",
            metadata=k8s.ObjectMeta(name=NAME, namespace=NAMESPACE),
            spec=k8s.DaemonSetSpec(
                selector=k8s.LabelSelector(match_labels=POD_LABEL),
                update_strategy=k8s.DaemonSetUpdateStrategy(type="RollingUpdate"),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels=POD_LABEL),
                    spec=k8s.PodSpec(
                        automount_service_account_token=False,
                        priority_class_name="system-node-critical",
                        host_network=True,
                        tolerations=[
                            k8s.Toleration(key="CriticalAddonsOnly", operator="Exists"),
                            GPU_TOLERATION,
                        ],
                        affinity=required_node_affinity(
                            {POOL_LABEL: pools, "node.kubernetes.io/instance-type": instance_types}
                        ),
                        containers=[
                            k8s.Container(
                                name=NAME,
                                image=f"{registry}/{DEVICE_PLUGIN_REPOSITORY}:{image_tag}",
                                security_context=k8s.SecurityContext(
                                    allow_privilege_escalation=True,
                                    privileged=True,
                                    run_as_non_root=False,
                                    run_as_user=0,
                                ),
                                resources=k8s.ResourceRequirements(
                                    requests={
                                        "cpu": k8s.Quantity.from_string("10m"),
                                        "memory": k8s.Quantity.from_string("20Mi"),
                                    }
                                ),
                                volume_mounts=[
                                    k8s.VolumeMount(name=name, mount_path=path)
                                    for name, (path, _) in volumes.items()
                                ],
                            )
                        ],
                        volumes=[
                            k8s.Volume(
                                name=name,
                                host_path=k8s.HostPathVolumeSource(path=path, type=kind),
                            )
                            for name, (path, kind) in volumes.items()
                        ],
                    ),
                ),
            ),
        )
