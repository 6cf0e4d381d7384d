"""Secure defaults of the stacks: every role's statements and conditions, hidden admins, the
control-plane log group and the KMS keys, the endpoint messages, flow logs, termination
protection, forced updates, network policy enforcement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk.assertions import Annotations, Match, Template

from cluster_config.labels import NODE_TEMPLATE_PREFIX
from constructs_lib.cluster_role_trust import confine_cluster_role
from constructs_lib.nodegroup_ops_handler.index import foreign_keys
from stacks import build_stacks, new_app
from stacks.network_stack import RESTRICT_DEFAULT_SG_PROVIDER
from tests.support import config_with, resources, synthesize
from verify.synth import Synthesis, feature_flags

CLUSTER_ARN = {"Fn::GetAtt": ["ClusterEB0386A7", "Arn"]}


def role(synth: Synthesis, prefix: str) -> dict[str, Any]:
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
    default_synth: Synthesis, prefix: str, service_account: str
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


def test_vpc_cni_holds_the_cni_policy_through_its_add_on(default_synth: Synthesis) -> None:
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


def test_no_role_but_the_cni_role_holds_the_cni_policy(default_synth: Synthesis) -> None:
    holders = [
        k
        for k, r in resources(default_synth.cluster, "AWS::IAM::Role").items()
        if "AmazonEKS_CNI_Policy" in str(r["Properties"].get("ManagedPolicyArns"))
    ]
    assert [h.startswith("VpcCniRole") for h in holders] == [True]


def test_autoscaler_reads_this_clusters_node_groups_and_resizes_its_asgs_only(
    default_synth: Synthesis,
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


def test_tagging_role_and_handler_accept_every_node_template_key(
    default_synth: Synthesis,
) -> None:
    """Every tag key a spec hands to ScaleFromZeroTags is under the prefix the role allows, and the
    Lambda handler (which keeps its own copy of the prefix) does not refuse it: a drift between the
    two would fail every GPU group's deploy."""
    for spec in default_synth.stacks.node_groups.gpu:
        assert spec.node_template_tags
        assert all(k.startswith(f"{NODE_TEMPLATE_PREFIX}/") for k in spec.node_template_tags)
        assert foreign_keys(spec.node_template_tags) == []


def test_no_hidden_cluster_creator_admin(default_synth: Synthesis) -> None:
    Template.from_json(default_synth.cluster).has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "AccessConfig": {
                "AuthenticationMode": "API",
                "BootstrapClusterCreatorAdminPermissions": False,
            }
        },
    )


LOG_KEY = "ControlPlaneLogsKey25FA5701"
SECRETS_KEY = "SecretsKey317DCF94"
ROOT = {"AWS": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}


def test_control_plane_log_group_is_created_first_encrypted_and_kept(
    default_synth: Synthesis,
) -> None:
    logs = default_synth.cluster["Resources"]["ControlPlaneLogs"]
    assert logs["Properties"] == {
        "LogGroupName": "/aws/eks/gpu-spot/cluster",
        "RetentionInDays": 90,
        "KmsKeyId": {"Fn::GetAtt": [LOG_KEY, "Arn"]},
    }
    assert (logs["DeletionPolicy"], logs["UpdateReplacePolicy"]) == ("Retain", "Retain")
    # A kept log group whose key was deleted could never be read: the key is kept too.
    assert default_synth.cluster["Resources"][LOG_KEY]["DeletionPolicy"] == "Retain"
    assert "ControlPlaneLogs" in default_synth.cluster["Resources"]["ClusterEB0386A7"]["DependsOn"]


def test_cloudwatch_logs_may_use_the_log_key_for_this_log_group_only(
    default_synth: Synthesis,
) -> None:
    statements = key_statements(default_synth, LOG_KEY)
    assert statements["CloudWatchLogsForThisLogGroup"] == {
        "Sid": "CloudWatchLogsForThisLogGroup",
        "Effect": "Allow",
        "Principal": {"Service": "logs.us-west-2.amazonaws.com"},
        "Action": [
            "kms:Decrypt*",
            "kms:Describe*",
            "kms:Encrypt*",
            "kms:GenerateDataKey*",
            "kms:ReEncrypt*",
        ],
        "Resource": "*",
        "Condition": {
            "ArnEquals": {
                "kms:EncryptionContext:aws:logs:arn": arn(
                    "logs:us-west-2", ":log-group:/aws/eks/gpu-spot/cluster"
                )
            }
        },
    }


