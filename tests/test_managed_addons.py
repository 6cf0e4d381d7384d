"""The day-two EKS add-ons: EBS CSI driver (with the default StorageClass), metrics-server and,
opt-in, CloudWatch Observability; their Pod Identity roles, placement and replacement safety."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from cluster_config import ConfigError
from cluster_config.labels import SYSTEM_NODE_LABELS
from tests.support import Synthesized, config_with, normalise, resources
from verify.manifests import attached_objects
from verify.replacement import compare


def addons(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``AWS::EKS::Addon`` resources keyed by add-on name, with their logical ID."""
    return {
        r["Properties"]["AddonName"]: {"logical_id": k, **r}
        for k, r in resources(template, "AWS::EKS::Addon").items()
    }


def role_of(template: dict[str, Any], addon: dict[str, Any]) -> dict[str, Any]:
    (association,) = addon["Properties"]["PodIdentityAssociations"]
    role_id = association["RoleArn"]["Fn::GetAtt"][0]
    role: dict[str, Any] = template["Resources"][role_id]["Properties"]
    return {"service_account": association["ServiceAccount"], **role}


def trust_conditions(role: dict[str, Any]) -> dict[str, Any]:
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    conditions: dict[str, Any] = statement["Condition"]["StringEquals"]
    return conditions


def managed_policy_names(role: dict[str, Any]) -> list[str]:
    return [
        "".join(part for part in arn["Fn::Join"][1] if isinstance(part, str)).split(":policy/")[1]
        for arn in role["ManagedPolicyArns"]
    ]


