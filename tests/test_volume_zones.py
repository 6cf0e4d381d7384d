"""The volume-zone check: the scheduler's volume filters replayed with the upstream test vectors,
and a GPU pod whose EBS volume is in one zone scaling up only that zone's GPU group."""

from __future__ import annotations

import copy
import re
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cdk8s import Testing as Cdk8sTesting

from charts import build_charts
from cluster_config.node_groups import node_group_specs
from tests.support import ROOT, config_with
from verify.autoscaler.check import simulate
from verify.manifests import attached_objects
from verify.synth import Synthesis
from verify.volume_zones import (
    BETA_REGION,
    BETA_ZONE,
    REGION,
    ZONE,
    bound_volume_scale_up,
    check_volume_zones,
    ebs_volume,
    volume_binding_mismatch,
    volume_zone_conflict,
)

# --- component-helpers storage/volume helpers_test.go TestCheckVolumeNodeAffinity -----------

NODE_LABELS = {"test-key1": "test-value1", "test-key2": "test-value2"}


def _pv(required: Any = "unset") -> dict[str, Any]:
    affinity = {} if required == "unset" else {"required": required}
    return {"metadata": {"name": "test-constraints"}, "spec": {"nodeAffinity": affinity}}


def _term(*expressions: tuple[str, list[str]]) -> dict[str, Any]:
    return {"matchExpressions": [{"key": k, "operator": "In", "values": v} for k, v in expressions]}


@pytest.mark.parametrize(
    ("name", "pv", "success"),
    [
        ("valid-nil", {"metadata": {}, "spec": {}}, True),
        ("valid-no-constraints", _pv(), True),
        ("select-nothing", _pv({}), False),
        (
            "select-nothing-empty-terms",
            _pv({"nodeSelectorTerms": [{"matchExpressions": []}]}),
            False,
        ),
        (
            "valid-multiple-terms",
            _pv(
                {
                    "nodeSelectorTerms": [
                        _term(("test-key3", ["test-value1", "test-value3"])),
                        _term(("test-key2", ["test-value0", "test-value2"])),
                    ]
                }
            ),
            True,
        ),
        (
            "valid-multiple-match-expressions",
            _pv(
                {
                    "nodeSelectorTerms": [
                        _term(
                            ("test-key1", ["test-value1", "test-value3"]),
                            ("test-key2", ["test-value0", "test-value2"]),
                        )
                    ]
                }
            ),
            True,
        ),
        (
            "invalid-multiple-match-expressions-key",
            _pv(
                {
                    "nodeSelectorTerms": [
                        _term(
                            ("test-key1", ["test-value1", "test-value3"]),
                            ("test-key3", ["test-value0", "test-value2"]),
                        )
                    ]
                }
            ),
            False,
        ),
        (
            "invalid-multiple-match-expressions-values",
            _pv(
                {
                    "nodeSelectorTerms": [
                        _term(
                            ("test-key1", ["test-value3", "test-value4"]),
                            ("test-key2", ["test-value0", "test-value2"]),
                        )
                    ]
                }
            ),
            False,
        ),
        (
            "invalid-multiple-terms",
            _pv(
                {
                    "nodeSelectorTerms": [
                        _term(("test-key3", ["test-value1", "test-value3"])),
                        _term(("test-key2", ["test-value0", "test-value1"])),
                    ]
                }
            ),
            False,
        ),
    ],
)
def test_volume_node_affinity_follows_upstream_vectors(
    name: str, pv: dict[str, Any], success: bool
) -> None:
    assert (volume_binding_mismatch(pv, NODE_LABELS) is None) is success, name


# --- volumezone/volume_zone_test.go TestSingleZone and TestMultiZone ------------------------


def _labelled(labels: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"labels": labels}, "spec": {}}


VOL_1 = _labelled({BETA_ZONE: "us-west1-a"})
VOL_2 = _labelled({BETA_REGION: "us-west1", "uselessLabel": "none"})
VOL_STABLE_1 = _labelled({ZONE: "us-west1-a"})
VOL_STABLE_2 = _labelled({REGION: "us-west1", "uselessLabel": "none"})
VOL_STABLE_3 = _labelled({ZONE: "us-west1-a", REGION: "us-west1-a"})
VOL_3_MULTI = _labelled({BETA_ZONE: "us-west1-c__us-west1-a"})
VOL_STABLE_2_MULTI = _labelled({ZONE: "us-west1-c__us-west1-a"})


