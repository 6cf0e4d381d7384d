"""The ``autoscaler`` verify check: passes on what works, fails the way the autoscaler would."""

from __future__ import annotations

import copy
import io
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from aws_rules.nodeadm import cpu_quantity, memory_quantity
from cluster_config.catalog import ALL_INSTANCE_TYPES
from cluster_config.loader import load_config
from tests.support import CDK_CONTEXT, ROOT, resources, synthesize
from verify.autoscaler.check import check_autoscaler, simulate
from verify.autoscaler.nodes import provider_template
from verify.autoscaler.probes import GPU_POD
from verify.manifests import MANIFEST_TYPE, attached_objects
from verify.report import print_report
from verify.scheduler_model import fit_failure
from verify.synth import Synthesis

OLD_FLAGS = [
    "--balancing-ignore-label=eks.amazonaws.com/sourceLaunchTemplateId",
    "--balancing-ignore-label=eks.amazonaws.com/sourceLaunchTemplateVersion",
    "--balancing-ignore-label=topology.k8s.aws/zone-id",
]
TAINT_TAG = "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"
GPU_TAG = "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"
STORAGE_TAG = "k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage"
MEMORY_TAG = "k8s.io/cluster-autoscaler/node-template/resources/memory"
CPU_TAG = "k8s.io/cluster-autoscaler/node-template/resources/cpu"
POOL_TAG = "k8s.io/cluster-autoscaler/node-template/label/pool"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.fixture
def output(default_synth: Synthesis) -> dict[str, Any]:
    """A private copy of the default synth's templates and attached objects."""
    cluster = copy.deepcopy(default_synth.cluster)
    return {
        "cluster": cluster,
        "network": copy.deepcopy(default_synth.network),
        "objects": attached_objects(cluster),
    }


def name_of(output: dict[str, Any], configured: str) -> str:
    """The deployed name (``<configured>-<digest>``) of a configured group."""
    return next(
        r["Properties"]["NodegroupName"]
        for r in resources(output["cluster"], "AWS::EKS::Nodegroup").values()
        if r["Properties"]["NodegroupName"].rsplit("-", 1)[0] == configured
    )


def pool_of(output: dict[str, Any], name: str) -> str:
    """The ``pool`` label of a deployed group, as the stack gives it."""
    return next(
        r["Properties"]["Labels"]["pool"]
        for r in resources(output["cluster"], "AWS::EKS::Nodegroup").values()
        if r["Properties"]["NodegroupName"] == name
    )


def run(output: dict[str, Any]) -> Any:
    return check_autoscaler(output["cluster"], output["network"], output["objects"])


def autoscaler_command(output: dict[str, Any]) -> list[str]:
    deployment = next(o for o in output["objects"] if o["kind"] == "Deployment")
    command: list[str] = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    return command


def gpu_groups(output: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in resources(output["cluster"], "AWS::EKS::Nodegroup").values()
        if r["Properties"].get("Taints")
    ]


def tag_resources(output: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in resources(output["cluster"], "Custom::AsgNodeTemplateTags").values()
    ]


def drop_tag(output: dict[str, Any], key: str) -> None:
    """Remove a node-template tag from every ASG and every node group (both paths CA reads)."""
    for props in [*tag_resources(output), *gpu_groups(output)]:
        props.get("Tags", {}).pop(key, None)


def test_default_config_passes_with_the_table(output: dict[str, Any]) -> None:
    result = run(output)
    assert result.status == "PASS", result.details
    table = "\n".join(result.table)
    assert "balancing (--balancing-label=pool):" in table
    a, b, c = (name_of(output, f"gpu-spot-ng-{zone}") for zone in "abc")
    pool = "gpu-spot-ng"  # cdk.json's pool, not read back from the template under test
    assert f"all at zero: pool {pool} (SPOT): a scale-up is spread over {a} + {b} + {c}" in table
    assert (
        f"one live node, others at zero: pool {pool} (SPOT): a scale-up is spread over "
        f"{a} + {b} + {c}" in table
    )
    system = name_of(output, "spot-ng")
    assert f"all at zero: system group {system}: a scale-up is spread over {system} alone" in table


