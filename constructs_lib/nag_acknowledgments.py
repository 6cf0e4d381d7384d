"""cdk-nag acknowledgments of wildcard IAM resources, named exactly as cdk-nag names the finding.

cdk-nag 3.0.2 (``lib/rules/iam/IAMNoWildcardPermissions.js``) reports each wildcard resource
as ``AwsSolutions-IAM5[Resource::<flattened>]``, where ``<flattened>`` is the resolved resource
passed through ``lib/utils/flatten-cfn-reference.js`` ``flattenCfnReference``; ``NagPack
.isAcknowledged`` (``lib/nag-pack.js``) then compares that string for equality. The ID therefore
depends on what the ARN resolves to: ``<AWS::AccountId>`` while the stack's account is a token,
the account's digits once ``account`` is set. Building the ID from the same ARN the policy holds
keeps the two in step whatever the stack's environment is.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Stack


def nodegroup_arn(stack: Stack, cluster_name: str) -> str:
    """Every node group of ``cluster_name``: ``nodegroup/<cluster>/<name>/<uuid>``."""
    return stack.format_arn(
        service="eks",
        resource="nodegroup",
        resource_name=f"{cluster_name}/*/*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def auto_scaling_group_arn(stack: Stack, group_name_pattern: str) -> str:
    """Auto Scaling groups of this account and region whose name matches the pattern."""
    return stack.format_arn(
        service="autoscaling",
        resource="autoScalingGroup",
        resource_name=f"*:autoScalingGroupName/{group_name_pattern}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def wildcard_resource(stack: Stack, resource: str, *, reason: str) -> Acknowledgment:
    """IAM5 on ``resource`` (an ARN, possibly with tokens) as cdk-nag reports it in ``stack``."""
    flattened = flatten_cfn_reference(stack.resolve(resource))
    return Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{flattened}]", reason=reason
    )


def nodegroup_wildcard(stack: Stack, cluster_name: str) -> Acknowledgment:
    """IAM5 on ``nodegroup/<cluster>/*/*``: the ARN's last part is a UUID EKS assigns."""
    return wildcard_resource(
        stack,
        nodegroup_arn(stack, cluster_name),
        reason="A node group ARN ends in a UUID that EKS assigns at creation; the "
        f"wildcard covers only node groups of cluster {cluster_name}.",
    )


def flatten_cfn_reference(node: Any) -> str:
    """cdk-nag 3.0.2 ``lib/utils/flatten-cfn-reference.js`` ``flattenCfnReference``."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if node.get("Fn::Join"):
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten_cfn_reference(item) for item in items)
        if node.get("Fn::Sub"):
            return flatten_cfn_reference(node["Fn::Sub"])
        if node.get("Fn::GetAtt"):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"
        if node.get("Fn::ImportValue"):
            return flatten_cfn_reference(node["Fn::ImportValue"])
        if node.get("Ref"):
            return f"<{flatten_cfn_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
