"""The AWS/EKS rules of cluster_config/aws_limits.py and aws_rules/eks.py against their sources:
the region table against botocore's endpoints.json, node group names, labels and taints against
what the synthesized templates really send to EKS."""

from __future__ import annotations

import json
from importlib import resources as package_files
from typing import Any

import pytest

from aws_rules.eks import NODEGROUP_NAME
from cluster_config import aws_limits
from cluster_config.labels import GPU_TAINT_KEY, GPU_TAINT_VALUE
from tests.support import ROOT, config_with, resources
from verify.synth import Synthesis


def test_region_table_matches_the_pinned_botocore() -> None:
    endpoints = json.loads(
        package_files.files("botocore").joinpath("data/endpoints.json").read_text()
    )
    regions = {
        region: partition["partition"]
        for partition in endpoints["partitions"]
        for region in partition["regions"]
    }
    data = json.loads((ROOT / "cluster_config/data/regions.json").read_text())
    assert data["regions"] == regions
    import botocore

    assert f"botocore {botocore.__version__} " in data["source"]


@pytest.mark.parametrize(
    ("region", "problem"),
    [
        ("us-west-2", None),
        ("cn-northwest-1", None),
        ("us-gov-east-1", None),
        ("us-west-9", "no such AWS region; allowed: a region of cluster_config/data/regions.json"),
        (
            "us-isob-east-1",
            "a region of partition aws-iso-b; allowed: regions of aws, aws-cn, aws-us-gov",
        ),
    ],
)
def test_region_rule(region: str, problem: str | None) -> None:
    assert aws_limits.region_problem(region) == problem


def test_deployed_node_group_names_follow_the_eks_rule(default_synth: Synthesis) -> None:
    names = [
        r["Properties"]["NodegroupName"]
        for r in resources(default_synth.cluster, "AWS::EKS::Nodegroup").values()
    ]
    assert len(names) == 4
    assert all(NODEGROUP_NAME.fullmatch(name) for name in names), names
    # the longest configured name (56) plus "-" and the 6-character digest is EKS's 63
    longest = "n" * 56
    assert config_with({"system_node_group": {"name": longest}}).system_node_group.name == longest
    assert NODEGROUP_NAME.fullmatch(longest + "-abc123")
    assert not NODEGROUP_NAME.fullmatch(longest + "-abc1234")


def test_the_project_gpu_taint_and_labels_are_valid_for_eks(default_synth: Synthesis) -> None:
    assert aws_limits.taint_problem(GPU_TAINT_KEY, GPU_TAINT_VALUE) is None
    for props in resources(default_synth.cluster, "AWS::EKS::Nodegroup").values():
        nodegroup: dict[str, Any] = props["Properties"]
        for key, value in nodegroup.get("Labels", {}).items():
            assert aws_limits.label_key_problem(key) is None, key
            assert aws_limits.label_value_problem(value) is None, value
        for taint in nodegroup.get("Taints", []):
            assert taint["Effect"] in {"NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"}
            assert aws_limits.taint_problem(taint["Key"], taint.get("Value", "")) is None
        assert len(nodegroup.get("Taints", [])) <= aws_limits.EKS_TAINTS_PER_NODEGROUP


@pytest.mark.parametrize(
    ("key", "problem"),
    [  # k8s.io/apimachinery pkg/util/validation/validation_test.go TestIsQualifiedName
        ("simple", None),
        ("now-with-dashes", None),
        ("1-starts-with-num", None),
        ("1234", None),
        ("simple/simple", None),
        ("now-with-dashes/simple", None),
        ("now-with-dashes/now-with-dashes", None),
        ("now.with.dots/simple", None),
        ("now-with.dashes-and.dots/simple", None),
        ("1-num.2-num/3-num", None),
        ("1234/5678", None),
        ("1.2.3.4/5678", None),
        ("Uppercase_Is_OK_123", None),
        ("example.com/Uppercase_Is_OK_123", None),
        ("nospecialchars%^=@", "name must be"),
        ("cantendwithadash-", "name must be"),
        ("-cantstartwithadash-", "name must be"),
        ("only/one/slash", "prefix before '/'"),
        ("Example.com/abc", "prefix before '/'"),
        ("example_com/abc", "prefix before '/'"),
        ("example.com/", "name must be"),
        ("/simple", "prefix before '/'"),
        ("requests.storage-foo", None),
        ("a" * 63, None),
        ("a" * 64, "key is 64 characters; EKS allows 1 to 63"),
        ("a" * 254 + "/abc", "EKS allows 1 to 63"),
        # valid for Kubernetes, too long for EKS (CreateNodegroup labels: key length 1-63)
        ("a" * 253 + "/" + "b" * 63, "key is 317 characters; EKS allows 1 to 63"),
    ],
)
def test_label_key_rule_on_the_upstream_vectors(key: str, problem: str | None) -> None:
    found = aws_limits.label_key_problem(key)
    assert (found is None) if problem is None else (found is not None and problem in found)