def test_template_nodes_are_what_the_autoscaler_builds(output: dict[str, Any]) -> None:
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    gpu_a = name_of(output, "gpu-spot-ng-a")
    node = simulation.templates[gpu_a]
    assert {k: node.labels[k] for k in ("nodegroup-name", "cluster-name", "pool", "amiType")} == {
        "nodegroup-name": gpu_a,
        "cluster-name": "gpu-spot",
        "pool": pool_of(output, gpu_a),
        "amiType": "AL2023_x86_64_NVIDIA",
    }
    assert node.labels["topology.kubernetes.io/zone"] == "us-west-2a"
    # SanitizedTemplateNodeInfoFromNodeGroup: deprecated labels and the template-node label
    assert node.labels["failure-domain.beta.kubernetes.io/zone"] == "us-west-2a"
    assert node.labels["cluster-autoscaler.kubernetes.io/template-node"] == "true"
    assert node.capacity["ephemeral-storage"] == 90675 * 2**20  # 100 GiB root volume
    assert node.capacity["nvidia.com/gpu"] == 1
    assert node.capacity["pods"] == 110
    system = simulation.templates[name_of(output, "spot-ng")]
    assert system.labels["pool"] == "system"  # from DescribeNodegroup: the ASG has no label tags
    assert simulation.fits["plain pod"] == {
        name_of(output, "spot-ng"): None,
        **{
            g: "untolerated taint nvidia.com/gpu=true:NoSchedule"
            for g in simulation.templates
            if g.startswith("gpu-")
        },
    }


def test_template_nodes_hold_the_kube_proxy_pod_and_every_daemonsets_pod(
    output: dict[str, Any],
) -> None:
    """AwsNodeGroup.TemplateNodeInfo's kube-proxy mirror pod (100m), then a pod per DaemonSet that
    would run on the node: the device plugin and the EKS add-ons' (published requests: aws-node
    2 x 25m, kube-proxy 100m, node monitoring agent 10m/30Mi, EBS CSI node 3 x 10m and 104Mi,
    pod identity agent none); the node
    monitoring agent's dcgm-server does not tolerate the GPU taint."""
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    gpu = simulation.templates[name_of(output, "gpu-spot-ng-a")]
    assert sorted((p.name, p.mirror) for p in gpu.pods) == [
        ("aws-node-pod", False),
        ("ebs-csi-node-pod", False),
        ("eks-node-monitoring-agent-pod", False),
        ("eks-pod-identity-agent-pod", False),
        ("kube-proxy-eks-" + name_of(output, "gpu-spot-ng-a"), True),
        ("kube-proxy-pod", False),
        ("nvidia-device-plugin-daemonset-pod", False),
    ]
    assert gpu.requested == {
        "cpu": Fraction(300, 1000),
        "memory": (64 + 30 + 104) * 2**20,
        "pods": 7,
    }
    system = simulation.templates[name_of(output, "spot-ng")]
    assert sorted(p.name for p in system.pods if not p.mirror) == [
        "aws-node-pod",
        "ebs-csi-node-pod",
        "eks-node-monitoring-agent-pod",
        "eks-pod-identity-agent-pod",
        "kube-proxy-pod",
    ]


def test_a_gpu_pod_that_fits_only_a_bare_template_is_refused(output: dict[str, Any]) -> None:
    """3.7 CPUs and a GPU: within the template node's 3.92 CPUs, not within what the kube-proxy
    and DaemonSet pods (300m) leave."""
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    group = next(g for g in simulation.groups if g.gpu)
    pod = {
        **GPU_POD,
        "containers": [{"resources": {"limits": {"nvidia.com/gpu": "1", "cpu": "3700m"}}}],
    }
    bare = provider_template(group)
    bare.pods.clear()
    bare.requested.clear()
    assert fit_failure(pod, bare) is None
    assert fit_failure(pod, simulation.templates[group.name]) == "insufficient cpu"


