"""Secure defaults of the cluster stack: every role's statements and conditions, hidden admins,
the control-plane log group, the endpoint warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from cluster_config.node_groups import NODE_TEMPLATE_PREFIX
from constructs_lib import nodegroup_ops_provider
from stacks import build_stacks
from tests.support import Synthesized, config_with, resources, synthesize
from verify.synth import feature_flags

CLUSTER_ARN = {"Fn::GetAtt": ["ClusterEB0386A7", "Arn"]}


def role(synth: Synthesized, prefix: str) -> dict[str, Any]:
    (found,) = [
        r["Properties"]
        for k, r in resources(synth.cluster, "AWS::IAM::Role").items()
        if k.startswith(prefix)
    ]
    return found


def arn(service_and_region: str, rest: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [f"arn:aws:{service_and_region}:", {"Ref": "AWS::AccountId"}, rest]]}


@pytest.mark.parametrize(
    ("prefix", "service_account"),
    [("ClusterAutoscalerIdentityRole", "cluster-autoscaler"), ("VpcCniRole", "aws-node")],
)
def test_pod_identity_roles_trust_one_service_account_of_this_cluster_and_account(
    default_synth: Synthesized, prefix: str, service_account: str
) -> None:
    assert role(default_synth, prefix)["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                    "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
                    "aws:RequestTag/kubernetes-namespace": "kube-system",
                    "aws:RequestTag/kubernetes-service-account": service_account,
                }
            },
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
        }
    ]


def test_vpc_cni_holds_the_cni_policy_through_its_add_on(default_synth: Synthesized) -> None:
    cni_role = role(default_synth, "VpcCniRole")
    assert cni_role["ManagedPolicyArns"] == [
        {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AmazonEKS_CNI_Policy"],
            ]
        }
    ]
    (addon,) = [
        r
        for r in resources(default_synth.cluster, "AWS::EKS::Addon").values()
        if r["Properties"]["AddonName"] == "vpc-cni"
    ]
    (role_id,) = [
        k for k in resources(default_synth.cluster, "AWS::IAM::Role") if k.startswith("VpcCniRole")
    ]
    assert addon["Properties"]["PodIdentityAssociations"] == [
        {"ServiceAccount": "aws-node", "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]}}
    ]
    assert any(d.startswith("PodIdentityAgent") for d in addon["DependsOn"])


def test_no_role_but_the_cni_role_holds_the_cni_policy(default_synth: Synthesized) -> None:
    holders = [
        k
        for k, r in resources(default_synth.cluster, "AWS::IAM::Role").items()
        if "AmazonEKS_CNI_Policy" in str(r["Properties"].get("ManagedPolicyArns"))
    ]
    assert [h.startswith("VpcCniRole") for h in holders] == [True]


def test_autoscaler_reads_this_clusters_node_groups_and_resizes_its_asgs_only(
    default_synth: Synthesized,
) -> None:
    (policy,) = role(default_synth, "ClusterAutoscalerIdentityRole")["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    by_action = {str(s["Action"]): s for s in statements}
    describe_nodegroup = by_action["eks:DescribeNodegroup"]
    assert describe_nodegroup["Resource"] == arn("eks:us-west-2", ":nodegroup/gpu-spot/*/*")
    write = by_action[
        str(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"])
    ]
    assert write["Resource"] == arn(
        "autoscaling:us-west-2", ":autoScalingGroup:*:autoScalingGroupName/*"
    )
    assert write["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/gpu-spot": "owned",
        }
    }
    unscoped = [s for s in statements if s["Resource"] == "*"]
    assert all(
        a.split(":")[1].startswith(("Describe", "GetInstanceTypes"))
        for s in unscoped
        for a in s["Action"]
    )


def test_tagging_role_may_write_only_node_template_keys(default_synth: Synthesized) -> None:
    """Every tag key a spec hands to ScaleFromZeroTags is under the prefix the role allows."""
    assert nodegroup_ops_provider.NODE_TEMPLATE_PREFIX == "k8s.io/cluster-autoscaler/node-template"
    for spec in default_synth.stacks.node_groups.gpu:
        assert spec.node_template_tags
        assert all(k.startswith(f"{NODE_TEMPLATE_PREFIX}/") for k in spec.node_template_tags)


def test_no_hidden_cluster_creator_admin(default_synth: Synthesized) -> None:
    Template.from_json(default_synth.cluster).has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "AccessConfig": {
                "AuthenticationMode": "API",
                "BootstrapClusterCreatorAdminPermissions": False,
            }
        },
    )


def test_control_plane_log_group_is_created_first_with_the_configured_retention(
    default_synth: Synthesized,
) -> None:
    logs = default_synth.cluster["Resources"]["ControlPlaneLogs"]
    assert logs["Properties"] == {
        "LogGroupName": "/aws/eks/gpu-spot/cluster",
        "RetentionInDays": 90,
    }
    assert logs["DeletionPolicy"] == "Delete"
    assert "ControlPlaneLogs" in default_synth.cluster["Resources"]["ClusterEB0386A7"]["DependsOn"]


def test_log_retention_follows_the_config(tmp_path: Path) -> None:
    synth = synthesize(
        config_with({"control_plane_log_retention_days": 365, "cluster_name": "audit"}), tmp_path
    )
    logs = synth.cluster["Resources"]["ControlPlaneLogs"]["Properties"]
    assert logs == {"LogGroupName": "/aws/eks/audit/cluster", "RetentionInDays": 365}


def test_synth_warns_while_the_endpoint_is_open_to_the_world(default_synth: Synthesized) -> None:
    Annotations.from_stack(default_synth.stacks.cluster).has_warning(
        "/gpu-spot-cluster/Cluster", Match.string_like_regexp("whole internet")
    )


def test_no_endpoint_warning_for_a_narrowed_endpoint() -> None:
    app = cdk.App(context=feature_flags())
    stacks = build_stacks(
        app, config_with({"endpoint": {"public_access_cidrs": ["203.0.113.0/24"]}})
    )
    Annotations.from_stack(stacks.cluster).has_no_warning("*", Match.any_value())


def _managed_policy_names(props: dict[str, Any]) -> list[str]:
    return [p["Fn::Join"][1][-1].split(":policy/")[1] for p in props.get("ManagedPolicyArns", [])]


def test_kubectl_provider_role_has_no_ecr_read_and_describes_only_this_cluster(
    default_synth: Synthesized,
) -> None:
    kubectl_role = role(default_synth, "KubectlProviderRole")
    assert _managed_policy_names(kubectl_role) == [
        "service-role/AWSLambdaBasicExecutionRole",
        "service-role/AWSLambdaVPCAccessExecutionRole",
    ]
    assert kubectl_role["Policies"] == [
        {
            "PolicyName": "DescribeCluster",
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "eks:DescribeCluster",
                        "Effect": "Allow",
                        "Resource": arn("eks:us-west-2", ":cluster/gpu-spot"),
                    }
                ],
                "Version": "2012-10-17",
            },
        }
    ]
    template = default_synth.cluster
    assert "Conditions" not in template  # aws-cdk-lib's unused HasEcrPublic condition is gone
    holders = [
        k
        for k, r in resources(template, "AWS::IAM::Role").items()
        if "ContainerRegistryReadOnly" in str(r["Properties"].get("ManagedPolicyArns"))
        or "ContainerRegistryPublicReadOnly" in str(r["Properties"].get("ManagedPolicyArns"))
    ]
    assert holders == []
    (role_id,) = [k for k in resources(template, "AWS::IAM::Role") if k.startswith("Kubectl")]
    (handler,) = [
        r
        for k, r in resources(template, "AWS::Lambda::Function").items()
        if k.startswith("ClusterKubectlProviderHandler")
    ]
    assert handler["Properties"]["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    (entry,) = resources(template, "AWS::EKS::AccessEntry").values()
    assert entry["Properties"]["PrincipalArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_kubectl_provider_outside_the_vpc_gets_no_network_interface_policy(
    tmp_path: Path,
) -> None:
    synth = synthesize(
        config_with({"endpoint": {"public_access_cidrs": ["0.0.0.0/0"], "private_access": False}}),
        tmp_path,
    )
    assert _managed_policy_names(role(synth, "KubectlProviderRole")) == [
        "service-role/AWSLambdaBasicExecutionRole"
    ]