@pytest.mark.parametrize(
    ("name", "pv", "node", "conflict"),
    [
        ("node without labels", VOL_1, {}, False),
        (
            "beta zone label matched",
            VOL_1,
            {BETA_ZONE: "us-west1-a", "uselessLabel": "none"},
            False,
        ),
        ("beta region label matched", VOL_2, {BETA_REGION: "us-west1"}, False),
        ("beta region label doesn't match", VOL_2, {BETA_REGION: "no_us-west1"}, True),
        ("beta zone label doesn't match", VOL_1, {BETA_ZONE: "no_us-west1-a"}, True),
        ("zone label matched", VOL_STABLE_1, {ZONE: "us-west1-a"}, False),
        ("region label matched", VOL_STABLE_2, {REGION: "us-west1"}, False),
        ("region label doesn't match", VOL_STABLE_2, {REGION: "no_us-west1"}, True),
        ("zone label doesn't match", VOL_STABLE_1, {ZONE: "no_us-west1-a"}, True),
        ("pv with zone and region, node with only zone", VOL_STABLE_3, {ZONE: "us-west1-a"}, True),
        ("pv with zone,node with beta zone", VOL_STABLE_1, {BETA_ZONE: "us-west1-a"}, True),
        ("pv with beta label,node with ga label, matched", VOL_1, {ZONE: "us-west1-a"}, False),
        ("pv with beta label,node with ga label, don't match", VOL_1, {ZONE: "us-west1-b"}, True),
        ("multi: node without labels", VOL_3_MULTI, {}, False),
        ("multi: beta zone label matched", VOL_3_MULTI, {BETA_ZONE: "us-west1-a"}, False),
        ("multi: beta zone label doesn't match", VOL_1, {BETA_ZONE: "us-west1-b"}, True),
        ("multi: zone label matched", VOL_STABLE_2_MULTI, {ZONE: "us-west1-a"}, False),
        ("multi: zone label doesn't match", VOL_STABLE_1, {ZONE: "us-west1-b"}, True),
    ],
)
def test_volume_zone_filter_follows_upstream_vectors(
    name: str, pv: dict[str, Any], node: dict[str, str], conflict: bool
) -> None:
    assert (volume_zone_conflict(pv, node) is not None) is conflict, name


# --- the check on the synthesized cluster ---------------------------------------------------


def test_ebs_csi_driver_volumes_carry_their_zone_in_node_affinity_only() -> None:
    pv = ebs_volume("us-west-2b")
    assert pv["metadata"]["labels"] == {}
    assert volume_binding_mismatch(pv, {ZONE: "us-west-2b"}) is None
    assert volume_binding_mismatch(pv, {ZONE: "us-west-2a"}) == (
        "volume node affinity (topology.kubernetes.io/zone In us-west-2b) does not match"
    )


def test_a_zone_bound_gpu_pod_scales_up_only_its_zones_group(default_synth: Synthesis) -> None:
    """Catches: a pod whose volume is in one zone scaling up another zone's group (or none).
    The zone-to-group pairs are the default pool's deployed groups, written out here: not read
    back from the simulation the check itself runs on."""
    cluster, network = default_synth.cluster, default_synth.network
    result = check_volume_zones(cluster, network, attached_objects(cluster))
    assert (result.status, result.details) == ("PASS", [])
    assert result.table == [
        "scale-up per volume zone: us-west-2a: gpu-spot-ng-a-bee838; "
        "us-west-2b: gpu-spot-ng-b-40f3fd; us-west-2c: gpu-spot-ng-c-a57b80"
    ]


@pytest.fixture
def simulation(default_synth: Synthesis) -> Any:
    cluster = default_synth.cluster
    return simulate(cluster, default_synth.network, attached_objects(cluster))


def test_a_template_without_the_drivers_legacy_label_strands_older_volumes(
    simulation: Any,
) -> None:
    for node in simulation.templates.values():
        node.labels.pop("topology.ebs.csi.aws.com/zone", None)
    problems, _ = bound_volume_scale_up(simulation)
    a = next(g.name for g in simulation.groups if g.gpu and g.zones == ["us-west-2a"])
    assert (
        f"a GPU pod with a volume bound in us-west-2a (topology.ebs.csi.aws.com/zone) scales up "
        f"none of {a}" in problems
    )
    assert not any("(topology.kubernetes.io/zone)" in p for p in problems)


def test_a_group_whose_template_claims_another_zone_is_caught(simulation: Any) -> None:
    gpu = sorted((g for g in simulation.groups if g.gpu), key=lambda g: g.zones[0])
    wrong = simulation.templates[gpu[1].name]  # the us-west-2b group's template, as if in 2a
    for key in (ZONE, "topology.ebs.csi.aws.com/zone"):
        wrong.labels[key] = "us-west-2a"
    problems, _ = bound_volume_scale_up(simulation)
    assert (
        f"a GPU pod with a volume bound in us-west-2a (topology.kubernetes.io/zone) would scale "
        f"up {gpu[1].name} in another zone" in problems
    )


def test_the_check_is_skipped_without_the_ebs_csi_driver(default_synth: Synthesis) -> None:
    cluster = copy.deepcopy(default_synth.cluster)
    for logical_id, resource in list(cluster["Resources"].items()):
        if resource["Properties"].get("AddonName") == "aws-ebs-csi-driver":
            del cluster["Resources"][logical_id]
    result = check_volume_zones(cluster, default_synth.network, attached_objects(cluster))
    assert (result.status, result.summary) == (
        "SKIP",
        "no aws-ebs-csi-driver add-on (ebs_csi_driver)",
    )


def test_readmes_claim_example_uses_the_default_storage_class() -> None:
    readme = (ROOT / "docs" / "using-gpus.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
    (claim,) = [yaml.safe_load(b) for b in blocks if "kind: PersistentVolumeClaim" in b]
    kubernetes_validate.validate(claim, "1.36.0", strict=True)
    assert "storageClassName" not in claim["spec"]  # so the default class, gp3, applies
    config = config_with()
    (storage_class,) = Cdk8sTesting.synth(
        build_charts(config, node_group_specs(config)).storage_class
    )
    assert storage_class["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