def test_an_eks_addon_verify_does_not_know_fails(output: dict[str, Any]) -> None:
    output["cluster"]["Resources"]["EfsCsi"] = {
        "Type": "AWS::EKS::Addon",
        "Properties": {"AddonName": "aws-efs-csi-driver", "ClusterName": "c"},
    }
    result = run(output)
    assert result.status == "FAIL"
    assert result.details == [
        "EKS add-on aws-efs-csi-driver: verify does not know its DaemonSets; add "
        "them from its published manifest to verify/data/eks-addon-daemonsets.json"
    ]


def test_gpu_metrics_put_the_agent_and_dcgm_exporter_on_gpu_template_nodes(
    gpu_metrics_synth: Synthesis,
) -> None:
    """``observability.gpu_metrics`` installs amazon-cloudwatch-observability (chart 6.4.0
    values, container logs off): its CloudWatch agent (250m/128Mi, every Linux node, tolerates
    all taints) on every template node and its dcgm-exporter (250m/128Mi, NVIDIA instance types
    only) on the GPU ones; neuron-monitor (Trainium/Inferentia only) and fluent-bit on none."""
    cluster = copy.deepcopy(gpu_metrics_synth.cluster)
    output: dict[str, Any] = {
        "cluster": cluster,
        "network": copy.deepcopy(gpu_metrics_synth.network),
        "objects": attached_objects(cluster),
    }
    result = run(output)
    assert result.status == "PASS", result.details
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    gpu_names = [name_of(output, f"gpu-spot-ng-{zone}") for zone in "abc"]
    for name in gpu_names:
        gpu = simulation.templates[name]
        assert sorted(p.name for p in gpu.pods if not p.mirror) == [
            "aws-node-pod",
            "cloudwatch-agent-pod",
            "dcgm-exporter-pod",
            "ebs-csi-node-pod",
            "eks-node-monitoring-agent-pod",
            "eks-pod-identity-agent-pod",
            "kube-proxy-pod",
            "nvidia-device-plugin-daemonset-pod",
        ]
        # without gpu_metrics 270m/94Mi (see the test above) and ebs-csi-node 3 x 10m and
        # (40 + 32 + 32)Mi; then the agent's and the exporter's 250m/128Mi each
        assert gpu.requested == {
            "cpu": Fraction(270 + 30 + 250 + 250, 1000),
            "memory": (64 + 30 + 104 + 128 + 128) * 2**20,
            "pods": 9,
        }
    system = simulation.templates[name_of(output, "spot-ng")]
    assert sorted(p.name for p in system.pods if not p.mirror) == [
        "aws-node-pod",
        "cloudwatch-agent-pod",
        "ebs-csi-node-pod",
        "eks-node-monitoring-agent-pod",
        "eks-pod-identity-agent-pod",
        "kube-proxy-pod",
    ]


def test_the_largest_pod_of_the_default_pool(output: dict[str, Any]) -> None:
    """From zero: the template's cpu/memory tags (nodeadm's allocatable) less the kube-proxy and
    DaemonSet pods; on the node that joins: nodeadm's allocatable on 95% of the instance's memory,
    less the DaemonSet pods (no mirror kube-proxy there)."""
    result = run(output)
    pool = pool_of(output, name_of(output, "gpu-spot-ng-a"))
    assert (
        f"  pool {pool} (g5.xlarge): 3620m, 14209Mi, 90675Mi / 3720m, 14379Mi, 90675Mi"
        in result.table
    )


