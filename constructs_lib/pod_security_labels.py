"""Pod Security Admission labels on a namespace the cluster already has (``default``)."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct

PSA_PREFIX = "pod-security.kubernetes.io"
LEVELS = ("privileged", "baseline", "restricted")


def pod_security_labels(*, enforce: str, warn_and_audit: str) -> dict[str, str]:
    """kubernetes.io/docs/concepts/security/pod-security-admission: one label per mode."""
    for level in (enforce, warn_and_audit):
        if level not in LEVELS:
            raise ValueError(f"{level!r} is not a Pod Security level; allowed: {', '.join(LEVELS)}")
    return {
        f"{PSA_PREFIX}/enforce": enforce,
        f"{PSA_PREFIX}/warn": warn_and_audit,
        f"{PSA_PREFIX}/audit": warn_and_audit,
    }


class PodSecurityLabels(Construct):
    """Labels ``namespace`` with Pod Security levels, as a patch: the namespace is not the
    stack's (``default`` cannot be deleted), so deleting the stack only resets the levels to
    ``privileged``, what a namespace without the labels gets.

    Used for ``default`` only (``ClusterStack``): ``baseline`` enforced (no privileged, host
    namespaces or hostPath), ``restricted`` warned and audited. ``kube-system`` is left alone on
    purpose: aws-node and kube-proxy are privileged, eks-pod-identity-agent uses the host
    network and the device plugin a hostPath, all of which only ``privileged`` admits, and a
    ``privileged`` label would change nothing. The smoke-test namespace enforces ``restricted``
    itself (charts/gpu_smoke_test.py).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        namespace: str,
        enforce: str,
        warn_and_audit: str,
    ) -> None:
        super().__init__(scope, construct_id)
        labels = pod_security_labels(enforce=enforce, warn_and_audit=warn_and_audit)
        self.labels = labels
        eks.KubernetesPatch(
            self,
            "Patch",
            cluster=cluster,
            resource_name=f"namespace/{namespace}",
            apply_patch={"metadata": {"labels": labels}},
            # Back to what a namespace without labels gets (jsii drops the nulls a merge patch
            # would need to delete the keys).
            restore_patch={"metadata": {"labels": dict.fromkeys(labels, "privileged")}},
            patch_type=eks.PatchType.MERGE,
        )