def test_log_retention_and_removal_follow_the_config(tmp_path: Path) -> None:
    synth = synthesize(
        config_with(
            {
                "control_plane_log_retention_days": 365,
                "control_plane_log_retain_on_delete": False,
                "cluster_name": "audit",
            }
        ),
        tmp_path,
    )
    logs = synth.cluster["Resources"]["ControlPlaneLogs"]
    assert logs["Properties"]["LogGroupName"] == "/aws/eks/audit/cluster"
    assert logs["Properties"]["RetentionInDays"] == 365
    assert logs["DeletionPolicy"] == "Delete"
    (key_id,) = [k for k in resources(synth.cluster, "AWS::KMS::Key") if "ControlPlane" in k]
    assert synth.cluster["Resources"][key_id]["DeletionPolicy"] == "Delete"
    # Deleting the stack schedules the key's deletion: CloudFormation's role may, nobody else.
    deny = key_statements(synth, key_id)["OnlyNamedPrincipalsDisableOrDelete"]
    assert deny["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                    "cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-us-west-2"
                }
            ]
        }
    }


def key_statements(synth: Synthesis, key_id: str) -> dict[str, dict[str, Any]]:
    statements = synth.cluster["Resources"][key_id]["Properties"]["KeyPolicy"]["Statement"]
    return {s["Sid"]: s for s in statements}


@pytest.mark.parametrize("key_id", [SECRETS_KEY, LOG_KEY])
def test_keys_separate_administration_from_use_and_deny_deletion_to_everyone(
    default_synth: Synthesis, key_id: str
) -> None:
    statements = key_statements(default_synth, key_id)
    assert statements["KeyAdministration"]["Principal"] == ROOT
    assert "kms:Encrypt" not in statements["KeyAdministration"]["Action"]
    assert statements["KeyUse"]["Principal"] == ROOT
    assert statements["KeyUse"]["Action"] == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    assert statements["GrantsForAwsResources"]["Condition"] == {
        "Bool": {"kms:GrantIsForAWSResource": "true"}
    }
    assert not any(s.get("Action") == "kms:*" for s in statements.values())
    deny = statements["OnlyNamedPrincipalsDisableOrDelete"]
    assert deny == {
        "Sid": "OnlyNamedPrincipalsDisableOrDelete",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["kms:DisableKey", "kms:DisableKeyRotation", "kms:ScheduleKeyDeletion"],
        "Resource": "*",
    }  # no principal named in the default config: nobody
    properties = default_synth.cluster["Resources"][key_id]["Properties"]
    assert properties["EnableKeyRotation"] is True


def test_keys_have_aliases_named_after_the_cluster(default_synth: Synthesis) -> None:
    aliases = {
        r["Properties"]["AliasName"]: r["Properties"]["TargetKeyId"]
        for r in resources(default_synth.cluster, "AWS::KMS::Alias").values()
    }
    assert aliases == {
        "alias/gpu-spot-secrets": {"Fn::GetAtt": [SECRETS_KEY, "Arn"]},
        "alias/gpu-spot-control-plane-logs": {"Fn::GetAtt": [LOG_KEY, "Arn"]},
    }


def test_named_principals_alone_may_disable_or_delete_the_keys(tmp_path: Path) -> None:
    admin = "arn:aws:iam::123456789012:role/KeyCustodian"
    synth = synthesize(config_with({"key_deletion_principal_arns": [admin]}), tmp_path)
    for key_id in (SECRETS_KEY, LOG_KEY):
        deny = key_statements(synth, key_id)["OnlyNamedPrincipalsDisableOrDelete"]
        assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": [admin]}}


def test_synth_warns_when_the_endpoint_is_opened_to_the_world() -> None:
    app = new_app(context=feature_flags())
    stacks = build_stacks(app, config_with({"endpoint": {"public_access_cidrs": ["0.0.0.0/0"]}}))
    Annotations.from_stack(stacks.cluster).has_warning(
        "/gpu-spot-cluster/Cluster", Match.string_like_regexp("whole internet")
    )


def test_synth_says_how_to_reach_a_private_endpoint_without_admins(
    default_synth: Synthesis,
) -> None:
    annotations = Annotations.from_stack(default_synth.stacks.cluster)
    annotations.has_info(
        "/gpu-spot-cluster/Cluster", Match.string_like_regexp("nobody can use kubectl")
    )
    annotations.has_no_warning("*", Match.any_value())