def test_the_largest_pod_follows_upstream_vectors_not_our_formulas(output: dict[str, Any]) -> None:
    """A second derivation of the default pool's largest pod (g5.xlarge: 4 vCPUs, 16 GiB, maxPods
    58, 100 GiB root) from upstream's own figures, none computed by aws_rules/nodeadm.py, so a
    wrong kubelet formula there (which the template tags and verify's live node share) fails here.
    cpu: EKS's kube-reserved table, 80m for 4 cores. memory: nodeadm e2e vector
    (kubelet-config-dir, v20260724) maxPods 58 -> kubeReserved 893Mi, evictionHard 100Mi; a live
    16 GiB node reports 15944120Ki = 15570Mi (cluster-autoscaler compare_nodegroups_test.go), the
    template tag takes 94% = 15400Mi. ephemeral-storage: (102400 - 512)Mi less 1Gi and 10%. The
    pods' requests come from the scheduler model; the live node has no kube-proxy mirror pod
    (100m cpu, no memory)."""
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    group = name_of(output, "gpu-spot-ng-a")
    pods = simulation.templates[group].requested
    mi, mirror_cpu = 2**20, Fraction(1, 10)
    largest = simulation.largest[group]
    assert largest.scales_up == {
        "cpu": Fraction(3920, 1000) - pods["cpu"],
        "memory": (15400 - 893 - 100) * mi - pods["memory"],
        "ephemeral-storage": 90675 * mi,
    }
    assert largest.runs == {
        "cpu": Fraction(3920, 1000) - (pods["cpu"] - mirror_cpu),
        "memory": (15570 - 893 - 100) * mi - pods["memory"],
        "ephemeral-storage": 90675 * mi,
    }


def test_a_template_that_promises_the_instances_memory_fails(output: dict[str, Any]) -> None:
    """Without the memory tag the template offers 16 GiB; the node that joins about 14.1 GiB."""
    drop_tag(output, MEMORY_TAG)
    result = run(output)
    assert result.status == "FAIL"
    assert (
        f"{name_of(output, 'gpu-spot-ng-a')}: a GPU pod requesting more than 14379Mi and up to "
        "16186Mi of memory scales a node up from zero that it cannot run on (the template does "
        "not know the kubelet's reservations)"
    ) in result.details


