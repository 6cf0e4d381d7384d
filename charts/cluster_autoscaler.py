"""Cluster autoscaler for AWS: RBAC as in upstream's autodiscover example, and its Deployment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cdk8s
import yaml
from cdk8s_plus_33 import k8s
from constructs import Construct

from cluster_config.images import image_reference
from cluster_config.labels import POOL_LABEL
from cluster_config.priority_expander import CONFIG_MAP_KEY, CONFIG_MAP_NAME
from cluster_config.versions import CLUSTER_AUTOSCALER_IMAGE, kubernetes_release

NAME = "cluster-autoscaler"
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = NAME

# --balance-similar-node-groups compares only the --balancing-label labels (processors/
# nodegroupset/label_nodegroups.go, CreateLabelNodeInfoComparator): each GPU pool's groups have
# pool=<pool name>, the system group pool=system. The built-in comparison cannot work here: each
# template node carries its own nodegroup-name label (from the ASG tag eks:nodegroup-name), and a
# live node has labels and a memory size its template lacks. --balancing-label disables
# --balancing-ignore-label entirely (builder/autoscaler.go), so the two are never combined.
DEFAULT_BALANCING_LABELS = (POOL_LABEL,)

_RO = ["watch", "list", "get"]

# (apiGroups, resources, verbs, resourceNames) from kubernetes/autoscaler
# cluster-autoscaler/cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml
CLUSTER_RULES: tuple[tuple[list[str], list[str], list[str], list[str] | None], ...] = (
    ([""], ["events", "endpoints"], ["create", "patch"], None),
    ([""], ["pods/eviction"], ["create"], None),
    ([""], ["pods/status"], ["update"], None),
    ([""], ["endpoints"], ["get", "update"], [NAME]),
    ([""], ["nodes"], ["watch", "list", "get", "update"], None),
    (
        [""],
        [
            "namespaces",
            "pods",
            "services",
            "replicationcontrollers",
            "persistentvolumeclaims",
            "persistentvolumes",
        ],
        _RO,
        None,
    ),
    (["extensions"], ["replicasets", "daemonsets"], _RO, None),
    (["policy"], ["poddisruptionbudgets"], ["watch", "list"], None),
    (["apps"], ["statefulsets", "replicasets", "daemonsets"], _RO, None),
    (["resource.k8s.io"], ["deviceclasses", "resourceslices", "resourceclaims"], _RO, None),
    (
        ["storage.k8s.io"],
        ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"],
        _RO,
        None,
    ),
    (["batch", "extensions"], ["jobs"], ["get", "list", "watch", "patch"], None),
    (["coordination.k8s.io"], ["leases"], ["create"], None),
    (["coordination.k8s.io"], ["leases"], ["get", "update"], [NAME]),
)
# What the CapacityBuffer controller and pod injection read and write, from kubernetes/autoscaler
# cluster-autoscaler-1.36.1 capacitybuffer/client/client.go (NewCapacityBufferClient's informers:
# buffers, podtemplates, resourcequotas, deployments, replicasets, statefulsets, jobs,
# replicationcontrollers; UpdateStatus on buffers); the last four are in CLUSTER_RULES already.
# No pod create: --capacity-buffer-pod-dry-run-enabled=false where that flag exists (1.36+).
CAPACITY_BUFFER_RULES: tuple[tuple[list[str], list[str], list[str], list[str] | None], ...] = (
    (
        ["autoscaling.x-k8s.io"],
        ["capacitybuffers"],
        ["watch", "list", "get", "update", "patch"],
        None,
    ),
    (["autoscaling.x-k8s.io"], ["capacitybuffers/status"], ["get", "update", "patch"], None),
    ([""], ["podtemplates", "resourcequotas"], _RO, None),
    (["apps"], ["deployments"], _RO, None),
)
NAMESPACE_RULES: tuple[tuple[list[str], list[str], list[str], list[str] | None], ...] = (
    ([""], ["configmaps"], ["create", "list", "watch"], None),
    (
        [""],
        ["configmaps"],
        ["delete", "get", "update", "watch"],
        ["cluster-autoscaler-status", CONFIG_MAP_NAME],
    ),
)


def autoscaler_args(
    cluster_name: str,
    *,
    expander: str = "least-waste",
    balancing_labels: Sequence[str] = DEFAULT_BALANCING_LABELS,
    tuning: Sequence[str] = (),
) -> list[str]:
    """Command-line flags: auto-discovery of this cluster's groups, scale to and from zero.

    Groups are similar iff all ``balancing_labels`` are equal (one ``--balancing-label`` each);
    ``tuning`` holds the scale-down flags (``scale_down_args``).
    No ``--aws-use-static-instance-list``: the autoscaler then reads every instance type from
    ``ec2:DescribeInstanceTypes`` at start-up (1.36.1 ``aws_cloud_provider.go`` ``BuildAWS``), the
    data ``cluster_config/catalog.py`` is built from.
    """
    if not balancing_labels:
        raise ValueError("balancing_labels: at least one label (e.g. 'pool') is required")
    return [
        "./cluster-autoscaler",
        "--cloud-provider=aws",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        f"k8s.io/cluster-autoscaler/{cluster_name}",
        "--balance-similar-node-groups=true",
        *(f"--balancing-label={label}" for label in balancing_labels),
        f"--expander={expander}",
        "--skip-nodes-with-system-pods=false",
        "--skip-nodes-with-local-storage=false",
        *tuning,
        "--v=4",
    ]


def capacity_buffer_args(cluster_autoscaler_tag: str) -> list[str]:
    """Flags that turn on the CapacityBuffer controller and the injection of its pods
    (``config/flags/flags.go``, both default false). The controller writes buffer status
    through a client that defaults to protobuf, which a CRD cannot serve, so the API content
    type must be JSON or the status is never written (issue 25; seen by others: ksail#5603).
    1.36 adds a server dry run of the buffer's pod (default true) that needs pod create
    permission: turned off instead of granting it."""
    minor = int(cluster_autoscaler_tag.removeprefix("v").split(".")[1])
    return [
        "--capacity-buffer-controller-enabled=true",
        "--capacity-buffer-pod-injection-enabled=true",
        "--kube-api-content-type=application/json",
        *(["--capacity-buffer-pod-dry-run-enabled=false"] if minor >= 36 else []),
    ]


def scale_up_latency_args(
    *, scan_interval_seconds: int, new_pod_scale_up_delay_seconds: int
) -> list[str]:
    """How soon a pending pod is scaled up for (``config/flags/flags.go``: ``--scan-interval``
    default ``config.DefaultScanInterval`` = 10s, ``config/const.go``; ``--new-pod-scale-up-delay``
    default 0s). Written even at the defaults, so the deployed value is visible."""
    return [
        f"--scan-interval={scan_interval_seconds}s",
        f"--new-pod-scale-up-delay={new_pod_scale_up_delay_seconds}s",
    ]


def scale_down_args(
    *,
    unneeded_minutes: int,
    delay_after_add_minutes: int,
    max_node_provision_minutes: int,
    utilization_threshold: float,
    gpu_utilization_threshold: float,
) -> list[str]:
    """Scale-down timings and thresholds (cluster-autoscaler FAQ, "What are the parameters")."""
    return [
        f"--scale-down-unneeded-time={unneeded_minutes}m",
        f"--scale-down-delay-after-add={delay_after_add_minutes}m",
        f"--max-node-provision-time={max_node_provision_minutes}m",
        f"--scale-down-utilization-threshold={utilization_threshold:g}",
        f"--scale-down-gpu-utilization-threshold={gpu_utilization_threshold:g}",
    ]


class ClusterAutoscalerChart(cdk8s.Chart):
    """The autoscaler whose minor version equals the cluster's (an unknown minor raises).

    Runs only on nodes matching ``node_selector`` (the system group: GPU nodes are never used),
    as non-root with a read-only root filesystem, and is never evicted by itself
    (``safe-to-evict: "false"``). Its AWS identity comes from EKS Pod Identity, bound to the
    ``kube-system/cluster-autoscaler`` service account by the CDK side.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        region: str,
        kubernetes_version: str,
        node_selector: Mapping[str, str],
        args: Sequence[str] | None = None,
        expander_priorities: Mapping[int, Sequence[str]] | None = None,
        capacity_buffer_crd: Path | None = None,
        image_registry_mirror: str | None = None,
    ) -> None:
        """``args`` default to ``autoscaler_args(cluster_name)``; ``expander_priorities``
        (priority -> ASG-name regexes) adds the priority expander's ConfigMap;
        ``capacity_buffer_crd`` (the CRD file released with the autoscaler) installs the
        CapacityBuffer CRD and the RBAC its controller needs (the flags are in ``args``)."""
        super().__init__(scope, construct_id, disable_resource_name_hashes=True)
        self.args = list(args) if args is not None else autoscaler_args(cluster_name)
        release = kubernetes_release(kubernetes_version)
        self.image = image_reference(
            CLUSTER_AUTOSCALER_IMAGE,
            release.cluster_autoscaler_tag,
            registry_mirror=image_registry_mirror,
        )
        labels = {"app": NAME}
        subject = k8s.Subject(kind="ServiceAccount", name=SERVICE_ACCOUNT, namespace=NAMESPACE)

        k8s.KubeServiceAccount(
            self,
            "ServiceAccount",
            metadata=k8s.ObjectMeta(name=SERVICE_ACCOUNT, namespace=NAMESPACE, labels=labels),
        )
        k8s.KubeClusterRole(
            self,
            "ClusterRole",
            metadata=k8s.ObjectMeta(name=NAME, labels=labels),
            rules=_rules(CLUSTER_RULES + (CAPACITY_BUFFER_RULES if capacity_buffer_crd else ())),
        )
        if capacity_buffer_crd is not None:
            cdk8s.Include(self, "CapacityBufferCrd", url=str(capacity_buffer_crd))
        k8s.KubeClusterRoleBinding(
            self,
            "ClusterRoleBinding",
            metadata=k8s.ObjectMeta(name=NAME, labels=labels),
            role_ref=k8s.RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=NAME
            ),
            subjects=[subject],
        )
        k8s.KubeRole(
            self,
            "Role",
            metadata=k8s.ObjectMeta(name=NAME, namespace=NAMESPACE, labels=labels),
            rules=_rules(NAMESPACE_RULES),
        )
        k8s.KubeRoleBinding(
            self,
            "RoleBinding",
            metadata=k8s.ObjectMeta(name=NAME, namespace=NAMESPACE, labels=labels),
            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=NAME),
            subjects=[subject],
        )
        if expander_priorities:
            _priority_expander_config_map(self, expander_priorities, labels)
        k8s.KubeDeployment(
            self,
            "Deployment",
            metadata=k8s.ObjectMeta(name=NAME, namespace=NAMESPACE, labels=labels),
            spec=k8s.DeploymentSpec(
                replicas=1,
                selector=k8s.LabelSelector(match_labels=labels),
                template=k8s.PodTemplateSpec(
                    metadata=k8s.ObjectMeta(
                        labels=labels,
                        annotations={"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
                    ),
                    spec=self._pod_spec(cluster_name, region, node_selector),
                ),
            ),
        )
        # Nothing connects to the autoscaler (no probe, no scrape by default). Egress stays
        # open: it needs the API server, DNS, the Pod Identity agent (169.254.170.23) and the
        # regional AWS endpoints, which are public addresses behind the NAT gateway.
        k8s.KubeNetworkPolicy(
            self,
            "NetworkPolicy",
            metadata=k8s.ObjectMeta(
                name=f"{NAME}-deny-ingress", namespace=NAMESPACE, labels=labels
            ),
            spec=k8s.NetworkPolicySpec(
                pod_selector=k8s.LabelSelector(match_labels=labels),
                policy_types=["Ingress"],
            ),
        )

    def _pod_spec(
        self, cluster_name: str, region: str, node_selector: Mapping[str, str]
    ) -> k8s.PodSpec:
        resources = {
            "cpu": k8s.Quantity.from_string("100m"),
            "memory": k8s.Quantity.from_string("600Mi"),
        }
        return k8s.PodSpec(
            service_account_name=SERVICE_ACCOUNT,
            priority_class_name="system-cluster-critical",
            node_selector=dict(node_selector),
            security_context=k8s.PodSecurityContext(
                run_as_non_root=True,
                run_as_user=65534,
                fs_group=65534,
                seccomp_profile=k8s.SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[
                k8s.Container(
                    name=NAME,
                    image=self.image,
                    image_pull_policy="IfNotPresent",
                    command=self.args,
                    env=[k8s.EnvVar(name="AWS_REGION", value=region)],
                    resources=k8s.ResourceRequirements(requests=resources, limits=resources),
                    security_context=k8s.SecurityContext(
                        allow_privilege_escalation=False,
                        read_only_root_filesystem=True,
                        capabilities=k8s.Capabilities(drop=["ALL"]),
                    ),
                    # No CA-bundle hostPath: the image is built FROM
                    # gcr.io/distroless/static:nonroot (kubernetes/autoscaler
                    # cluster-autoscaler/Dockerfile, commit 06f30b6), which ships Debian's
                    # ca-certificates at /etc/ssl/certs/ca-certificates.crt, the first file Go's
                    # crypto/x509 reads on Linux (GoogleContainerTools/distroless
                    # base/README.md: "static" contains ca-certificates).
                )
            ],
        )


def _priority_expander_config_map(
    chart: cdk8s.Chart, priorities: Mapping[int, Sequence[str]], labels: Mapping[str, str]
) -> k8s.KubeConfigMap:
    """``kube-system/cluster-autoscaler-priority-expander``, key ``priorities`` (upstream
    ``expander/priority/priority.go``): YAML map of priority to ASG-name regexes."""
    document = {int(p): list(patterns) for p, patterns in sorted(priorities.items(), reverse=True)}
    return k8s.KubeConfigMap(
        chart,
        "PriorityExpander",
        metadata=k8s.ObjectMeta(name=CONFIG_MAP_NAME, namespace=NAMESPACE, labels=dict(labels)),
        data={CONFIG_MAP_KEY: yaml.safe_dump(document, sort_keys=False)},
    )


def _rules(
    rules: Sequence[tuple[list[str], list[str], list[str], list[str] | None]],
) -> list[k8s.PolicyRule]:
    return [
        k8s.PolicyRule(api_groups=groups, resources=res, verbs=verbs, resource_names=names)
        for groups, res, verbs, names in rules
    ]
