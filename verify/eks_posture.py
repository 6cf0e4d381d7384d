"""``eks-posture``: what the EKS Best Practices Guide asks of a cluster, read from the templates.

cdk-nag 3's EKS rules only match the classic ``aws_eks`` cluster class and never fire on an
``aws_eks_v2`` cluster, so these rules read the synthesized CloudFormation instead. Each rule
cites its section of the EKS Best Practices Guide (docs.aws.amazon.com/eks/latest/best-practices,
read 2026-11) and each finding names the resource and the config field (or code) that changes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from verify.report import CheckResult

Templates = dict[str, dict[str, Any]]

# AWS::EKS::Cluster Logging.ClusterLogging.EnabledTypes: every control-plane log type.
ALL_LOG_TYPES = frozenset({"api", "audit", "authenticator", "controllerManager", "scheduler"})

GUIDE = {
    "endpoint": "Identity and Access Management: Make the EKS Cluster Endpoint private",
    "logs": "Detective Controls: Enable audit logs (control-plane logging)",
    "secrets": "Data Encryption and Secrets Management: encrypt Kubernetes secrets with AWS KMS",
    "auth-mode": "Identity and Access Management: Cluster Access Manager (access entries)",
    "implicit-admin": "Identity and Access Management: Remove the cluster-admin permissions "
    "from the cluster creator principal",
    "imds": "Identity and Access Management: Restrict access to the instance profile assigned "
    "to the worker node (IMDSv2, hop limit 1)",
    "private-subnets": "Infrastructure Security: Deploy workers onto private subnets",
    "no-ssh": "Infrastructure Security: Minimize access to worker nodes (no SSH; use SSM)",
}


@dataclass(frozen=True)
class Finding:
    level: Literal["FAIL", "WARN"]
    rule: str
    resource: str
    problem: str
    field: str

    def line(self) -> str:
        return (
            f"{self.level} {self.rule}: {self.resource}: {self.problem}; change: {self.field} "
            f"[EKS Best Practices Guide, {GUIDE[self.rule]}]"
        )


def posture_findings(templates: Templates) -> list[Finding]:
    findings: list[Finding] = []
    for stack, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            name = f"{stack}/{logical_id} ({resource['Type']})"
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::EKS::Cluster":
                findings += _cluster(name, props)
            elif resource["Type"] == "AWS::EC2::LaunchTemplate":
                findings += _launch_template(name, props)
            elif resource["Type"] == "AWS::EKS::Nodegroup":
                findings += _nodegroup(name, props, template, templates)
    return findings


def check_eks_posture(templates: Templates) -> CheckResult:
    findings = posture_findings(templates)
    clusters = sum(
        r["Type"] == "AWS::EKS::Cluster"
        for t in templates.values()
        for r in t.get("Resources", {}).values()
    )
    if not clusters:
        return CheckResult("eks-posture", "FAIL", "no AWS::EKS::Cluster in the templates")
    details = [f.line() for f in findings]
    if any(f.level == "FAIL" for f in findings):
        fails = sum(f.level == "FAIL" for f in findings)
        return CheckResult("eks-posture", "FAIL", f"{fails} rule(s) broken", details)
    if findings:
        return CheckResult("eks-posture", "WARN", f"{len(findings)} warning(s)", details)
    return CheckResult(
        "eks-posture", "PASS", f"{len(GUIDE)} EKS Best Practices rules hold", details
    )


# --- AWS::EKS::Cluster (CloudFormation resource reference; defaults as documented there) -----


def _cluster(name: str, props: dict[str, Any]) -> Iterator[Finding]:
    vpc = props.get("ResourcesVpcConfig", {})
    public = vpc.get("EndpointPublicAccess", True)  # EKS default: public on
    cidrs = vpc.get("PublicAccessCidrs", ["0.0.0.0/0"])  # EKS default: the world
    if public and "0.0.0.0/0" in cidrs:
        yield Finding(
            "WARN",
            "endpoint",
            name,
            "the public API endpoint accepts 0.0.0.0/0",
            "endpoint.public_access_cidrs (your own CIDR, or [] for private only)",
        )
    if not vpc.get("EndpointPrivateAccess", False):
        yield Finding(
            "WARN",
            "endpoint",
            name,
            "no private endpoint: nodes reach the API over the internet",
            "endpoint.private_access: true",
        )
    enabled = {
        t.get("Type")
        for t in props.get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", [])
    }
    if missing := sorted(ALL_LOG_TYPES - enabled):
        yield Finding(
            "FAIL",
            "logs",
            name,
            f"control-plane log types off: {', '.join(missing)}",
            "code: ClusterStack cluster_logging",
        )
    encrypted = [
        e
        for e in props.get("EncryptionConfig", [])
        if "secrets" in e.get("Resources", []) and e.get("Provider", {}).get("KeyArn")
    ]
    if not encrypted:
        yield Finding(
            "FAIL",
            "secrets",
            name,
            "secrets are not envelope-encrypted with a KMS key",
            "code: ClusterStack secrets_encryption_key",
        )
    access = props.get("AccessConfig", {})
    mode = access.get("AuthenticationMode", "CONFIG_MAP")
    if mode != "API":
        yield Finding(
            "FAIL" if mode == "CONFIG_MAP" else "WARN",
            "auth-mode",
            name,
            f"AuthenticationMode is {mode} (aws-auth ConfigMap still honoured)",
            "code: ClusterStack authentication mode API",
        )
    if access.get("BootstrapClusterCreatorAdminPermissions", True) is not False:
        yield Finding(
            "FAIL",
            "implicit-admin",
            name,
            "the creating principal (CloudFormation's role) gets a cluster-admin access entry "
            "that is not in the template",
            "code: ClusterStack bootstrap_cluster_creator_admin_permissions=False "
            "(create-only); admins go in admin_principal_arns",
        )


# --- Nodes -----------------------------------------------------------------------------------


def _launch_template(name: str, props: dict[str, Any]) -> Iterator[Finding]:
    data = props.get("LaunchTemplateData", {})
    metadata = data.get("MetadataOptions", {})
    if metadata.get("HttpTokens") != "required":
        yield Finding(
            "FAIL",
            "imds",
            name,
            "IMDSv1 allowed (HttpTokens not required)",
            "code: NodeLaunchTemplate http_tokens",
        )
    if metadata.get("HttpPutResponseHopLimit") != 1:
        yield Finding(
            "FAIL",
            "imds",
            name,
            f"IMDS hop limit {metadata.get('HttpPutResponseHopLimit', 'unset')}, not 1: pods "
            "can read the node role's credentials",
            "code: NodeLaunchTemplate http_put_response_hop_limit",
        )
    if "KeyName" in data:
        yield Finding(
            "FAIL", "no-ssh", name, "an SSH key pair is set", "code: NodeLaunchTemplate key_name"
        )


def _nodegroup(
    name: str, props: dict[str, Any], template: dict[str, Any], templates: Templates
) -> Iterator[Finding]:
    if "RemoteAccess" in props:
        yield Finding(
            "FAIL",
            "no-ssh",
            name,
            "RemoteAccess opens SSH to the nodes",
            "code: ManagedNodeGroup remote_access",
        )
    if "LaunchTemplate" not in props:
        yield Finding(
            "FAIL",
            "imds",
            name,
            "no launch template: EKS's own template sets IMDS hop limit 2",
            "code: ManagedNodeGroup launch_template",
        )
    for subnet in props.get("Subnets", []):
        public = _subnet_is_public(subnet, template, templates)
        if public is None:
            yield Finding(
                "WARN",
                "private-subnets",
                name,
                f"cannot tell whether subnet {subnet} is private",
                "availability_zones / gpu_pools[].availability_zones",
            )
        elif public:
            yield Finding(
                "FAIL",
                "private-subnets",
                name,
                f"subnet {subnet} routes to an internet gateway (public)",
                "code: ManagedNodeGroup subnets (PRIVATE_WITH_EGRESS)",
            )


def _subnet_is_public(ref: Any, template: dict[str, Any], templates: Templates) -> bool | None:
    """Follows Ref / Fn::ImportValue to the subnet; public when its route table has a route to
    an internet gateway or it maps public IPs on launch (VPC user guide, "Subnet types")."""
    found = _resolve_subnet(ref, template, templates)
    if found is None:
        return None
    logical_id, owner = found
    resources = owner.get("Resources", {})
    if resources[logical_id].get("Properties", {}).get("MapPublicIpOnLaunch"):
        return True
    tables = {
        _ref(r["Properties"].get("RouteTableId"))
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
        and _ref(r["Properties"].get("SubnetId")) == logical_id
    }
    gateways = {k for k, r in resources.items() if r["Type"] == "AWS::EC2::InternetGateway"}
    return any(
        r["Type"] == "AWS::EC2::Route"
        and _ref(r["Properties"].get("RouteTableId")) in tables
        and _ref(r["Properties"].get("GatewayId")) in gateways
        for r in resources.values()
    )


def _resolve_subnet(
    ref: Any, template: dict[str, Any], templates: Templates
) -> tuple[str, dict[str, Any]] | None:
    if (logical_id := _ref(ref)) is not None:
        return (logical_id, template) if logical_id in template.get("Resources", {}) else None
    if isinstance(ref, dict) and "Fn::ImportValue" in ref:
        export = ref["Fn::ImportValue"]
        for owner in templates.values():
            for output in owner.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == export:
                    exported = _ref(output.get("Value"))
                    if exported is not None and exported in owner.get("Resources", {}):
                        return exported, owner
    return None


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None
