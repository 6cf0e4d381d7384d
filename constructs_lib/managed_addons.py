"""The EKS managed add-ons a cluster is lived in with: storage, resource metrics, GPU telemetry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from constructs_lib.cloudwatch_observability import CLOUDWATCH_OBSERVABILITY
from constructs_lib.ebs_csi_driver import EBS_CSI_DRIVER
from constructs_lib.pod_identity_addon import PodIdentityAddon

METRICS_SERVER = "metrics-server"


class ManagedAddons(Construct):
    """Each add-on the flags turn on, created once the nodes that run its controllers
    (``after``: the system node group, and the Pod Identity agent that serves the roles) exist:

    - ``ebs_csi_driver``: ``aws-ebs-csi-driver`` (``constructs_lib/ebs_csi_driver.py``);
    - ``metrics_server``: the ``metrics-server`` add-on (no AWS permissions), on the nodes
      ``system_node_labels`` select (``nodeSelector``, one of the scheduling values EKS add-on
      configuration schemas expose, with ``tolerations`` and ``affinity``: the add-on's Helm
      values, kubernetes-sigs/metrics-server ``charts/metrics-server/values.yaml``);
    - ``gpu_metrics``: ``amazon-cloudwatch-observability``
      (``constructs_lib/cloudwatch_observability.py``).

    Unset attributes are ``None``. Each add-on is its own resource with its own role, so turning
    one on or off creates or deletes only that add-on and its role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        ebs_csi_driver: bool,
        metrics_server: bool,
        gpu_metrics: bool,
        system_node_labels: Mapping[str, str],
        after: Sequence[IDependable],
    ) -> None:
        super().__init__(scope, construct_id)
        self.ebs_csi_driver = (
            PodIdentityAddon(
                self, "EbsCsiDriver", cluster=cluster, identity=EBS_CSI_DRIVER, after=after
            )
            if ebs_csi_driver
            else None
        )
        self.metrics_server = None
        if metrics_server:
            self.metrics_server = eks.Addon(
                self,
                "MetricsServer",
                addon_name=METRICS_SERVER,
                cluster=cluster,
                configuration_values={"nodeSelector": dict(system_node_labels)},
            )
            self.metrics_server.node.add_dependency(*after)
        self.cloudwatch_observability = (
            PodIdentityAddon(
                self,
                "CloudWatchObservability",
                cluster=cluster,
                identity=CLOUDWATCH_OBSERVABILITY,
                after=after,
            )
            if gpu_metrics
            else None
        )
