"""The eks-posture check: the default synth passes with no finding, each rule fails (or warns,
where a config field turns it off) on a template that breaks it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import resources
from verify.eks_posture import GUIDE, check_eks_posture, posture_findings, stack_properties
from verify.synth import Synthesis

Templates = dict[str, dict[str, Any]]
CLUSTER_STACK = "gpu-spot-cluster"
NETWORK_STACK = "gpu-spot-network"


@pytest.fixture()
def templates(default_synth: Synthesis) -> Templates:
    return copy.deepcopy(default_synth.templates)


@pytest.fixture(scope="module")
def properties(default_synth: Synthesis) -> dict[str, dict[str, Any]]:
    return stack_properties(default_synth.outdir)


def check(t: Templates, properties: dict[str, dict[str, Any]]) -> Any:
    return check_eks_posture(t, properties)


def findings(t: Templates, properties: dict[str, dict[str, Any]]) -> Any:
    return posture_findings(t, properties)


def not_info(found: list[Any]) -> list[Any]:
    return [f for f in found if f.level != "INFO"]


def cluster_props(t: Templates) -> dict[str, Any]:
    (cluster,) = resources(t[CLUSTER_STACK], "AWS::EKS::Cluster").values()
    props: dict[str, Any] = cluster["Properties"]
    return props


def first(t: Templates, resource_type: str) -> dict[str, Any]:
    props: dict[str, Any] = next(iter(resources(t[CLUSTER_STACK], resource_type).values()))[
        "Properties"
    ]
    return props


def test_default_synth_passes_every_rule(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    result = check(templates, properties)
    assert result.status == "PASS"
    assert [line.split(":")[0] for line in result.details] == ["INFO kubectl-access"]
    assert properties[CLUSTER_STACK]["terminationProtection"] is True


def test_the_kubectl_handlers_cluster_rights_and_its_invokers_are_reported(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    (finding,) = findings(templates, properties)
    assert (finding.level, finding.rule) == ("INFO", "kubectl-access")
    assert finding.resource.startswith(f"{CLUSTER_STACK}/ClusterClusterAdminRoleAccess")
    assert finding.problem == (
        "Lambda ClusterKubectlProviderHandler2E05C68A acts in the cluster with "
        "AmazonEKSClusterAdminPolicy (cluster scope); so does every principal allowed "
        "lambda:InvokeFunction on it or on ClusterKubectlProviderframeworkonEvent68E0CF80"
    )


def test_an_endpoint_open_to_the_world_warns(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    vpc = cluster_props(templates)["ResourcesVpcConfig"]
    vpc.update(EndpointPublicAccess=True, PublicAccessCidrs=["0.0.0.0/0"])
    result = check(templates, properties)
    assert result.status == "WARN"
    (line,) = [d for d in result.details if not d.startswith("INFO")]
    assert line.startswith("WARN endpoint: gpu-spot-cluster/ClusterEB0386A7 (AWS::EKS::Cluster)")
    assert "change: endpoint.public_access_cidrs" in line
    assert "Make the EKS Cluster Endpoint private" in line


def test_a_public_endpoint_without_cidrs_is_open_to_the_world(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    cluster_props(templates)["ResourcesVpcConfig"]["EndpointPublicAccess"] = True
    (finding,) = not_info(findings(templates, properties))
    assert (finding.level, finding.rule) == ("WARN", "endpoint")


def test_a_narrowed_endpoint_passes(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    vpc = cluster_props(templates)["ResourcesVpcConfig"]
    vpc.update(EndpointPublicAccess=True, PublicAccessCidrs=["203.0.113.0/24"])
    result = check(templates, properties)
    assert result.status == "PASS"
    assert not not_info(findings(templates, properties))


def test_an_audit_log_deleted_with_the_stack_warns(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    templates[CLUSTER_STACK]["Resources"]["ControlPlaneLogs"]["DeletionPolicy"] = "Delete"
    (finding,) = not_info(findings(templates, properties))
    assert (finding.level, finding.rule, finding.field) == (
        "WARN",
        "audit-log",
        "control_plane_log_retain_on_delete: true",
    )


def test_a_cluster_stack_without_termination_protection_warns(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    unprotected = {**properties, CLUSTER_STACK: {**properties[CLUSTER_STACK]}}
    unprotected[CLUSTER_STACK]["terminationProtection"] = False
    (finding,) = not_info(findings(templates, unprotected))
    assert (finding.level, finding.rule, finding.resource) == (
        "WARN",
        "termination-protection",
        CLUSTER_STACK,
    )


def _private_subnet_ids(t: Templates) -> list[str]:
    return [k for k in resources(t[NETWORK_STACK], "AWS::EC2::Subnet") if "Private" in k]


def _route_private_tables_to_the_internet_gateway(t: Templates) -> None:
    network = t[NETWORK_STACK]["Resources"]
    (igw,) = resources(t[NETWORK_STACK], "AWS::EC2::InternetGateway")
    for route in resources(t[NETWORK_STACK], "AWS::EC2::Route").values():
        if "Private" in route["Properties"]["RouteTableId"]["Ref"]:
            route["Properties"].pop("NatGatewayId")
            route["Properties"]["GatewayId"] = {"Ref": igw}
    assert network


def _map_public_ips(t: Templates) -> None:
    for subnet_id in _private_subnet_ids(t):
        t[NETWORK_STACK]["Resources"][subnet_id]["Properties"]["MapPublicIpOnLaunch"] = True


def _log_key(t: Templates) -> dict[str, Any]:
    key_id = t[CLUSTER_STACK]["Resources"]["ControlPlaneLogs"]["Properties"]["KmsKeyId"][
        "Fn::GetAtt"
    ][0]
    key: dict[str, Any] = t[CLUSTER_STACK]["Resources"][key_id]
    return key


def _drop_statement(key: dict[str, Any], sid: str) -> None:
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    key["Properties"]["KeyPolicy"]["Statement"] = [s for s in statements if s.get("Sid") != sid]


def _vpc_cni(t: Templates) -> dict[str, Any]:
    (addon,) = [
        r["Properties"]
        for r in resources(t[CLUSTER_STACK], "AWS::EKS::Addon").values()
        if r["Properties"]["AddonName"] == "vpc-cni"
    ]
    return addon


def _secrets_key(t: Templates) -> dict[str, Any]:
    key: dict[str, Any] = t[CLUSTER_STACK]["Resources"]["SecretsKey317DCF94"]
    return key


def _addon(t: Templates, name: str) -> None:
    (addon,) = [
        r["Properties"]
        for r in resources(t[CLUSTER_STACK], "AWS::EKS::Addon").values()
        if r["Properties"]["AddonName"] == name
    ]
    addon.pop("PodIdentityAssociations")


def _unencrypted_storage_class(t: Templates) -> None:
    for manifest in resources(t[CLUSTER_STACK], "Custom::AWSCDK-EKS-KubernetesResource").values():
        objects = json.loads(manifest["Properties"]["Manifest"])
        for obj in objects:
            if obj["kind"] == "StorageClass":
                del obj["parameters"]["encrypted"]
        manifest["Properties"]["Manifest"] = json.dumps(objects)


def _cluster_role_condition(t: Templates) -> dict[str, Any]:
    role_id = cluster_props(t)["RoleArn"]["Fn::GetAtt"][0]
    condition: dict[str, Any] = t[CLUSTER_STACK]["Resources"][role_id]["Properties"][
        "AssumeRolePolicyDocument"
    ]["Statement"][0]["Condition"]
    return condition


def _invoke_permission(function_prefix: str) -> Callable[[Templates], None]:
    def add(t: Templates) -> None:
        (function_id,) = [
            k
            for k in resources(t[CLUSTER_STACK], "AWS::Lambda::Function")
            if k.startswith(function_prefix)
        ]
        t[CLUSTER_STACK]["Resources"]["AnyoneInvokes"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
                "Principal": "*",
            },
        }

    return add


BREAKS: dict[str, tuple[str, Callable[[Templates], None]]] = {
    "cluster role trusts EKS for any cluster": (
        "cluster-role-trust",
        lambda t: _cluster_role_condition(t).clear(),
    ),
    "cluster role trusts EKS of any account": (
        "cluster-role-trust",
        lambda t: _cluster_role_condition(t).pop("StringEquals"),
    ),
    "cluster role trusts another cluster": (
        "cluster-role-trust",
        lambda t: _cluster_role_condition(t)["ArnLike"].update(
            {"aws:SourceArn": "arn:aws:eks:us-west-2:123456789012:cluster/other"}
        ),
    ),
    "cluster role trust condition only if present": (
        "cluster-role-trust",
        lambda t: _cluster_role_condition(t).update(
            {"StringEqualsIfExists": _cluster_role_condition(t).pop("StringEquals")}
        ),
    ),
    "kubectl handler invocable by a resource policy": (
        "kubectl-access",
        _invoke_permission("ClusterKubectlProviderHandler"),
    ),
    "kubectl framework invocable by a resource policy": (
        "kubectl-access",
        _invoke_permission("ClusterKubectlProviderframeworkonEvent"),
    ),
    "no audit log group in the template": (
        "audit-log",
        lambda t: t[CLUSTER_STACK]["Resources"].pop("ControlPlaneLogs"),
    ),
    "audit log not encrypted": (
        "audit-log",
        lambda t: t[CLUSTER_STACK]["Resources"]["ControlPlaneLogs"]["Properties"].pop("KmsKeyId"),
    ),
    "audit log key unusable by CloudWatch Logs": (
        "audit-log",
        lambda t: _drop_statement(_log_key(t), "CloudWatchLogsForThisLogGroup"),
    ),
    "secrets key deletable by any admin": (
        "key-guard",
        lambda t: _drop_statement(_secrets_key(t), "OnlyNamedPrincipalsDisableOrDelete"),
    ),
    "audit log key deletable by any admin": (
        "key-guard",
        lambda t: _drop_statement(_log_key(t), "OnlyNamedPrincipalsDisableOrDelete"),
    ),
    "network policy enforcement off": (
        "network-policy",
        lambda t: _vpc_cni(t).update(ConfigurationValues='{"enableNetworkPolicy":"false"}'),
    ),
    "vpc-cni without configuration": (
        "network-policy",
        lambda t: _vpc_cni(t).pop("ConfigurationValues"),
    ),
    "forced node-group updates": (
        "force-update",
        lambda t: first(t, "AWS::EKS::Nodegroup").update(ForceUpdateEnabled=True),
    ),
    "one log type off": (
        "logs",
        lambda t: cluster_props(t)["Logging"]["ClusterLogging"]["EnabledTypes"].pop(),
    ),
    "no logging at all": ("logs", lambda t: cluster_props(t).pop("Logging")),
    "secrets not encrypted": ("secrets", lambda t: cluster_props(t).pop("EncryptionConfig")),
    "aws-auth ConfigMap mode": (
        "auth-mode",
        lambda t: cluster_props(t)["AccessConfig"].update(AuthenticationMode="CONFIG_MAP"),
    ),
    "creator admin by default": (
        "implicit-admin",
        lambda t: cluster_props(t)["AccessConfig"].pop("BootstrapClusterCreatorAdminPermissions"),
    ),
    "creator admin on": (
        "implicit-admin",
        lambda t: cluster_props(t)["AccessConfig"].update(
            BootstrapClusterCreatorAdminPermissions=True
        ),
    ),
    "IMDSv1 allowed": (
        "imds",
        lambda t: first(t, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"][
            "MetadataOptions"
        ].update(HttpTokens="optional"),
    ),
    "hop limit 2": (
        "imds",
        lambda t: first(t, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"][
            "MetadataOptions"
        ].update(HttpPutResponseHopLimit=2),
    ),
    "node group without launch template": (
        "imds",
        lambda t: first(t, "AWS::EKS::Nodegroup").pop("LaunchTemplate"),
    ),
    "SSH through RemoteAccess": (
        "no-ssh",
        lambda t: first(t, "AWS::EKS::Nodegroup").update(RemoteAccess={"Ec2SshKey": "mine"}),
    ),
    "SSH key in the launch template": (
        "no-ssh",
        lambda t: first(t, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"].update(KeyName="mine"),
    ),
    "nodes routed through the internet gateway": (
        "private-subnets",
        _route_private_tables_to_the_internet_gateway,
    ),
    "nodes get public IPs": ("private-subnets", _map_public_ips),
    "EBS CSI driver on the node role": (
        "addon-identity",
        lambda t: _addon(t, "aws-ebs-csi-driver"),
    ),
    "VPC CNI on the node role": ("addon-identity", lambda t: _addon(t, "vpc-cni")),
    "unencrypted default StorageClass": ("volume-encryption", _unencrypted_storage_class),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_rule_fails_on_a_template_that_breaks_it(
    templates: Templates, properties: dict[str, dict[str, Any]], name: str
) -> None:
    rule, breaks = BREAKS[name]
    breaks(templates)
    result = check(templates, properties)
    assert result.status == "FAIL"
    failed = {f.rule for f in findings(templates, properties) if f.level == "FAIL"}
    assert failed == {rule}
    assert any(f"FAIL {rule}: {CLUSTER_STACK}/" in line for line in result.details)


def test_a_private_only_endpoint_without_private_access_warns(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    vpc = cluster_props(templates)["ResourcesVpcConfig"]
    vpc.update(EndpointPublicAccess=True, PublicAccessCidrs=["203.0.113.0/24"])
    vpc["EndpointPrivateAccess"] = False
    (finding,) = not_info(findings(templates, properties))
    assert (finding.level, finding.rule, finding.field) == (
        "WARN",
        "endpoint",
        "endpoint.private_access: true",
    )


def test_an_unresolvable_subnet_is_a_warning_not_a_pass(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    first(templates, "AWS::EKS::Nodegroup")["Subnets"] = ["subnet-0123456789abcdef0"]
    (finding,) = not_info(findings(templates, properties))
    assert (finding.level, finding.rule) == ("WARN", "private-subnets")


def test_no_cluster_is_a_failure() -> None:
    """Catches: a check that passes templates it never found a cluster in (every rule vacuous)."""
    result = check_eks_posture({"x": {"Resources": {}}}, {})
    assert (result.status, result.summary) == ("FAIL", "no AWS::EKS::Cluster in the templates")


def test_every_rule_cites_the_guide() -> None:
    assert {rule for rule, _ in BREAKS.values()} | {"endpoint", "termination-protection"} == set(
        GUIDE
    )


def test_an_endpoint_opened_to_the_internet_in_pieces_warns_too(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    """``0.0.0.0/1`` + ``128.0.0.0/1`` is the whole internet; it once passed the check."""
    vpc = cluster_props(templates)["ResourcesVpcConfig"]
    vpc.update(EndpointPublicAccess=True, PublicAccessCidrs=["0.0.0.0/1", "128.0.0.0/1"])
    (finding,) = not_info(findings(templates, properties))
    assert (finding.level, finding.rule) == ("WARN", "endpoint")
    assert "1/16 of the IPv4 space" in finding.problem  # the threshold, stated


def test_an_endpoint_open_to_one_office_does_not_warn(
    templates: Templates, properties: dict[str, dict[str, Any]]
) -> None:
    vpc = cluster_props(templates)["ResourcesVpcConfig"]
    vpc.update(EndpointPublicAccess=True, PublicAccessCidrs=["198.51.100.0/24", "17.0.0.0/8"])
    assert not_info(findings(templates, properties)) == []