def test_no_private_endpoint_message_once_an_admin_is_named() -> None:
    app = new_app(context=feature_flags())
    config = config_with({"admin_principal_arns": ["arn:aws:iam::123456789012:role/Admin"]})
    Annotations.from_stack(build_stacks(app, config).cluster).has_no_info(
        "*", Match.string_like_regexp("nobody can use kubectl")
    )


def test_no_endpoint_warning_for_a_narrowed_endpoint() -> None:
    app = new_app(context=feature_flags())
    stacks = build_stacks(
        app, config_with({"endpoint": {"public_access_cidrs": ["203.0.113.0/24"]}})
    )
    Annotations.from_stack(stacks.cluster).has_no_warning("*", Match.any_value())


def test_cluster_stack_is_termination_protected_unless_configured_off() -> None:
    app = new_app(context=feature_flags())
    assert build_stacks(app, config_with()).cluster.termination_protection is True
    other = new_app(context=feature_flags())
    stacks = build_stacks(other, config_with({"termination_protection": False}))
    assert stacks.cluster.termination_protection is False
    assert stacks.network.termination_protection is False  # its exports already protect it


def test_node_groups_never_force_an_update_past_pod_disruption_budgets(
    default_synth: Synthesis,
) -> None:
    groups = resources(default_synth.cluster, "AWS::EKS::Nodegroup").values()
    assert [g["Properties"]["ForceUpdateEnabled"] for g in groups] == [False] * 4


def test_vpc_cni_enforces_network_policies(default_synth: Synthesis) -> None:
    Template.from_json(default_synth.cluster).has_resource_properties(
        "AWS::EKS::Addon",
        {"AddonName": "vpc-cni", "ConfigurationValues": '{"enableNetworkPolicy":"true"}'},
    )


def test_flow_logs_record_all_traffic_for_this_accounts_flow_logs_only(
    default_synth: Synthesis,
) -> None:
    network = Template.from_json(default_synth.network)
    network.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})
    (trust,) = [
        r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        for k, r in resources(default_synth.network, "AWS::IAM::Role").items()
        if k.startswith("VpcFlowLogsIAMRole")
    ]
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "ArnLike": {"aws:SourceArn": arn("ec2:us-west-2", ":vpc-flow-log/*")},
            },
        }
    ]


def test_the_tagging_handler_knows_its_own_cluster(default_synth: Synthesis) -> None:
    (handler,) = [
        r["Properties"]
        for k, r in resources(default_synth.cluster, "AWS::Lambda::Function").items()
        if k.startswith("NodegroupOpsHandler")
    ]
    assert handler["Environment"] == {"Variables": {"CLUSTER_NAME": "gpu-spot"}}


def _managed_policy_names(props: dict[str, Any]) -> list[str]:
    return [p["Fn::Join"][1][-1].split(":policy/")[1] for p in props.get("ManagedPolicyArns", [])]


