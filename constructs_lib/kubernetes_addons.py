"""Attaches the add-on charts to the cluster, in an order that works on a fresh cluster."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from charts import AddonCharts


class KubernetesAddons(Construct):
    """The device plugin(s: NVIDIA's, and AWS's EFA plugin with an EFA pool), the autoscaler
    and, when asked for, the default StorageClass and the
    GPU smoke-test Job, as manifests.

    The autoscaler is applied only after its identity (``autoscaler_identity``: the Pod Identity
    association and the agent add-on) exists, so its first AWS call already has credentials. The
    smoke test, when enabled, comes last: it needs both of the others to ever run.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.Cluster,
        charts: AddonCharts,
        autoscaler_identity: list[IDependable],
        include_smoke_test: bool,
        include_storage_class: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.device_plugin = cluster.add_cdk8s_chart("NvidiaDevicePlugin", charts.device_plugin)
        self.autoscaler = cluster.add_cdk8s_chart("ClusterAutoscaler", charts.autoscaler)
        self.autoscaler.node.add_dependency(*autoscaler_identity)
        self.efa_device_plugin = None
        if charts.efa_device_plugin is not None:  # only with an EFA pool
            self.efa_device_plugin = cluster.add_cdk8s_chart(
                "EfaDevicePlugin", charts.efa_device_plugin
            )
        self.warm_capacity = None
        if charts.warm_capacity is not None:  # the CRD (autoscaler chart) and the GPU plugin
            self.warm_capacity = cluster.add_cdk8s_chart("GpuWarmCapacity", charts.warm_capacity)
            self.warm_capacity.node.add_dependency(self.device_plugin, self.autoscaler)
        self.storage_class = None
        if include_storage_class:  # with the EBS CSI driver, its provisioner
            self.storage_class = cluster.add_cdk8s_chart("EbsStorageClass", charts.storage_class)
        self.smoke_test = None
        if include_smoke_test:
            self.smoke_test = cluster.add_cdk8s_chart("GpuSmokeTest", charts.smoke_test)
            self.smoke_test.node.add_dependency(self.device_plugin, self.autoscaler)
