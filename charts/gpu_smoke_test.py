"""A Job that asks for one GPU and runs ``nvidia-smi``: proof that scale-from-zero works."""

from __future__ import annotations

import cdk8s
from cdk8s_plus_33 import k8s
from constructs import Construct

from charts.gpu_toleration import GPU_TOLERATION
from charts.network_policy import default_deny
from cluster_config.images import image_reference

# Defaults block: a CUDA base image the AL2023 NVIDIA AMI's driver supports. NVIDIA's Docker Hub
# copy, because its manifest-list digest is published (the RepoDigest several public repos pin);
# no public source gives the nvcr.io digest, and no registry is reachable here to read one.
CUDA_IMAGE = "docker.io/nvidia/cuda"
CUDA_TAG = "12.8.1-base-ubuntu24.04"
CUDA_DIGEST = "sha256:133c78a0575303be34164d0b90137a042172bdf60696af01a3c424ab402d86e2"

NAME = "gpu-smoke-test"
NAMESPACE = "gpu-smoke-test"
# Pod Security Admission (kubernetes.io/docs/concepts/security/pod-security-admission): the
# project owns this namespace, and the Job meets the "restricted" profile.
POD_SECURITY_LABELS = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
}


class GpuSmokeTestChart(cdk8s.Chart):
    """One pod requesting ``nvidia.com/gpu: 1`` and tolerating the GPU taint.

    With no GPU node running, the pod stays Pending until the cluster autoscaler adds a node to a
    GPU group (from zero), the device plugin advertises the GPU, and ``nvidia-smi`` prints it. The
    Job is deleted an hour after it finishes; the autoscaler then removes the idle node. It runs
    in its own namespace (Pod Security ``restricted`` enforced) without a service-account token:
    ``nvidia-smi`` never calls the Kubernetes API.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namespace: str = NAMESPACE,
        image_tag: str = CUDA_TAG,
        image_digest: str = CUDA_DIGEST,
        image_registry_mirror: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id, disable_resource_name_hashes=True)
        k8s.KubeNamespace(
            self,
            "Namespace",
            metadata=k8s.ObjectMeta(name=namespace, labels=POD_SECURITY_LABELS),
        )
        # The Job needs no allowance: nvidia-smi talks only to the driver (no DNS, no API server:
        # it has no token either).
        default_deny(self, namespace)
        k8s.KubeJob(
            self,
            "Job",
            metadata=k8s.ObjectMeta(name=NAME, namespace=namespace, labels={"app": NAME}),
            spec=k8s.JobSpec(
                backoff_limit=2,
                active_deadline_seconds=1800,  # scale-up from zero takes a few minutes
                ttl_seconds_after_finished=3600,
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(labels={"app": NAME}),
                    spec=k8s.PodSpec(
                        restart_policy="Never",
                        automount_service_account_token=False,
                        tolerations=[GPU_TOLERATION],
                        security_context=k8s.PodSecurityContext(
                            run_as_non_root=True,
                            run_as_user=65534,  # nobody: a UID no host account uses
                            seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
                        ),
                        containers=[
                            k8s.Container(
                                name="nvidia-smi",
                                image=image_reference(
                                    CUDA_IMAGE,
                                    image_tag,
                                    image_digest,
                                    registry_mirror=image_registry_mirror,
                                ),
                                command=["nvidia-smi"],
                                resources=k8s.ResourceRequirements(
                                    requests={
                                        "cpu": k8s.Quantity.from_string("100m"),
                                        "memory": k8s.Quantity.from_string("128Mi"),
                                    },
                                    limits={
                                        "cpu": k8s.Quantity.from_string("1"),
                                        "memory": k8s.Quantity.from_string("128Mi"),
                                        "nvidia.com/gpu": k8s.Quantity.from_number(1),
                                    },
                                ),
                                security_context=k8s.SecurityContext(
                                    allow_privilege_escalation=False,
                                    read_only_root_filesystem=True,
                                    capabilities=k8s.Capabilities(drop=["ALL"]),
                                ),
                            )
                        ],
                    ),
                ),
            ),
        )
