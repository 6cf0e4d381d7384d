"""The pods the check asks about, as users are told to write them.

A GPU pod (README's "Using GPUs"), the same with ephemeral storage or selecting a pool, a plain
pod, an EFA pool's multi-node training worker (docs/using-gpus.md), and the autoscaler's own pod.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from cluster_config.efa import EFA_RESOURCE
from cluster_config.labels import GPU_TAINT_KEY, POOL_LABEL
from verify.autoscaler.groups import GroupFacts
from verify.autoscaler.workloads import AutoscalerDeployment
from verify.autoscaler_model import NVIDIA_GPU
from verify.scheduler_model import Node

GPU_POD: dict[str, Any] = {
    "tolerations": [{"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
    "containers": [{"name": "gpu", "resources": {"limits": {NVIDIA_GPU: "1"}}}],
}
"""What README's "Using GPUs" tells users to write: the toleration and one GPU."""

GPU_POD_WITH_STORAGE: dict[str, Any] = {
    "tolerations": GPU_POD["tolerations"],
    "containers": [
        {
            "name": "gpu",
            "resources": {
                "requests": {"ephemeral-storage": "10Gi"},
                "limits": {NVIDIA_GPU: "1", "ephemeral-storage": "10Gi"},
            },
        }
    ],
}
"""The same with 10Gi of ephemeral storage (directly or from a LimitRange)."""

PLAIN_POD: dict[str, Any] = {
    "containers": [{"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]
}


def efa_pod(gpus: Fraction, efa: Fraction) -> dict[str, Any]:
    """A multi-node training worker as docs/using-gpus.md ("Multi-node training") writes it: the
    GPU toleration, every GPU and every EFA of a node, no selector."""
    limits = {NVIDIA_GPU: str(int(gpus)), EFA_RESOURCE: str(int(efa))}
    return {
        "tolerations": GPU_POD["tolerations"],
        "containers": [{"name": "worker", "resources": {"limits": limits}}],
    }


def efa_pods_of(managed: Sequence[GroupFacts], templates: Mapping[str, Node]) -> dict[str, Any]:
    """Pool -> its worker pod, for the pools whose templates advertise EFA (the node-template
    resources tag): one pod each, sized to a whole node of the pool."""
    return {
        templates[g.name].labels.get(POOL_LABEL, "-"): efa_pod(
            templates[g.name].capacity.get(NVIDIA_GPU, Fraction(0)),
            templates[g.name].capacity[EFA_RESOURCE],
        )
        for g in managed
        if g.gpu and templates[g.name].capacity.get(EFA_RESOURCE)
    }


def pool_pod(pool: str) -> dict[str, Any]:
    """A GPU pod that selects a pool, as README tells users to write it."""
    return {**GPU_POD, "nodeSelector": {POOL_LABEL: pool}}


def probe_pods(
    gpu_pools: Sequence[str], efa_pods: Mapping[str, Any], autoscaler: AutoscalerDeployment
) -> dict[str, Any]:
    """Pod name -> pod spec of every pod the rules ask about (the autoscaler's own when it is
    deployed). A new kind of pending pod is one more entry here and a rule that reads its fits."""
    pods: dict[str, Any] = {
        "gpu pod": GPU_POD,
        "gpu pod +10Gi disk": GPU_POD_WITH_STORAGE,
        "plain pod": PLAIN_POD,
        **{f"pool pod {pool}": pool_pod(pool) for pool in gpu_pools},
        **{f"efa pod {pool}": pod for pool, pod in efa_pods.items()},
    }
    if autoscaler.pod is not None:
        pods["autoscaler"] = autoscaler.pod
    return pods
