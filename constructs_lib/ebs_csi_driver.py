"""Storage: the EBS CSI driver EKS add-on, its controller on its own Pod Identity role.

With its defaults the add-on runs the controller Deployment (it tolerates no NoSchedule taint, so
it runs on the system group) and the ``ebs-csi-node`` DaemonSet, which tolerates every taint
(chart value ``node.tolerateAllTaints: true``, aws-ebs-csi-driver v1.64.0) and so also runs on
the GPU nodes. The StorageClass is ``charts/ebs_storage_class.py``.
"""

from __future__ import annotations

from constructs_lib.pod_identity_addon import AddonIdentity

EBS_CSI_DRIVER = AddonIdentity(
    addon_name="aws-ebs-csi-driver",
    namespace="kube-system",
    # EKS user guide, "Store Kubernetes volumes with Amazon EBS": the controller's account.
    service_account="ebs-csi-controller-sa",
    managed_policy="service-role/AmazonEBSCSIDriverPolicy",
)
