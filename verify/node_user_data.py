"""The user data of each node launch template, read the way nodeadm reads it.

nodeadm (awslabs/amazon-eks-ami tag v20260724, ``nodeadm/internal/configprovider/mime.go``
``ParseMaybeMultipart``/``getMultipartReader``) parses user data as a mail message whose
``Content-Type`` is ``multipart/*`` with a boundary, and decodes each part of type
``application/node.eks.aws`` as a NodeConfig; a NodeConfig that does not decode fails the
node's bootstrap, so the node never joins. Here each such part must parse with Python's
``email`` package as that kind of message, and its YAML must validate against nodeadm's own
CRD schema (``verify/data/nodeadm-nodeconfig-crd.yaml``), with feature gates nodeadm knows.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from verify.report import CheckResult

CRD_FILE = Path(__file__).parent / "data" / "nodeadm-nodeconfig-crd.yaml"
NODECONFIG_CONTENT_TYPE = "application/node.eks.aws"
KNOWN_FEATURE_GATES = ("InstanceIdNodeName", "FastImagePull")
"""``nodeadm/api/v1alpha1/nodeconfig_types.go`` ``Feature`` (kubebuilder enum), v20260724."""


@cache
def nodeconfig_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD_FILE.read_text(encoding="utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def user_data_text(launch_template: Mapping[str, Any]) -> str | None:
    """The user data of an ``AWS::EC2::LaunchTemplate`` resource as synthesized (a plain
    string under ``Fn::Base64``), ``None`` without any."""
    user_data = launch_template.get("Properties", {}).get("LaunchTemplateData", {}).get("UserData")
    if user_data is None:
        return None
    if isinstance(user_data, dict) and isinstance(user_data.get("Fn::Base64"), str):
        text: str = user_data["Fn::Base64"]
        return text
    raise ValueError("user data is not a plain string under Fn::Base64 (cannot be read offline)")


def node_configs(text: str) -> list[dict[str, Any]]:
    """Every NodeConfig part of the user data; ``ValueError`` naming what nodeadm would refuse."""
    message = email.message_from_string(text, policy=email.policy.compat32)
    if not message.is_multipart() or message.get_content_maintype() != "multipart":
        shown = message.get_content_type()
        raise ValueError(f"not a MIME multi-part message (Content-Type {shown})")
    if not message.get_boundary():
        raise ValueError("the multi-part Content-Type has no boundary")
    configs = []
    for part in message.walk():
        if part.get_content_type() != NODECONFIG_CONTENT_TYPE:
            continue
        document = yaml.safe_load(str(part.get_payload()))
        problems = nodeconfig_problems(document)
        if problems:
            raise ValueError("; ".join(problems))
        configs.append(document)
    return configs


def nodeconfig_problems(document: Any) -> list[str]:
    """Where ``document`` breaks nodeadm's NodeConfig schema or names an unknown feature gate."""
    validator = jsonschema.Draft7Validator(nodeconfig_schema())
    problems = [
        f"{'.'.join(map(str, error.absolute_path)) or 'NodeConfig'}: {error.message}"
        for error in validator.iter_errors(document)
    ]
    if isinstance(document, dict):
        if document.get("apiVersion") != "node.eks.aws/v1alpha1":
            shown = document.get("apiVersion")
            problems.append(f"apiVersion: {shown!r}, not node.eks.aws/v1alpha1")
        if document.get("kind") != "NodeConfig":
            problems.append(f"kind: {document.get('kind')!r}, not NodeConfig")
        gates = (document.get("spec") or {}).get("featureGates") or {}
        problems.extend(
            f"spec.featureGates.{gate}: not a nodeadm feature gate; known: "
            + ", ".join(KNOWN_FEATURE_GATES)
            for gate in gates
            if gate not in KNOWN_FEATURE_GATES
        )
    return problems


def check_node_user_data(templates: Mapping[str, Mapping[str, Any]]) -> CheckResult:
    """One line: the launch templates whose user data carries a NodeConfig, each valid."""
    problems, with_config, gated = [], 0, 0
    for stack, template in sorted(templates.items()):
        for logical_id, resource in sorted(template.get("Resources", {}).items()):
            if resource.get("Type") != "AWS::EC2::LaunchTemplate":
                continue
            try:
                text = user_data_text(resource)
                configs = node_configs(text) if text is not None else []
            except (ValueError, yaml.YAMLError) as error:
                problems.append(f"{stack}/{logical_id}: {error}")
                continue
            if text is not None and not configs:
                problems.append(f"{stack}/{logical_id}: user data without a NodeConfig part")
            with_config += bool(configs)
            gated += any(
                ((c.get("spec") or {}).get("featureGates") or {}).get("FastImagePull")
                for c in configs
            )
    if problems:
        return CheckResult("node-userdata", "FAIL", "nodeadm would refuse user data", problems)
    summary = (
        f"{with_config} NodeConfig part(s): MIME multi-part, nodeadm's schema; "
        f"FastImagePull in {gated}"
        if with_config
        else "no launch template has user data (EKS writes the node's own)"
    )
    return CheckResult("node-userdata", "PASS", summary)
