"""cdk-nag acknowledgments shared by the roles that act on this cluster's node groups."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack


def nodegroup_wildcard(stack: Stack, cluster_name: str) -> Acknowledgment:
    """IAM5 on ``nodegroup/<cluster>/*/*``: the ARN's last part is a UUID EKS assigns."""
    return Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:{stack.partition}:eks:"
        f"{stack.region}:<AWS::AccountId>:nodegroup/{cluster_name}/*/*]",
        reason="A node group ARN ends in a UUID that EKS assigns at creation; the "
        f"wildcard covers only node groups of cluster {cluster_name}.",
    )
