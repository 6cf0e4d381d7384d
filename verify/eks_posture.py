"""``eks-posture``: what the EKS Best Practices Guide asks of a cluster, read from the templates.

cdk-nag 3's EKS rules only match the classic ``aws_eks`` cluster class and never fire on an
``aws_eks_v2`` cluster, so these rules read the synthesized CloudFormation instead (and the cloud
assembly's stack properties, for termination protection). Each rule cites its source (mostly the
EKS Best Practices Guide, docs.aws.amazon.com/eks/latest/best-practices, read 2026-11) and each
finding names the resource and the config field (or code) that changes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cluster_config.public_cidrs import OPEN_TO_INTERNET_RULE, opens_to_internet
from verify.manifests import MANIFEST_TYPE
from verify.report import CheckResult

Templates = dict[str, dict[str, Any]]
StackProperties = Mapping[str, Mapping[str, Any]]
"""Stack name -> its artifact ``properties`` in the cloud assembly's ``manifest.json``."""

# AWS::EKS::Cluster Logging.ClusterLogging.EnabledTypes: every control-plane log type.
ALL_LOG_TYPES = frozenset({"api", "audit", "authenticator", "controllerManager", "scheduler"})

_BP = "EKS Best Practices Guide, "
GUIDE = {
    "endpoint": _BP + "Identity and Access Management: Make the EKS Cluster Endpoint private",
    "logs": _BP + "Detective Controls: Enable audit logs (control-plane logging)",
    "audit-log": _BP + "Detective Controls: Enable audit logs; CIS Amazon EKS Benchmark 2.1.1: "
    "the audit trail outlives the cluster and is encrypted with a customer KMS key",
    "secrets": _BP + "Data Encryption and Secrets Management: encrypt Kubernetes secrets with "
    "AWS KMS",
    "key-guard": _BP + "Data Encryption and Secrets Management: the KMS key cannot be disabled "
    "or deleted by any IAM administrator (a lost key makes the cluster's secrets unreadable)",
    "auth-mode": _BP + "Identity and Access Management: Cluster Access Manager (access entries)",
    "implicit-admin": _BP + "Identity and Access Management: Remove the cluster-admin "
    "permissions from the cluster creator principal",
    "imds": _BP + "Identity and Access Management: Restrict access to the instance profile "
    "assigned to the worker node (IMDSv2, hop limit 1)",
    "private-subnets": _BP + "Infrastructure Security: Deploy workers onto private subnets",
    "no-ssh": _BP + "Infrastructure Security: Minimize access to worker nodes (no SSH; use SSM)",
    "network-policy": _BP + "Network Security: Network policy (VPC CNI network policy "
    "enforcement); CIS Amazon EKS Benchmark 4.3.2",
    "force-update": _BP + "Reliability, Applications: Protect critical workload with "
    "PodDisruptionBudgets (a forced node-group update ignores them)",
    "termination-protection": "AWS CloudFormation user guide, Protect a stack from being "
    "deleted (termination protection)",
    "addon-identity": _BP + "Identity and Access Management: Use IRSA or EKS Pod Identity for "
    "pods that call AWS (not the node's instance profile)",
    "volume-encryption": _BP + "Data Encryption and Secrets Management: Encryption at rest (EBS "
    "volumes encrypted)",
    "cluster-role-trust": "EKS User Guide, Cross-service confused deputy prevention in Amazon "
    "EKS: the cluster role's trust policy with aws:SourceArn (this cluster) and "
    "aws:SourceAccount",
    "kubectl-access": _BP + "Identity and Access Management: least privilege for the "
    "principals with cluster access; a Lambda with an access entry passes its Kubernetes rights "
    "to whoever may invoke it (docs/security.md, kubectl handler)",
}
# AWS::EKS::Addon vpc-cni ConfigurationValues key that turns on network policy enforcement
# (EKS user guide, "Restrict Pod network traffic with Kubernetes network policies").
NETWORK_POLICY_KEY = "enableNetworkPolicy"
KEY_GUARDED_ACTIONS = frozenset({"kms:ScheduleKeyDeletion", "kms:DisableKey"})