def change_group(
    output: dict[str, Any], name: str, *, instance_type: str, pool: str | None = None
) -> None:
    """Give a deployed GPU group another instance type (and pool label) the way the stack would:
    node group labels and tags, the ASG's node-template tags, the device plugin's affinity."""
    shape = ALL_INSTANCE_TYPES[instance_type]
    tags = {
        CPU_TAG: cpu_quantity(shape.vcpus),
        MEMORY_TAG: memory_quantity(shape.memory_mib, (instance_type,)),
        **({POOL_TAG: pool} if pool is not None else {}),
    }
    nodegroups = resources(output["cluster"], "AWS::EKS::Nodegroup")
    owner = next(k for k, r in nodegroups.items() if r["Properties"]["NodegroupName"] == name)
    props = nodegroups[owner]["Properties"]
    props["InstanceTypes"] = [instance_type]
    props["Tags"].update(tags)
    if pool is not None:
        props["Labels"]["pool"] = pool
    for tagging in tag_resources(output):
        if tagging["NodegroupName"]["Fn::GetAtt"][0] == owner:
            tagging["Tags"].update(tags)
    plugin = next(o for o in output["objects"] if o["kind"] == "DaemonSet")
    affinity = plugin["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    term = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    term["matchExpressions"][0]["values"].append(instance_type)


def split_pool(output: dict[str, Any], zone: str, pool: str, instance_type: str) -> str:
    """Make group ``gpu-spot-ng-<zone>`` a group of pool ``pool`` with ``instance_type``."""
    name = name_of(output, f"gpu-spot-ng-{zone}")
    change_group(output, name, instance_type=instance_type, pool=pool)
    return name


def test_two_pools_are_balanced_each_within_itself(output: dict[str, Any]) -> None:
    c = split_pool(output, "c", "training", "g6e.xlarge")
    result = run(output)
    assert result.status == "PASS", result.details
    a, b = name_of(output, "gpu-spot-ng-a"), name_of(output, "gpu-spot-ng-b")
    pool = pool_of(output, a)
    assert f"  all at zero: pool {pool} (SPOT): a scale-up is spread over {a} + {b}" in result.table
    assert (
        f"  all at zero: pool training (SPOT): a scale-up is spread over {c} alone" in result.table
    )


def test_a_pod_that_selects_a_pool_scales_only_that_pools_groups(output: dict[str, Any]) -> None:
    c = split_pool(output, "c", "training", "g6e.xlarge")
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    a, b = name_of(output, "gpu-spot-ng-a"), name_of(output, "gpu-spot-ng-b")
    gpu_groups = [g.name for g in simulation.groups if g.gpu]
    assert [g for g in gpu_groups if simulation.fits["pool pod training"][g] is None] == [c]
    pool = pool_of(output, a)
    assert sorted(g for g in gpu_groups if simulation.fits[f"pool pod {pool}"][g] is None) == [a, b]
    # a GPU pod without a selector may use any pool
    assert all(simulation.fits["gpu pod"][g] is None for g in gpu_groups)


def test_two_pools_with_one_pool_label_value_fail(output: dict[str, Any]) -> None:
    a = name_of(output, "gpu-spot-ng-a")
    c = split_pool(output, "c", pool_of(output, a), "g6e.xlarge")
    result = run(output)
    assert result.status == "FAIL"
    assert f"{a} and {c} are balanced (all at zero) although their nodes differ" in result.details


def test_pools_balanced_across_each_other_fail(output: dict[str, Any]) -> None:
    """A balancing label both pools carry: the autoscaler spreads one pool's scale-up over both."""
    c = split_pool(output, "c", "training", "g5.xlarge")
    command = autoscaler_command(output)
    command[command.index("--balancing-label=pool")] = "--balancing-label=nvidia.com/gpu.present"
    result = run(output)
    assert result.status == "FAIL"
    a = name_of(output, "gpu-spot-ng-a")
    assert (
        f"{a} and {c} are balanced (all at zero) although they are different pools"
        in result.details
    )


def test_the_old_ignore_label_flags_fail_balancing(output: dict[str, Any]) -> None:
    command = autoscaler_command(output)
    command.remove("--balancing-label=pool")
    command.extend(OLD_FLAGS)
    result = run(output)
    assert result.status == "FAIL"
    a, b = name_of(output, "gpu-spot-ng-a"), name_of(output, "gpu-spot-ng-b")
    assert (
        f"{a} and {b} are not balanced (all at zero): labels do not match: nodegroup-name"
        in result.details
    )
    live = [d for d in result.details if "(a live node in" in d]
    # A live node's capacity (ephemeral-storage: the filesystem, not the allocatable tag value;
    # memory: ~5% below the instance type) differs from the templates whatever labels match.
    assert len(live) == 6
    assert all("does not match" in d or "memory not within tolerance" in d for d in live)


def test_ignore_labels_next_to_the_balancing_label_change_nothing(output: dict[str, Any]) -> None:
    autoscaler_command(output).extend(OLD_FLAGS)
    assert run(output).status == "PASS"


def test_without_balance_similar_node_groups_nothing_is_balanced(output: dict[str, Any]) -> None:
    autoscaler_command(output).remove("--balance-similar-node-groups=true")
    result = run(output)
    assert result.status == "FAIL"
    assert any("--balance-similar-node-groups is off" in d for d in result.details)


def test_a_gpu_group_without_any_taint_takes_plain_pods(output: dict[str, Any]) -> None:
    drop_tag(output, TAINT_TAG)
    for props in gpu_groups(output):
        props["Taints"] = []
    result = run(output)
    assert result.status == "FAIL"
    assert any(
        "a plain pod (no GPU toleration) would scale up a GPU group" in d for d in result.details
    )


def test_the_taint_tag_alone_is_backed_by_describe_nodegroup(output: dict[str, Any]) -> None:
    """CA >= 1.24 adds the managed group's own taints (aws_wrapper.go getManagedNodegroupInfo)."""
    drop_tag(output, TAINT_TAG)
    assert run(output).status == "PASS"


def test_a_wrong_gpu_resource_tag_breaks_scale_from_zero(output: dict[str, Any]) -> None:
    for props in tag_resources(output):
        props["Tags"][GPU_TAG] = "0"
    assert run(output).status == "PASS"  # the node group's own tags win (CA >= 1.28)
    for props in gpu_groups(output):
        props["Tags"][GPU_TAG] = "0"
    result = run(output)
    assert result.status == "FAIL"
    assert (
        f"{name_of(output, 'gpu-spot-ng-a')}: a gpu pod cannot scale it up from zero: "
        "insufficient nvidia.com/gpu" in result.details
    )


def test_without_the_gpu_tag_the_instance_type_gives_the_gpus(output: dict[str, Any]) -> None:
    """buildNodeFromTemplate: capacity nvidia.com/gpu comes from the (first) instance type."""
    drop_tag(output, GPU_TAG)
    assert run(output).status == "PASS"


def test_without_ephemeral_storage_a_pod_that_asks_for_disk_never_scales_up(
    output: dict[str, Any],
) -> None:
    drop_tag(output, STORAGE_TAG)
    result = run(output)
    assert result.status == "FAIL"
    assert (
        f"{name_of(output, 'gpu-spot-ng-a')}: a gpu pod +10Gi disk cannot scale it up from zero: "
        "insufficient ephemeral-storage" in result.details
    )


def test_groups_of_different_shapes_must_not_be_balanced(output: dict[str, Any]) -> None:
    change_group(output, name_of(output, "gpu-spot-ng-a"), instance_type="g6e.xlarge")
    result = run(output)
    assert result.status == "FAIL"
    assert any(
        "are balanced (all at zero) although their nodes differ" in d for d in result.details
    )


def test_a_device_plugin_that_misses_a_gpu_type_fails(output: dict[str, Any]) -> None:
    plugin = next(o for o in output["objects"] if o["kind"] == "DaemonSet")
    plugin["metadata"]["name"] = "renamed"  # found by its image, not its name
    affinity = plugin["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    term = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    term["matchExpressions"][0]["values"] = ["p5.48xlarge"]
    result = run(output)
    assert result.status == "FAIL"
    assert any(
        "the device plugin would not run on its nodes: no device-plugin DaemonSet would run a "
        "pod on it" in d
        for d in result.details
    )


def test_without_the_device_plugin_fails(output: dict[str, Any]) -> None:
    output["objects"] = [o for o in output["objects"] if o["kind"] != "DaemonSet"]
    result = run(output)
    assert result.status == "FAIL"
    assert result.details == [
        "no DaemonSet runs nvcr.io/nvidia/k8s-device-plugin: GPU nodes advertise no GPUs"
    ]


def test_an_autoscaler_that_tolerates_the_gpu_taint_and_loses_its_selector_fails(
    output: dict[str, Any],
) -> None:
    deployment = next(o for o in output["objects"] if o["kind"] == "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    spec["tolerations"] = [{"operator": "Exists"}]
    del spec["nodeSelector"]
    result = run(output)
    assert result.status == "FAIL"
    gpu_a = name_of(output, "gpu-spot-ng-a")
    assert f"{gpu_a}: the autoscaler could run on this GPU group" in result.details


def test_a_system_group_at_zero_leaves_the_autoscaler_nowhere_to_run(
    output: dict[str, Any],
) -> None:
    for r in resources(output["cluster"], "AWS::EKS::Nodegroup").values():
        if not r["Properties"].get("Taints"):
            r["Properties"]["ScalingConfig"]["MinSize"] = 0
    result = run(output)
    assert result.status == "FAIL"
    assert any("the autoscaler runs only on groups with min_size 0" in d for d in result.details)


def test_groups_the_autoscaler_does_not_discover_fail(output: dict[str, Any]) -> None:
    command = autoscaler_command(output)
    index = next(i for i, a in enumerate(command) if a.startswith("--node-group-auto-discovery"))
    command[index] = "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/other"
    result = run(output)
    assert result.status == "FAIL"
    assert any("is not auto-discovered" in d for d in result.details)


def test_the_check_reads_only_plain_manifests(default_synth: Synthesis) -> None:
    manifests = resources(default_synth.cluster, MANIFEST_TYPE)
    assert all(isinstance(r["Properties"]["Manifest"], str) for r in manifests.values())


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_configs_pass(example: Path, tmp_path: Path) -> None:
    config = load_config(CDK_CONTEXT["cluster"], str(example))
    synthesis = synthesize(config, tmp_path)
    result = check_autoscaler(
        synthesis.cluster, synthesis.network, attached_objects(synthesis.cluster)
    )
    assert result.status == "PASS", result.details
    # Each GPU group's scale-up is spread over exactly the groups of its pool and capacity type.
    simulation = simulate(synthesis.cluster, synthesis.network, attached_objects(synthesis.cluster))
    gpu = [g for g in simulation.groups if g.gpu]
    for group in gpu:
        peers = {
            g.name
            for g in gpu
            if simulation.pools[g.name] == simulation.pools[group.name]
            and g.nodegroup.capacity_type == group.nodegroup.capacity_type
        }
        balanced = {o for o, why in simulation.similar_at_zero[group.name].items() if why is None}
        assert balanced | {group.name} == peers
    pools = {simulation.pools[g.name] for g in gpu}
    assert len([line for line in result.table if line.startswith("  pool ")]) >= len(pools)
    assert json.dumps(result.table)  # printable


@pytest.mark.slow
def test_two_shapes_in_two_pools_pass_and_are_never_balanced_together(tmp_path: Path) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(
        "gpu_pools:\n"
        "  - {name: small, availability_zones: [us-west-2a, us-west-2b],"
        " instance_types: [g6.xlarge], min_size: 0, max_size: 2}\n"
        "  - {name: large, availability_zones: [us-west-2a, us-west-2b],"
        " instance_types: [g6.2xlarge], min_size: 0, max_size: 2}\n"
    )
    synth = synthesize(load_config(CDK_CONTEXT["cluster"], str(config)), tmp_path / "out")
    result = check_autoscaler(synth.cluster, synth.network, attached_objects(synth.cluster))
    out = io.StringIO()
    print_report("two pools", [result], out)  # as verify prints it
    report = out.getvalue()
    assert "  PASS  autoscaler" in report
    # One line per pool, each spread over that pool's two groups and no other's.
    spread = {
        line.split("pool ")[1].split(" ")[0]: line.split("spread over ")[1].split(" + ")
        for line in report.splitlines()
        if "all at zero: pool " in line
    }
    assert {pool: sorted(g.split("-")[0] for g in groups) for pool, groups in spread.items()} == {
        "small": ["small", "small"],
        "large": ["large", "large"],
    }, spread


def test_an_instance_type_affinity_scales_from_zero_only_with_the_first_type(
    output: dict[str, Any],
) -> None:
    """The template node has only the first type's label (README, "Using GPUs")."""
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    group = next(g for g in simulation.groups if g.gpu)
    node = simulation.templates[group.name]

    def pod_for(types: list[str]) -> dict[str, Any]:
        term = {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": types}
        return {
            **GPU_POD,
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": [term]}]
                    }
                }
            },
        }

    assert fit_failure(pod_for(group.instance_types), node) is None
    if len(group.instance_types) > 1:
        assert fit_failure(pod_for(group.instance_types[1:]), node) == (
            "required node affinity does not match"
        )


def test_the_groups_table_fits_100_columns(output: dict[str, Any]) -> None:
    """It was one table of 16 columns, about 170 wide; printed under a 10-column indent."""
    table = run(output).table
    legend = next(i for i, line in enumerate(table) if line.startswith("(yes: "))
    headers = [line for line in table[:legend] if line.startswith("group ")]
    assert len(headers) == 3
    assert max(len(line) for line in table[: legend + 5]) + len(" " * 10) <= 100


def test_a_device_plugin_pulled_through_a_mirror_is_still_found(output: dict[str, Any]) -> None:
    """With ``image_registry_mirror`` the plugin's image is ``<mirror>/nvcr.io/...``; verify
    once looked for the image by its start and reported that no DaemonSet ran the plugin."""
    for obj in output["objects"]:
        if obj["kind"] == "DaemonSet":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                container["image"] = "mirror.example.cn:5000/m/" + container["image"]
    result = run(output)
    assert result.status == "PASS", result.details
