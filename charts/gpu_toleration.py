"""The toleration every pod that must run on a GPU node carries (the GPU groups' taint)."""

from cdk8s_plus_33 import k8s

from cluster_config.labels import GPU_TAINT_EFFECT, GPU_TAINT_KEY

GPU_TOLERATION = k8s.Toleration(key=GPU_TAINT_KEY, operator="Exists", effect=GPU_TAINT_EFFECT)