def test_kubectl_provider_role_holds_no_managed_policy_and_describes_only_this_cluster(
    default_synth: Synthesis,
) -> None:
    kubectl_role = role(default_synth, "KubectlProviderRole")
    assert _managed_policy_names(kubectl_role) == []
    policies = {p["PolicyName"]: p["PolicyDocument"]["Statement"] for p in kubectl_role["Policies"]}
    assert policies["DescribeCluster"] == [
        {
            "Action": "eks:DescribeCluster",
            "Effect": "Allow",
            "Resource": arn("eks:us-west-2", ":cluster/gpu-spot"),
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
    handler = kubectl_handler(default_synth)
    assert handler["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    (entry,) = resources(template, "AWS::EKS::AccessEntry").values()
    assert entry["Properties"]["PrincipalArn"] == {"Fn::GetAtt": [role_id, "Arn"]}


def kubectl_handler(synth: Synthesis) -> dict[str, Any]:
    (handler,) = [
        r["Properties"]
        for k, r in resources(synth.cluster, "AWS::Lambda::Function").items()
        if k.startswith("ClusterKubectlProviderHandler")
    ]
    return handler


def test_kubectl_provider_writes_only_to_its_own_log_group(default_synth: Synthesis) -> None:
    (log_group_id,) = [
        k
        for k in resources(default_synth.cluster, "AWS::Logs::LogGroup")
        if k.startswith("Kubectl")
    ]
    assert kubectl_handler(default_synth)["LoggingConfig"] == {"LogGroup": {"Ref": log_group_id}}
    policies = {
        p["PolicyName"]: p["PolicyDocument"]["Statement"]
        for p in role(default_synth, "KubectlProviderRole")["Policies"]
    }
    assert policies["OwnLogs"] == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
        }
    ]
    everything = str(role(default_synth, "KubectlProviderRole"))
    assert "logs:CreateLogGroup" not in everything


def test_kubectl_provider_manages_network_interfaces_of_this_account_and_region_only(
    default_synth: Synthesis,
) -> None:
    policies = {
        p["PolicyName"]: p["PolicyDocument"]["Statement"]
        for p in role(default_synth, "KubectlProviderRole")["Policies"]
    }
    assert policies["NetworkInterfaces"] == [
        {"Action": "ec2:DescribeNetworkInterfaces", "Effect": "Allow", "Resource": "*"},
        {
            "Action": [
                "ec2:AssignPrivateIpAddresses",
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Effect": "Allow",
            "Resource": arn("ec2:us-west-2", ":*/*"),
        },
    ]
    # Private-only endpoint: the handler runs in the private subnets, beside the endpoint.
    vpc_config = kubectl_handler(default_synth)["VpcConfig"]
    assert vpc_config["SecurityGroupIds"] == [
        {"Fn::GetAtt": ["ClusterEB0386A7", "ClusterSecurityGroupId"]}
    ]
    assert len(vpc_config["SubnetIds"]) == 3
    assert all("PrivateSubnet" in str(s) for s in vpc_config["SubnetIds"])


def test_kubectl_provider_outside_the_vpc_gets_no_network_interface_policy(
    tmp_path: Path,
) -> None:
    synth = synthesize(
        config_with({"endpoint": {"public_access_cidrs": ["0.0.0.0/0"], "private_access": False}}),
        tmp_path,
    )
    kubectl_role = role(synth, "KubectlProviderRole")
    assert _managed_policy_names(kubectl_role) == []
    assert sorted(p["PolicyName"] for p in kubectl_role["Policies"]) == [
        "DescribeCluster",
        "OwnLogs",
    ]
    framework = role(synth, "ClusterKubectlProviderProviderFrameworkRole")
    assert "ManagedPolicyArns" not in framework
    assert [p["PolicyName"] for p in framework["Policies"]] == ["OwnLogs"]


CLUSTER_ROLE = "ClusterRoleFA261979"


def test_cluster_role_trusts_eks_only_for_this_cluster_and_account(
    default_synth: Synthesis,
) -> None:
    """EKS User Guide, cross-service confused deputy prevention: the cluster role's trust."""
    trust = default_synth.cluster["Resources"][CLUSTER_ROLE]["Properties"]
    assert trust["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "eks.amazonaws.com"},
            "Condition": {
                "ArnLike": {"aws:SourceArn": arn("eks:us-west-2", ":cluster/gpu-spot")},
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            },
        }
    ]
    # The same role (RoleArn is create-only: a new role would replace the cluster).
    cluster = default_synth.cluster["Resources"]["ClusterEB0386A7"]["Properties"]
    assert cluster["RoleArn"] == {"Fn::GetAtt": [CLUSTER_ROLE, "Arn"]}


def test_cluster_role_condition_refuses_a_trust_policy_it_has_not_read() -> None:
    """aws-cdk-lib giving the role another trust (Auto Mode adds sts:TagSession) is an error,
    not a condition on the wrong statement."""
    stack = cdk.Stack(new_app(context=feature_flags()), "S")
    cluster = eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.V1_34,
        default_capacity_type=eks.DefaultCapacityType.AUTOMODE,
    )
    with pytest.raises(ValueError, match="changed the cluster role's trust policy"):
        confine_cluster_role(cluster, cluster_name="demo")


def _lambda_roles(template: dict[str, Any]) -> dict[str, str]:
    """Function logical ID -> the logical ID of its role (every role is in the template)."""
    return {
        k: r["Properties"]["Role"]["Fn::GetAtt"][0]
        for k, r in resources(template, "AWS::Lambda::Function").items()
    }


