"""NetworkPolicies the charts share."""

from cdk8s_plus_33 import k8s
from constructs import Construct


def default_deny(scope: Construct, namespace: str) -> k8s.KubeNetworkPolicy:
    """Default deny, both ways, for every pod of ``namespace`` (an empty podSelector): for the
    namespaces the project owns whose pods talk to nothing. The kubelet pulls their images over
    the node's network, which NetworkPolicy does not govern."""
    return k8s.KubeNetworkPolicy(
        scope,
        "DefaultDeny",
        metadata=k8s.ObjectMeta(name="default-deny", namespace=namespace),
        spec=k8s.NetworkPolicySpec(
            pod_selector=k8s.LabelSelector(), policy_types=["Ingress", "Egress"]
        ),
    )
