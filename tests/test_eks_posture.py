"""The eks-posture check: the default synth passes with only the documented warning, and each
rule fails on a template that breaks it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import Synthesized, resources
from verify.eks_posture import GUIDE, check_eks_posture, posture_findings

Templates = dict[str, dict[str, Any]]
CLUSTER_STACK = "gpu-spot-cluster"
NETWORK_STACK = "gpu-spot-network"


@pytest.fixture()
def templates(default_synth: Synthesized) -> Templates:
    return copy.deepcopy(default_synth.templates)


def cluster_props(t: Templates) -> dict[str, Any]:
    (cluster,) = resources(t[CLUSTER_STACK], "AWS::EKS::Cluster").values()
    props: dict[str, Any] = cluster["Properties"]
    return props


def first(t: Templates, resource_type: str) -> dict[str, Any]:
    props: dict[str, Any] = next(iter(resources(t[CLUSTER_STACK], resource_type).values()))[
        "Properties"
    ]
    return props


def test_default_synth_only_warns_about_the_open_endpoint(templates: Templates) -> None:
    result = check_eks_posture(templates)
    assert result.status == "WARN"
    (line,) = result.details
    assert line.startswith("WARN endpoint: gpu-spot-cluster/ClusterEB0386A7 (AWS::EKS::Cluster)")
    assert "change: endpoint.public_access_cidrs" in line
    assert "Make the EKS Cluster Endpoint private" in line


def test_a_narrowed_endpoint_passes(templates: Templates) -> None:
    cluster_props(templates)["ResourcesVpcConfig"]["PublicAccessCidrs"] = ["203.0.113.0/24"]
    result = check_eks_posture(templates)
    assert (result.status, result.details) == ("PASS", [])


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


BREAKS: dict[str, tuple[str, Callable[[Templates], None]]] = {
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
def test_each_rule_fails_on_a_template_that_breaks_it(templates: Templates, name: str) -> None:
    rule, breaks = BREAKS[name]
    breaks(templates)
    result = check_eks_posture(templates)
    assert result.status == "FAIL"
    failed = {f.rule for f in posture_findings(templates) if f.level == "FAIL"}
    assert failed == {rule}
    assert any(f"FAIL {rule}: {CLUSTER_STACK}/" in line for line in result.details)


def test_a_private_only_endpoint_without_private_access_warns(templates: Templates) -> None:
    vpc = cluster_props(templates)["ResourcesVpcConfig"]
    vpc["PublicAccessCidrs"] = ["203.0.113.0/24"]
    vpc["EndpointPrivateAccess"] = False
    (finding,) = posture_findings(templates)
    assert (finding.level, finding.rule, finding.field) == (
        "WARN",
        "endpoint",
        "endpoint.private_access: true",
    )


def test_an_unresolvable_subnet_is_a_warning_not_a_pass(templates: Templates) -> None:
    first(templates, "AWS::EKS::Nodegroup")["Subnets"] = ["subnet-0123456789abcdef0"]
    cluster_props(templates)["ResourcesVpcConfig"]["PublicAccessCidrs"] = ["203.0.113.0/24"]
    (finding,) = posture_findings(templates)
    assert (finding.level, finding.rule) == ("WARN", "private-subnets")


def test_no_cluster_is_a_failure() -> None:
    assert check_eks_posture({"x": {"Resources": {}}}).status == "FAIL"


def test_every_rule_cites_the_guide() -> None:
    assert {rule for rule, _ in BREAKS.values()} | {"endpoint"} == set(GUIDE)
