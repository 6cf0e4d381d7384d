"""The Kubernetes-version map: everything pinned per Kubernetes minor lives here.

A minor is supported only when EKS runs it and aws-cdk-lib's ``KubernetesVersion``, a kubectl
Lambda layer package (requirements.txt) and a cluster-autoscaler release exist for it. The
autoscaler's minor must equal the cluster's (kubernetes/autoscaler FAQ), so there is no fallback:
an unknown minor is a config error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KubernetesRelease:
    """What this project pins for one Kubernetes minor."""

    minor: str
    """``"1.36"``: the value of ``kubernetes_version`` in the config."""
    kubectl_layer_module: str
    """Python module of the kubectl layer package whose kubectl matches ``minor``."""
    kubectl_layer_class: str
    cluster_autoscaler_tag: str
    """Tag of ``registry.k8s.io/autoscaling/cluster-autoscaler``; its minor equals ``minor``."""
    capacity_buffer_api: str | None = None
    """The CapacityBuffer version that autoscaler serves and stores, ``None`` when it has no
    CapacityBuffer controller. kubernetes/autoscaler tags: the CRD
    (``cluster-autoscaler/apis/config/crd/autoscaling.x-k8s.io_capacitybuffers.yaml``) and the
    flags ``--capacity-buffer-controller-enabled``/``--capacity-buffer-pod-injection-enabled``
    (``config/flags/flags.go``) first ship in cluster-autoscaler-1.34.0 (v1alpha1 only);
    1.35.0 adds v1beta1 as the storage version and deprecates v1alpha1; 1.33.x has neither."""

    @property
    def capacity_buffer_crd(self) -> str | None:
        """The CRD file (``charts/data``) released with ``cluster_autoscaler_tag``."""
        if self.capacity_buffer_api is None:
            return None
        return f"capacitybuffers-{self.cluster_autoscaler_tag.removeprefix('v')}.yaml"


KUBERNETES_RELEASES: dict[str, KubernetesRelease] = {
    release.minor: release
    for release in (
        KubernetesRelease("1.33", "aws_cdk.lambda_layer_kubectl_v33", "KubectlV33Layer", "v1.33.6"),
        KubernetesRelease(
            "1.34", "aws_cdk.lambda_layer_kubectl_v34", "KubectlV34Layer", "v1.34.5", "v1alpha1"
        ),
        KubernetesRelease(
            "1.35", "aws_cdk.lambda_layer_kubectl_v35", "KubectlV35Layer", "v1.35.2", "v1beta1"
        ),
        KubernetesRelease(
            "1.36", "aws_cdk.lambda_layer_kubectl_v36", "KubectlV36Layer", "v1.36.1", "v1beta1"
        ),
    )
}

DEFAULT_KUBERNETES_VERSION = "1.36"

CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"


def kubernetes_release(minor: str) -> KubernetesRelease:
    """The pinned release for ``minor``; raises ``KeyError`` naming the supported minors."""
    try:
        return KUBERNETES_RELEASES[minor]
    except KeyError:
        raise KeyError(
            f"Kubernetes {minor!r} is not supported; supported: {', '.join(KUBERNETES_RELEASES)}"
        ) from None