def test_ebs_csi_controller_runs_on_its_own_conditioned_pod_identity_role(
    default_synth: Synthesized,
) -> None:
    template = default_synth.cluster
    role = role_of(template, addons(template)["aws-ebs-csi-driver"])
    assert role["service_account"] == "ebs-csi-controller-sa"
    assert managed_policy_names(role) == ["service-role/AmazonEBSCSIDriverPolicy"]
    assert "Policies" not in role
    conditions = trust_conditions(role)
    assert conditions["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert conditions["aws:RequestTag/kubernetes-service-account"] == "ebs-csi-controller-sa"
    assert conditions["aws:RequestTag/eks-cluster-arn"] == {
        "Fn::GetAtt": ["ClusterEB0386A7", "Arn"]
    }
    assert conditions["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_the_node_role_gets_none_of_the_add_ons_policies(default_synth: Synthesized) -> None:
    text = json.dumps(Template.from_json(default_synth.cluster).find_resources("AWS::IAM::Role"))
    assert text.count("AmazonEBSCSIDriverPolicy") == 1
    assert "CloudWatchAgentServerPolicy" not in text


def test_metrics_server_is_pinned_to_the_system_group(default_synth: Synthesized) -> None:
    template = default_synth.cluster
    metrics = addons(template)["metrics-server"]
    assert json.loads(metrics["Properties"]["ConfigurationValues"]) == {
        "nodeSelector": SYSTEM_NODE_LABELS
    }
    assert "PodIdentityAssociations" not in metrics["Properties"]  # it calls no AWS API
    system = template["Resources"]["SystemNodeGroupNodegroupD3A5F3AD"]["Properties"]
    assert SYSTEM_NODE_LABELS.items() <= system["Labels"].items()


@pytest.mark.parametrize("name", ["aws-ebs-csi-driver", "metrics-server"])
def test_day_two_add_ons_wait_for_the_system_nodes_and_the_pod_identity_agent(
    default_synth: Synthesized, name: str
) -> None:
    addon = addons(default_synth.cluster)[name]
    assert {"SystemNodeGroupNodegroupD3A5F3AD", "PodIdentityAgentD8D3AD08"} <= set(
        addon["DependsOn"]
    )


def test_gpu_metrics_are_off_by_default(default_synth: Synthesized) -> None:
    assert "amazon-cloudwatch-observability" not in addons(default_synth.cluster)


def test_gpu_metrics_install_cloudwatch_observability_without_container_logs(
    gpu_metrics_synth: Synthesized,
) -> None:
    template = gpu_metrics_synth.cluster
    addon = addons(template)["amazon-cloudwatch-observability"]
    assert json.loads(addon["Properties"]["ConfigurationValues"]) == {
        "containerLogs": {"enabled": False}
    }
    role = role_of(template, addon)
    assert role["service_account"] == "cloudwatch-agent"
    assert managed_policy_names(role) == ["CloudWatchAgentServerPolicy"]
    assert trust_conditions(role)["aws:RequestTag/kubernetes-namespace"] == "amazon-cloudwatch"
    Template.from_json(template).has_resource(
        "AWS::EKS::Addon",
        {
            "Properties": {"AddonName": "amazon-cloudwatch-observability"},
            "DependsOn": Match.array_with(["SystemNodeGroupNodegroupD3A5F3AD"]),
        },
    )


def test_without_the_ebs_csi_driver_there_is_no_default_storage_class(
    without_storage_and_metrics_synth: Synthesized,
) -> None:
    template = without_storage_and_metrics_synth.cluster
    assert not {"aws-ebs-csi-driver", "metrics-server"} & set(addons(template))
    assert not [o for o in attached_objects(template) if o["kind"] == "StorageClass"]


def test_add_ons_with_gpu_metrics_match_snapshot(
    gpu_metrics_synth: Synthesized, snapshot: SnapshotAssertion
) -> None:
    template = normalise(gpu_metrics_synth.cluster)
    owned = {
        k: r
        for k, r in template["Resources"].items()
        if k.startswith("ManagedAddons") or k.startswith("ClusterEbsStorageClass")
    }
    assert owned == snapshot.use_extension(JSONSnapshotExtension)


# --- Replacement: turning an add-on on or off touches only that add-on ----------------------


def _only_addon_resources(changes: list[Any]) -> None:
    assert changes, "expected the add-ons' own resources to be removed"
    for change in changes:
        assert change.what == "is removed", change
        assert change.logical_id.startswith(("ManagedAddons", "ClusterEbsStorageClass")), change


def test_turning_gpu_metrics_off_removes_only_its_add_on_and_role(
    default_synth: Synthesized, gpu_metrics_synth: Synthesized
) -> None:
    missing, changes = compare(gpu_metrics_synth.templates, default_synth.templates, "us-west-2")
    assert missing == []
    _only_addon_resources(changes)
    assert {c.resource_type for c in changes} == {"AWS::EKS::Addon", "AWS::IAM::Role"}


def test_turning_storage_and_metrics_off_removes_only_them(
    default_synth: Synthesized, without_storage_and_metrics_synth: Synthesized
) -> None:
    missing, changes = compare(
        default_synth.templates, without_storage_and_metrics_synth.templates, "us-west-2"
    )
    assert missing == []
    _only_addon_resources(changes)
    assert {c.resource_type for c in changes} == {
        "AWS::EKS::Addon",
        "AWS::IAM::Role",
        "Custom::AWSCDK-EKS-KubernetesResource",
    }


@pytest.mark.parametrize("added", ["storage and metrics", "gpu metrics"])
def test_turning_add_ons_on_replaces_nothing(
    default_synth: Synthesized,
    gpu_metrics_synth: Synthesized,
    without_storage_and_metrics_synth: Synthesized,
    added: str,
) -> None:
    """Adding an add-on to a deployed cluster: every baseline resource is kept as it was."""
    old, new = (
        (without_storage_and_metrics_synth, default_synth)
        if added == "storage and metrics"
        else (default_synth, gpu_metrics_synth)
    )
    assert compare(old.templates, new.templates, "us-west-2") == ([], [])


# --- Config ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        (
            {"observability": {"gpu_metric": True}},
            "observability.gpu_metric: unknown key; did you mean 'gpu_metrics'? "
            "allowed: gpu_metrics [UnknownKey]",
        ),
        (
            {"observability": {"gpu_metrics": "yes"}},
            'observability.gpu_metrics: must be true or false (got: "yes") [WrongType]',
        ),
        ({"ebs_csi_driver": 1}, "ebs_csi_driver: must be true or false (got: 1) [WrongType]"),
        (
            {"metrics_server": None},
            "metrics_server: must be true or false (got: null) [WrongType]",
        ),
    ],
)
def test_add_on_switches_are_strict_booleans(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_with(overrides)
    assert [str(p) for p in caught.value.problems] == [problem]


def test_storage_and_metrics_are_on_and_gpu_metrics_off_by_default() -> None:
    config = config_with()
    assert (config.ebs_csi_driver, config.metrics_server) == (True, True)
    assert config.observability.gpu_metrics is False
