"""verify's autoscaler model with an EFA pool (examples/multi-node-training.yaml): from zero, a
pod asking for 8 GPUs and 32 EFA scales exactly the EFA pool; the EFA plugin runs only there."""

from __future__ import annotations

import copy
from fractions import Fraction
from typing import Any

from cluster_config.efa import EFA_RESOURCE
from tests.support import resources
from verify.autoscaler.check import check_autoscaler, simulate
from verify.autoscaler.probes import efa_pod
from verify.manifests import attached_objects
from verify.scheduler_model import fit_failure
from verify.synth import Synthesis

EFA_TAG = f"k8s.io/cluster-autoscaler/node-template/resources/{EFA_RESOURCE}"
WORKER: dict[str, Any] = {
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "containers": [
        {
            "name": "worker",
            "resources": {"limits": {"nvidia.com/gpu": "8", "vpc.amazonaws.com/efa": "32"}},
        }
    ],
}
"""The pod of docs/using-gpus.md "Multi-node training", as a user writes it (no selector)."""


def simulated(cluster: dict[str, Any], synth: Synthesis) -> Any:
    return simulate(cluster, synth.network, attached_objects(cluster))


def configured(name: str) -> str:
    return name.rsplit("-", 1)[0]


def test_a_from_zero_efa_pod_scales_exactly_the_efa_pool(efa_synth: Synthesis) -> None:
    simulation = simulated(efa_synth.cluster, efa_synth)
    assert simulation.problems == []
    fits = {
        configured(n): fit_failure(WORKER, node) is None for n, node in simulation.templates.items()
    }
    assert fits == {
        "spot-ng": False,
        "inference-a": False,
        "inference-b": False,
        "inference-c": False,
        "training-a": True,
    }
    assert efa_pod(Fraction(8), Fraction(32)) == WORKER


def test_the_efa_plugin_lands_only_on_the_efa_pool(efa_synth: Synthesis) -> None:
    simulation = simulated(efa_synth.cluster, efa_synth)
    landed = sorted(
        configured(n) for n, why in simulation.fits["efa plugin"].items() if why is None
    )
    assert landed == ["training-a"]


def test_without_the_efa_resource_tag_the_pool_cannot_scale_from_zero(
    efa_synth: Synthesis,
) -> None:
    # Bug caught: the template node has no vpc.amazonaws.com/efa, so the worker stays pending.
    cluster = copy.deepcopy(efa_synth.cluster)
    for kind in ("Custom::AsgNodeTemplateTags", "AWS::EKS::Nodegroup"):
        for resource in resources(cluster, kind).values():
            resource["Properties"].get("Tags", {}).pop(EFA_TAG, None)
    simulation = simulated(cluster, efa_synth)
    assert not any(fit_failure(WORKER, node) is None for node in simulation.templates.values())


def test_a_missing_efa_plugin_is_a_problem(efa_synth: Synthesis) -> None:
    cluster = copy.deepcopy(efa_synth.cluster)
    for resource in resources(cluster, "Custom::AWSCDK-EKS-KubernetesResource").values():
        manifest = resource["Properties"]["Manifest"]
        if isinstance(manifest, str) and "aws-efa-k8s-device-plugin" in manifest:
            resource["Properties"]["Manifest"] = "[]"
    problems = simulated(cluster, efa_synth).problems
    assert any(p.startswith("no DaemonSet runs the EFA device plugin") for p in problems), problems


def test_an_efa_plugin_on_a_group_without_efa_is_a_problem(efa_synth: Synthesis) -> None:
    # Bug caught: the plugin on a node without EFA interfaces (it finds nothing, never ready).
    cluster = copy.deepcopy(efa_synth.cluster)
    for resource in resources(cluster, "Custom::AWSCDK-EKS-KubernetesResource").values():
        manifest = resource["Properties"]["Manifest"]
        if isinstance(manifest, str) and "aws-efa-k8s-device-plugin" in manifest:
            resource["Properties"]["Manifest"] = manifest.replace(
                '"values":["training"]', '"values":["inference","training"]'
            ).replace(
                '"values":["p5.48xlarge"]', '"values":["g5.xlarge","g6.xlarge","p5.48xlarge"]'
            )
            assert resource["Properties"]["Manifest"] != manifest
    problems = simulated(cluster, efa_synth).problems
    assert any(
        p.startswith("inference-a") and "EFA device plugin would run on this group" in p
        for p in problems
    ), problems


def test_the_table_shows_the_efa_columns_for_an_efa_pool(efa_synth: Synthesis) -> None:
    """Bug caught: splitting the table into three parts dropped the efa, efa pod and efa plugin
    columns, which the legend under it still named: a user could not see which group an EFA
    pod scales."""
    table = check_autoscaler(
        efa_synth.cluster, efa_synth.network, attached_objects(efa_synth.cluster)
    ).table
    start = table.index(next(line for line in table if line.split()[:2] == ["group", "efa"]))
    end = next(i for i, line in enumerate(table) if line.startswith("(yes: "))
    header, *rows = table[start:end]
    assert header.split() == ["group", "efa", "efa", "pod", "efa", "plugin"]
    efa_rows = {r.split()[0]: r.split()[1:] for r in rows}
    training = [cells for name, cells in efa_rows.items() if name.startswith("training-")]
    assert training == [["32", "yes", "yes"]]
    assert all(cells[0] == "-" for name, cells in efa_rows.items() if "training" not in name)
