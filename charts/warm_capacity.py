"""Warm GPU capacity: N ready nodes per pool, so a GPU pod skips the launch, boot and join.

Two ways, chosen by the autoscaler release the cluster runs (``cluster_config/versions.py``
``capacity_buffer_api``):

- a ``CapacityBuffer`` (cluster-autoscaler 1.34+; CRD ``capacitybuffers.autoscaling.x-k8s.io``,
  installed by the autoscaler chart) pointing at a ``PodTemplate`` of one buffer pod per warm
  node: the autoscaler injects the buffer's pods into its simulation as pending pods (no pod is
  created), so it keeps room for them, and a real pod simply takes the room;
- otherwise the FAQ's overprovisioning recipe (kubernetes/autoscaler
  ``cluster-autoscaler/FAQ.md``, "How can I configure overprovisioning"): a Deployment of pause
  pods under a PriorityClass of -10, "the lowest priority that triggers scaling clusters"
  (``--expendable-pods-priority-cutoff`` defaults to -10; lower would never scale up); a real
  pod (priority 0) preempts one, which then goes pending and makes the autoscaler add a node.

Each buffer pod asks for every GPU the pool's node advertises (so exactly one fits a node),
selects the pool (``pool=<name>``) and tolerates the GPU taint, like a real pod of the pool.
"""

from __future__ import annotations

from collections.abc import Sequence

import cdk8s
from cdk8s_plus_33 import k8s
from constructs import Construct

from charts.gpu_toleration import GPU_TOLERATION
from charts.network_policy import default_deny
from cluster_config.gpu_sharing import GPU_RESOURCE
from cluster_config.images import image_reference
from cluster_config.labels import POOL_LABEL
from cluster_config.warm_capacity import WarmPool

NAMESPACE = "gpu-warm-capacity"
PRIORITY_CLASS = "gpu-warm-capacity"
OVERPROVISIONING_PRIORITY = -10
"""FAQ.md, overprovisioning step 2: "Priority -10 will be reserved for overprovisioning pods"."""
CAPACITY_BUFFER_GROUP = "autoscaling.x-k8s.io"
# Defaults block: the pause image, pinned by digest. No registry is reachable here; this is the
# manifest-list digest public repositories pin for registry.k8s.io/pause:3.10 (e.g. Cilium's
# images/*/Dockerfile "FROM registry.k8s.io/pause:3.10@sha256:ee6521f2..."), read 2026-12-02.
PAUSE_REPOSITORY = "registry.k8s.io/pause"
PAUSE_TAG = "3.10"
PAUSE_DIGEST = "sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a"
PAUSE_IMAGE = image_reference(PAUSE_REPOSITORY, PAUSE_TAG, PAUSE_DIGEST)
BUFFER_POD_CPU = "10m"
BUFFER_POD_MEMORY = "16Mi"
"""Small on purpose: the GPU request alone makes one buffer pod fill one node."""
POD_SECURITY_LABELS = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
}


class WarmCapacityChart(cdk8s.Chart):
    """``pools``' warm capacity: CapacityBuffers when ``capacity_buffer_api`` (the version the
    cluster's autoscaler serves) is given, the FAQ's pause pods otherwise."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pools: Sequence[WarmPool],
        capacity_buffer_api: str | None,
        image_registry_mirror: str | None = None,
    ) -> None:
        """``image_registry_mirror``: the pause image is pulled through it (``charts.images``)."""
        super().__init__(scope, construct_id, disable_resource_name_hashes=True)
        image = image_reference(
            PAUSE_REPOSITORY, PAUSE_TAG, PAUSE_DIGEST, registry_mirror=image_registry_mirror
        )
        self.pools = tuple(pools)
        self.capacity_buffer_api = capacity_buffer_api
        if not self.pools:
            return
        k8s.KubeNamespace(
            self, "Namespace", metadata=k8s.ObjectMeta(name=NAMESPACE, labels=POD_SECURITY_LABELS)
        )
        default_deny(self, NAMESPACE)  # the pause pods only hold capacity
        if capacity_buffer_api is None:
            k8s.KubePriorityClass(
                self,
                "PriorityClass",
                metadata=k8s.ObjectMeta(name=PRIORITY_CLASS),
                value=OVERPROVISIONING_PRIORITY,
                global_default=False,
                preemption_policy="Never",
                description="Pause pods that keep warm GPU nodes (cluster-autoscaler FAQ, "
                "overprovisioning); any pod of priority 0 or more preempts them.",
            )
        for warm in self.pools:
            construct = "".join(part.capitalize() for part in warm.name.split("-"))
            labels = {"app": warm.name}
            if capacity_buffer_api is None:
                k8s.KubeDeployment(
                    self,
                    construct,
                    metadata=k8s.ObjectMeta(name=warm.name, namespace=NAMESPACE, labels=labels),
                    spec=k8s.DeploymentSpec(
                        replicas=warm.nodes,
                        selector=k8s.LabelSelector(match_labels=labels),
                        template=_pod_template(warm, labels, PRIORITY_CLASS, image),
                    ),
                )
                continue
            k8s.KubePodTemplate(
                self,
                f"{construct}PodTemplate",
                metadata=k8s.ObjectMeta(name=warm.name, namespace=NAMESPACE, labels=labels),
                template=_pod_template(warm, labels, None, image),
            )
            cdk8s.ApiObject(
                self,
                f"{construct}Buffer",
                api_version=f"{CAPACITY_BUFFER_GROUP}/{capacity_buffer_api}",
                kind="CapacityBuffer",
                metadata=cdk8s.ApiObjectMetadata(
                    name=warm.name, namespace=NAMESPACE, labels=labels
                ),
            ).add_json_patch(
                cdk8s.JsonPatch.add(
                    "/spec", {"podTemplateRef": {"name": warm.name}, "replicas": warm.nodes}
                )
            )


def _pod_template(
    warm: WarmPool, labels: dict[str, str], priority_class: str | None, image: str
) -> k8s.PodTemplateSpec:
    gpus = k8s.Quantity.from_number(warm.gpus_per_node)
    return k8s.PodTemplateSpec(
        metadata=k8s.ObjectMeta(labels=labels),
        spec=k8s.PodSpec(
            priority_class_name=priority_class,
            node_selector={POOL_LABEL: warm.pool},
            tolerations=[GPU_TOLERATION],
            automount_service_account_token=False,
            termination_grace_period_seconds=0,
            security_context=k8s.PodSecurityContext(
                run_as_non_root=True,
                run_as_user=65535,
                seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[
                k8s.Container(
                    name="pause",
                    image=image,
                    image_pull_policy="Always",
                    resources=k8s.ResourceRequirements(
                        requests={
                            "cpu": k8s.Quantity.from_string(BUFFER_POD_CPU),
                            "memory": k8s.Quantity.from_string(BUFFER_POD_MEMORY),
                            GPU_RESOURCE: gpus,
                        },
                        limits={
                            "cpu": k8s.Quantity.from_string(BUFFER_POD_CPU),
                            "memory": k8s.Quantity.from_string(BUFFER_POD_MEMORY),
                            GPU_RESOURCE: gpus,
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
    )
