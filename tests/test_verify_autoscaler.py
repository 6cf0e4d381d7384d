"""The ``autoscaler`` verify check: passes on what works, fails the way the autoscaler would."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cluster_config.loader import load_config
from cluster_config.node_groups import node_group_specs
from tests.support import CDK_CONTEXT, ROOT, Synthesized, resources, synthesize
from verify.__main__ import main
from verify.autoscaler import GPU_POD, check_autoscaler, simulate
from verify.manifests import MANIFEST_TYPE, attached_objects
from verify.scheduler_model import fit_failure

OLD_FLAGS = [
    "--balancing-ignore-label=eks.amazonaws.com/sourceLaunchTemplateId",
    "--balancing-ignore-label=eks.amazonaws.com/sourceLaunchTemplateVersion",
    "--balancing-ignore-label=topology.k8s.aws/zone-id",
]
TAINT_TAG = "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"
GPU_TAG = "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"
STORAGE_TAG = "k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.fixture
def output(default_synth: Synthesized) -> dict[str, Any]:
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
    assert f"all at zero: a GPU pod's scale-up is spread over {a} + {b} + {c}" in table
    assert (
        f"one live node, others at zero: a GPU pod's scale-up is spread over {a} + {b} + {c}"
        in table
    )


def test_template_nodes_are_what_the_autoscaler_builds(output: dict[str, Any]) -> None:
    simulation = simulate(output["cluster"], output["network"], output["objects"])
    gpu_a = name_of(output, "gpu-spot-ng-a")
    node = simulation.templates[gpu_a]
    assert {k: node.labels[k] for k in ("nodegroup-name", "cluster-name", "pool", "amiType")} == {
        "nodegroup-name": gpu_a,
        "cluster-name": "gpu-spot",
        "pool": "gpu-spot-ng",
        "amiType": "AL2023_x86_64_NVIDIA",
    }
    assert node.labels["topology.kubernetes.io/zone"] == "us-west-2a"
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
    gpu_groups(output)[0]["InstanceTypes"] = ["g6e.xlarge"]
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
        "the device plugin would not run on its nodes: required node affinity" in d
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


def test_the_check_reads_only_plain_manifests(default_synth: Synthesized) -> None:
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
    # Groups balance within one pool and capacity type (--balancing-label=pool, and
    # eks.amazonaws.com/capacityType once a pool has a fallback): one " + " less per set than
    # groups in it.
    gpu = node_group_specs(config).gpu
    spread = next(line for line in result.table if "all at zero" in line)
    expected = len(gpu) - len({(g.pool, g.capacity_type) for g in gpu})
    assert spread.count(" + ") == expected, spread
    assert json.dumps(result.table)  # printable


@pytest.mark.slow
def test_two_shapes_in_two_pools_pass_and_are_never_balanced_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(
        "gpu_pools:\n"
        "  - {name: small, availability_zones: [us-west-2a, us-west-2b],"
        " instance_types: [g6.xlarge], min_size: 0, max_size: 2}\n"
        "  - {name: large, availability_zones: [us-west-2a, us-west-2b],"
        " instance_types: [g6.2xlarge], min_size: 0, max_size: 2}\n"
    )
    main(["-c", f"config={config}", "--outdir", str(tmp_path / "out")])
    report = capsys.readouterr().out
    assert "  PASS  autoscaler" in report
    spread = next(line for line in report.splitlines() if "all at zero" in line)
    assert spread.count(" + ") == 2 and spread.count(";") == 1, spread


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
