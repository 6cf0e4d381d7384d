"""The cluster's default StorageClass: encrypted gp3 volumes of the EBS CSI driver."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_33 import k8s
from constructs import Construct

NAME = "gp3"
PROVISIONER = "ebs.csi.aws.com"
"""The EBS CSI driver's name (its ``CSIDriver`` object, installed by the EKS add-on)."""
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
"""kubernetes.io/docs/concepts/storage/storage-classes, "Default StorageClass"."""
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"


class EbsStorageClassChart(cdk8s.Chart):
    """One StorageClass, ``gp3``, marked the cluster default (a PVC without
    ``storageClassName`` gets it).

    ``WaitForFirstConsumer``: the volume is created only once its first pod is scheduled, in that
    pod's zone; GPU groups are single-zone, so a volume created first would pin the pod to a zone
    whose group may not have capacity. Once created, an EBS volume stays in its zone: a pod that
    mounts it again can only run there (verify's autoscaler check shows it scales only that
    zone's group). Encrypted at rest with the account's default EBS key (``aws/ebs``; no
    ``kmsKeyId``, so the driver's managed policy suffices). Parameters: aws-ebs-csi-driver
    ``docs/parameters.md`` (v1.64.0).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str = NAME,
    ) -> None:
        super().__init__(scope, construct_id, disable_resource_name_hashes=True)
        k8s.KubeStorageClass(
            self,
            "StorageClass",
            metadata=k8s.ObjectMeta(name=name, annotations={DEFAULT_CLASS_ANNOTATION: "true"}),
            provisioner=PROVISIONER,
            parameters={"type": "gp3", "encrypted": "true"},
            volume_binding_mode=WAIT_FOR_FIRST_CONSUMER,
            reclaim_policy="Delete",
            allow_volume_expansion=True,
        )
