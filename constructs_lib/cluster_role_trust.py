"""Confused-deputy conditions on the trust policy of the EKS cluster role."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam

# What aws-cdk-lib 2.275 aws-eks-v2/lib/cluster.ts (Cluster constructor) gives the role it creates.
UPSTREAM_TRUST = {
    "Statement": [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "eks.amazonaws.com"},
        }
    ],
    "Version": "2012-10-17",
}


def cluster_arn(stack: Stack, cluster_name: str) -> str:
    """``arn:<partition>:eks:<region>:<account>:cluster/<name>``, built from the name: the
    cluster's own ``Arn`` attribute would make the role depend on the cluster that uses it."""
    return stack.format_arn(
        service="eks",
        resource="cluster",
        resource_name=cluster_name,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def confine_cluster_role(cluster: eks.Cluster, *, cluster_name: str) -> None:
    """Only EKS acting for ``cluster_name`` in this account may assume the cluster role.

    EKS User Guide, "Cross-service confused deputy prevention in Amazon EKS" (cluster role
    section, read 2026-12 at awsdocs/amazon-eks-user-guide 5534e8cc): ``ArnLike aws:SourceArn``
    the cluster's ARN and ``StringEquals aws:SourceAccount`` the account. aws-cdk-lib 2.275 has no
    prop for the trust of the role it creates, and passing our own role would change the
    create-only ``RoleArn`` of the cluster (a replacement); the trust policy of the same role is
    updated in place instead. Raises if aws-cdk-lib's trust policy is no longer the one read.
    """
    stack = Stack.of(cluster)
    cfn_role = cluster.role.node.default_child
    if not isinstance(cfn_role, iam.CfnRole):
        raise TypeError("aws-cdk-lib's eks Cluster no longer creates its role as iam.Role")
    found: Any = stack.resolve(cfn_role.assume_role_policy_document)
    if found != UPSTREAM_TRUST:
        raise ValueError(
            f"aws-cdk-lib changed the cluster role's trust policy to {found}; "
            "constructs_lib/cluster_role_trust.py conditions the statement it expected"
        )
    cfn_role.add_property_override(
        "AssumeRolePolicyDocument.Statement.0.Condition",
        {
            "ArnLike": {"aws:SourceArn": cluster_arn(stack, cluster_name)},
            "StringEquals": {"aws:SourceAccount": stack.account},
        },
    )
