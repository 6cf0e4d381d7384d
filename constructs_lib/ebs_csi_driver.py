"""Storage: the EBS CSI driver EKS add-on, its controller on its own Pod Identity role."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from constructs_lib.pod_identity_addon import PodIdentityAddon

ADDON_NAME = "aws-ebs-csi-driver"
NAMESPACE = "kube-system"
CONTROLLER_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
"""The controller's service account (EKS user guide, "Store Kubernetes volumes with Amazon EBS")."""
MANAGED_POLICY = "service-role/AmazonEBSCSIDriverPolicy"


class EbsCsiDriver(PodIdentityAddon):
    """The ``aws-ebs-csi-driver`` add-on with its defaults: the controller Deployment (it
    tolerates no NoSchedule taint, so it runs on the system group) and the ``ebs-csi-node``
    DaemonSet, which tolerates every taint (chart value ``node.tolerateAllTaints: true``) and so
    also runs on the GPU nodes. The StorageClass is ``charts/ebs_storage_class.py``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        after: Sequence[IDependable] = (),
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            cluster=cluster,
            addon_name=ADDON_NAME,
            namespace=NAMESPACE,
            service_account=CONTROLLER_SERVICE_ACCOUNT,
            managed_policy=MANAGED_POLICY,
            after=after,
        )