ADDONS_CALLING_AWS = frozenset({"vpc-cni", "aws-ebs-csi-driver", "amazon-cloudwatch-observability"})
"""EKS add-ons whose pods call AWS APIs (EKS user guide, "IAM roles for Amazon EKS add-ons"):
without an association or a role ARN they fall back to the node role."""
EBS_PROVISIONERS = frozenset({"ebs.csi.aws.com", "kubernetes.io/aws-ebs"})


@dataclass(frozen=True)
class Finding:
    level: Literal["FAIL", "WARN", "INFO"]
    rule: str
    resource: str
    problem: str
    field: str

    def line(self) -> str:
        return (
            f"{self.level} {self.rule}: {self.resource}: {self.problem}; change: {self.field} "
            f"[{GUIDE[self.rule]}]"
        )


def stack_properties(outdir: Path) -> dict[str, dict[str, Any]]:
    """Each stack's artifact properties from ``outdir/manifest.json`` (the cloud assembly)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {
        name: artifact.get("properties", {})
        for name, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }


def posture_findings(templates: Templates, properties: StackProperties) -> list[Finding]:
    findings: list[Finding] = []
    for stack, template in templates.items():
        resources = template.get("Resources", {})
        for logical_id, resource in resources.items():
            name = f"{stack}/{logical_id} ({resource['Type']})"
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::EKS::Cluster":
                findings += _endpoint(name, props)
                findings += _control_plane_logs(name, props)
                findings += _secrets_encryption(name, props)
                findings += _authentication(name, props)
                findings += _audit_log(name, props, resources)
                findings += _secrets_key(name, props, resources)
                findings += _network_policy(name, logical_id, resources)
                findings += _termination_protection(stack, properties)
                findings += _cluster_role_trust(name, props, resources)
            elif resource["Type"] == "AWS::EC2::LaunchTemplate":
                findings += _launch_template(name, props)
            elif resource["Type"] == "AWS::EKS::Nodegroup":
                findings += _nodegroup(name, props, template, templates)
            elif resource["Type"] == "AWS::EKS::Addon":
                findings += _addon(name, props)
            elif resource["Type"] == MANIFEST_TYPE and isinstance(props.get("Manifest"), str):
                findings += _storage_classes(name, json.loads(props["Manifest"]))
            elif resource["Type"] == "AWS::EKS::AccessEntry":
                findings += _lambda_access(stack, logical_id, props, resources)
    return findings


def check_eks_posture(templates: Templates, properties: StackProperties) -> CheckResult:
    findings = posture_findings(templates, properties)
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
    if warnings := sum(f.level == "WARN" for f in findings):
        return CheckResult("eks-posture", "WARN", f"{warnings} warning(s)", details)
    return CheckResult("eks-posture", "PASS", f"{len(GUIDE)} rules hold", details)


# --- AWS::EKS::Cluster (CloudFormation resource reference; defaults as documented there) -----


def _endpoint(name: str, props: dict[str, Any]) -> Iterator[Finding]:
    """The API endpoint: not open to the whole internet, and reachable from inside the VPC."""
    vpc = props.get("ResourcesVpcConfig", {})
    public = vpc.get("EndpointPublicAccess", True)  # EKS default: public on
    cidrs = vpc.get("PublicAccessCidrs", ["0.0.0.0/0"])  # EKS default: the world
    if public and opens_to_internet(c for c in cidrs if isinstance(c, str)):
        yield Finding(
            "WARN",
            "endpoint",
            name,
            f"the public API endpoint accepts the whole internet ({', '.join(map(str, cidrs))}; "
            f"{OPEN_TO_INTERNET_RULE})",
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


def _control_plane_logs(name: str, props: dict[str, Any]) -> Iterator[Finding]:
    """Every control-plane log type on."""
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


def _secrets_encryption(name: str, props: dict[str, Any]) -> Iterator[Finding]:
    """Kubernetes secrets envelope-encrypted with a KMS key."""
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


def _authentication(name: str, props: dict[str, Any]) -> Iterator[Finding]:
    """Access entries only (no aws-auth ConfigMap), and no hidden admin for the creator."""
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


def _audit_log(name: str, props: dict[str, Any], resources: dict[str, Any]) -> Iterator[Finding]:
    """The log group EKS writes to must be in the template: kept on delete, KMS-encrypted, with
    a key whose policy lets CloudWatch Logs use it (else AssociateKmsKey fails at deploy)."""
    log_group_name = f"/aws/eks/{props.get('Name')}/cluster"
    found = [
        (k, r)
        for k, r in resources.items()
        if r["Type"] == "AWS::Logs::LogGroup"
        and r.get("Properties", {}).get("LogGroupName") == log_group_name
    ]
    if not found:
        yield Finding(
            "FAIL",
            "audit-log",
            name,
            f"no log group {log_group_name} in the template: EKS creates it without retention "
            "or encryption, and nothing keeps it",
            "code: ControlPlaneLogGroup",
        )
        return
    logical_id, log_group = found[0]
    where = f"{name.split('/')[0]}/{logical_id} (AWS::Logs::LogGroup)"
    if log_group.get("DeletionPolicy") != "Retain":
        yield Finding(
            "WARN",
            "audit-log",
            where,
            "the audit log is deleted with the stack",
            "control_plane_log_retain_on_delete: true",
        )
    key_id = _ref_or_arn(log_group.get("Properties", {}).get("KmsKeyId"))
    if key_id is None or key_id not in resources:
        yield Finding(
            "FAIL",
            "audit-log",
            where,
            "not encrypted with a KMS key of this template",
            "code: ControlPlaneLogGroup key",
        )
        return
    statements = _key_statements(resources[key_id])
    if not any(
        s.get("Effect") == "Allow" and "logs." in json.dumps(s.get("Principal", {}))
        for s in statements
    ):
        yield Finding(
            "FAIL",
            "audit-log",
            f"{name.split('/')[0]}/{key_id} (AWS::KMS::Key)",
            "the key policy does not let CloudWatch Logs (logs.<region>.amazonaws.com) use it",
            "code: ControlPlaneLogGroup key policy",
        )
    yield from _key_guard(f"{name.split('/')[0]}/{key_id} (AWS::KMS::Key)", statements)


def _secrets_key(name: str, props: dict[str, Any], resources: dict[str, Any]) -> Iterator[Finding]:
    for config in props.get("EncryptionConfig", []):
        key_id = _ref_or_arn(config.get("Provider", {}).get("KeyArn"))
        if key_id in resources:
            where = f"{name.split('/')[0]}/{key_id} (AWS::KMS::Key)"
            yield from _key_guard(where, _key_statements(resources[key_id]))


def _key_guard(where: str, statements: list[dict[str, Any]]) -> Iterator[Finding]:
    denied: set[str] = set()
    for statement in statements:
        if statement.get("Effect") == "Deny" and statement.get("Principal") in ("*", {"AWS": "*"}):
            actions = statement.get("Action", [])
            denied |= {actions} if isinstance(actions, str) else set(actions)
    if missing := sorted(KEY_GUARDED_ACTIONS - denied):
        yield Finding(
            "FAIL",
            "key-guard",
            where,
            f"the key policy does not deny {', '.join(missing)} to all but named principals",
            "code: GuardedKey (key_deletion_principal_arns names who may)",
        )


def _network_policy(name: str, cluster_id: str, resources: dict[str, Any]) -> Iterator[Finding]:
    cni = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::EKS::Addon"
        and r.get("Properties", {}).get("AddonName") == "vpc-cni"
        and _ref(r["Properties"].get("ClusterName")) == cluster_id
    ]
    values: dict[str, Any] = {}
    for addon in cni:
        raw = addon["Properties"].get("ConfigurationValues")
        values = json.loads(raw) if isinstance(raw, str) else {}
    if not cni or values.get(NETWORK_POLICY_KEY) != "true":
        yield Finding(
            "FAIL",
            "network-policy",
            name,
            "the vpc-cni add-on does not enforce NetworkPolicy "
            f"({NETWORK_POLICY_KEY} is {values.get(NETWORK_POLICY_KEY, 'unset')!r}): every "
            "NetworkPolicy object is accepted and ignored",
            f'code: ClusterStack vpc-cni configuration {NETWORK_POLICY_KEY}: "true"',
        )


def _termination_protection(stack: str, properties: StackProperties) -> Iterator[Finding]:
    if properties.get(stack, {}).get("terminationProtection") is not True:
        yield Finding(
            "WARN",
            "termination-protection",
            stack,
            "the cluster stack can be deleted without first turning termination protection off",
            "termination_protection: true",
        )


def _key_statements(key: dict[str, Any]) -> list[dict[str, Any]]:
    statements = key.get("Properties", {}).get("KeyPolicy", {}).get("Statement", [])
    return [s for s in statements if isinstance(s, dict)]


def _ref_or_arn(value: Any) -> str | None:
    """The logical ID behind ``Ref`` or ``Fn::GetAtt [id, Arn]``."""
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
        return str(value["Fn::GetAtt"][0])
    return _ref(value)


# --- Identities: the cluster role, Lambdas with cluster access -----------------------------

# Condition operators under which aws:SourceArn / aws:SourceAccount restrict (IAM User Guide,
# "IAM JSON policy elements: Condition operators"); IfExists variants would not.
_ARN_OPERATORS = ("ArnLike", "ArnEquals", "StringEquals", "StringLike")


def _cluster_role_trust(
    name: str, props: dict[str, Any], resources: dict[str, Any]
) -> Iterator[Finding]:
    role_id = _ref_or_arn(props.get("RoleArn"))
    field = "code: constructs_lib/cluster_role_trust.py"
    if role_id not in resources:
        yield Finding(
            "WARN",
            "cluster-role-trust",
            name,
            "the cluster role is not in the template: its trust policy cannot be read",
            field,
        )
        return
    document = resources[role_id].get("Properties", {}).get("AssumeRolePolicyDocument", {})
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow" or "eks.amazonaws.com" not in json.dumps(
            statement.get("Principal", {})
        ):
            continue
        condition = statement.get("Condition", {})
        keys = {
            key: value
            for operator in _ARN_OPERATORS
            for key, value in condition.get(operator, {}).items()
        }
        source_arn = json.dumps(keys.get("aws:SourceArn", ""))
        if "aws:SourceAccount" not in keys or f":cluster/{props.get('Name')}" not in source_arn:
            yield Finding(
                "FAIL",
                "cluster-role-trust",
                f"{name.split('/')[0]}/{role_id} (AWS::IAM::Role)",
                "eks.amazonaws.com may assume the cluster role without aws:SourceAccount and "
                f"an aws:SourceArn of cluster {props.get('Name')} (confused deputy)",
                field,
            )


def _lambda_access(
    stack: str, entry_id: str, props: dict[str, Any], resources: dict[str, Any]
) -> Iterator[Finding]:
    """A Lambda whose role has an access entry: report its Kubernetes rights; fail when a
    resource-based policy lets anyone else invoke it or the functions that may invoke it."""
    role_id = _ref_or_arn(props.get("PrincipalArn"))
    functions = sorted(
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
        and _ref_or_arn(r.get("Properties", {}).get("Role")) == role_id
    )
    if role_id is None or not functions:
        return
    policies = ", ".join(
        f"{_policy_name(p.get('PolicyArn'))} ({p.get('AccessScope', {}).get('Type')} scope)"
        for p in props.get("AccessPolicies", [])
    )
    groups = props.get("KubernetesGroups", [])
    rights = policies + (f", Kubernetes groups {groups}" if groups else "") or "no access policy"
    invokers = sorted(
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function"
        and any(_may_invoke(s, functions) for s in _role_statements(r, resources))
    )
    where = f"{stack}/{entry_id} (AWS::EKS::AccessEntry)"
    field = "docs/security.md#the-kubectl-handler (SCP or permission boundary)"
    yield Finding(
        "INFO",
        "kubectl-access",
        where,
        f"Lambda {', '.join(functions)} acts in the cluster with {rights}; so does every "
        f"principal allowed lambda:InvokeFunction on it or on {', '.join(invokers) or 'nothing'}",
        field,
    )
    exposed = set(functions) | set(invokers)
    for k, r in resources.items():
        if (
            r["Type"] in ("AWS::Lambda::Permission", "AWS::Lambda::Url")
            and (
                _ref_or_arn(r.get("Properties", {}).get("FunctionName"))
                or _ref_or_arn(r.get("Properties", {}).get("TargetFunctionArn"))
            )
            in exposed
        ):
            yield Finding(
                "FAIL",
                "kubectl-access",
                f"{stack}/{k} ({r['Type']})",
                "a resource-based policy lets more principals invoke a Lambda with cluster "
                f"access ({rights})",
                "remove it; only the provider framework invokes the handler",
            )


def _policy_name(arn: Any) -> str:
    flat = json.dumps(arn) if not isinstance(arn, str) else arn
    return flat.rsplit("/", 1)[-1].strip('"]} ')


def _role_statements(function: dict[str, Any], resources: dict[str, Any]) -> list[Any]:
    role_id = _ref_or_arn(function.get("Properties", {}).get("Role"))
    if role_id not in resources:
        return []
    documents = [
        p.get("PolicyDocument", {}) for p in resources[role_id]["Properties"].get("Policies", [])
    ]
    documents += [
        r["Properties"].get("PolicyDocument", {})
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"].get("Roles", [])
    ]
    return [s for d in documents for s in d.get("Statement", [])]


def _may_invoke(statement: dict[str, Any], functions: list[str]) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    targets = json.dumps(statement.get("Resource", ""))
    return (
        statement.get("Effect") == "Allow"
        and any(a in ("lambda:InvokeFunction", "lambda:*", "*") for a in actions)
        and (targets == '"*"' or any(f'"{f}"' in targets for f in functions))
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
    if props.get("ForceUpdateEnabled") is True:
        yield Finding(
            "FAIL",
            "force-update",
            name,
            "ForceUpdateEnabled: an update rolls the nodes even where a PodDisruptionBudget "
            "forbids it, killing running (GPU) jobs",
            "code: ManagedNodeGroup force_update=False",
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


# --- Add-ons and volumes ---------------------------------------------------------------------


def _addon(name: str, props: dict[str, Any]) -> Iterator[Finding]:
    addon = props.get("AddonName")
    if addon in ADDONS_CALLING_AWS and not (
        props.get("PodIdentityAssociations") or props.get("ServiceAccountRoleArn")
    ):
        yield Finding(
            "FAIL",
            "addon-identity",
            name,
            f"the {addon} add-on has no Pod Identity association or role: it would run on the "
            "node role's permissions",
            "code: PodIdentityAddon (constructs_lib/pod_identity_addon.py)",
        )


def _storage_classes(name: str, objects: list[dict[str, Any]]) -> Iterator[Finding]:
    for obj in objects:
        if obj.get("kind") != "StorageClass" or obj.get("provisioner") not in EBS_PROVISIONERS:
            continue
        if str(obj.get("parameters", {}).get("encrypted", "false")).lower() != "true":
            yield Finding(
                "FAIL",
                "volume-encryption",
                name,
                f"StorageClass {obj['metadata'].get('name')} creates unencrypted EBS volumes",
                "code: charts/ebs_storage_class.py parameters encrypted",
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