def _statements_of_role(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    role_props = template["Resources"][role_id]["Properties"]
    documents = [p["PolicyDocument"] for p in role_props.get("Policies", [])]
    documents += [
        r["Properties"]["PolicyDocument"]
        for r in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in r["Properties"]["Roles"]
    ]
    return [s for d in documents for s in d["Statement"]]


@pytest.mark.parametrize("stack", ["network", "cluster"])
def test_every_lambda_role_logs_only_to_its_functions_own_log_group(
    default_synth: Synthesis, stack: str
) -> None:
    """No AWSLambdaBasicExecutionRole (logs on *, the audit log included) nor
    AWSLambdaVPCAccessExecutionRole on any Lambda role; each logs only where its function does."""
    template = getattr(default_synth, stack)
    functions = _lambda_roles(template)
    assert len(functions) == {"network": 1, "cluster": 4}[stack]
    for function_id, role_id in functions.items():
        role_props = template["Resources"][role_id]["Properties"]
        assert "ManagedPolicyArns" not in role_props, function_id
        log_group = template["Resources"][function_id]["Properties"]["LoggingConfig"]["LogGroup"]
        assert log_group["Ref"] in resources(template, "AWS::Logs::LogGroup")
        logs = [
            s
            for s in _statements_of_role(template, role_id)
            if any(str(a).startswith("logs:") for a in _as_list(s["Action"]))
        ]
        assert logs == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [log_group["Ref"], "Arn"]},
            }
        ], function_id


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_provider_frameworks_run_on_their_own_roles(default_synth: Synthesis) -> None:
    """The kubectl framework's role (injected: aws_eks_v2 has no prop) manages network
    interfaces of this account and region only; neither framework role can touch the cluster."""
    template = default_synth.cluster
    roles = {
        k: role_id
        for k, role_id in _lambda_roles(template).items()
        if "ProviderframeworkonEvent" in k
    }
    assert sorted(roles.values()) == [
        "ClusterKubectlProviderProviderFrameworkRole1BF5FD86",
        "NodegroupOpsProviderFrameworkRoleD795B1E0",
    ]
    kubectl = _statements_of_role(template, roles["ClusterKubectlProviderframeworkonEvent68E0CF80"])
    actions = sorted({a for s in kubectl for a in _as_list(s["Action"])})
    assert actions == [
        "ec2:AssignPrivateIpAddresses",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:UnassignPrivateIpAddresses",
        "lambda:GetFunction",
        "lambda:InvokeFunction",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    wide = [s for s in kubectl if s["Resource"] == "*"]
    assert wide == [{"Action": "ec2:DescribeNetworkInterfaces", "Effect": "Allow", "Resource": "*"}]
    invoke = [s for s in kubectl if s["Action"] == "lambda:InvokeFunction"]
    assert invoke[0]["Resource"][0] == {
        "Fn::GetAtt": ["ClusterKubectlProviderHandler2E05C68A", "Arn"]
    }
    entries = resources(template, "AWS::EKS::AccessEntry").values()
    assert all("FrameworkRole" not in str(e["Properties"]["PrincipalArn"]) for e in entries)


def test_aws_cdk_lib_default_sg_provider_still_has_the_shape_overridden(tmp_path: Path) -> None:
    """constructs_lib/custom_resource_provider_logs.py deletes ManagedPolicyArns of the raw role
    of ec2.Vpc's default-SG provider: had aws-cdk-lib added another managed policy, the override
    would silently drop it. Without the override, the role holds exactly the one it replaces."""
    app = new_app(context=feature_flags(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bare")
    ec2.Vpc(stack, "Vpc", nat_gateways=0, max_azs=1)
    template = app.synth().get_stack_by_name("Bare").template
    (role,) = [
        r["Properties"]
        for k, r in resources(template, "AWS::IAM::Role").items()
        if k.startswith(RESTRICT_DEFAULT_SG_PROVIDER.replace(":", ""))
    ]
    assert role["ManagedPolicyArns"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
            "service-role/AWSLambdaBasicExecutionRole"
        }
    ]


def test_synth_warns_when_cidrs_together_open_the_endpoint_to_the_world() -> None:
    """Split into pieces (two /1s, or /2s and /3s covering over 1/16 of IPv4), the internet
    once got no warning."""
    app = new_app(context=feature_flags())
    cidrs = ["0.0.0.0/1", "128.0.0.0/1"]
    stacks = build_stacks(app, config_with({"endpoint": {"public_access_cidrs": cidrs}}))
    Annotations.from_stack(stacks.cluster).has_warning(
        "/gpu-spot-cluster/Cluster", Match.string_like_regexp("whole internet.*1/16 of the IPv4")
    )
