"""The cluster autoscaler's AWS identity: an IAM role bound to its service account."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.nag_acknowledgments import (
    auto_scaling_group_arn,
    nodegroup_arn,
    nodegroup_wildcard,
    wildcard_resource,
)
from constructs_lib.pod_identity_role import PodIdentityRole

# kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md, "full features" policy.
DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
# The one read action that takes a resource (Service Authorization Reference, Amazon EKS).
NODEGROUP_READ_ACTIONS = ("eks:DescribeNodegroup",)
WRITE_ACTIONS = (
    "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
)


def autoscaler_policy(stack: Stack, cluster_name: str) -> iam.PolicyDocument:
    """Describe anywhere (those actions take no resource); this cluster's node groups; resize
    only ASGs of this account and region tagged as this cluster's."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=["*"]),
            iam.PolicyStatement(
                actions=list(NODEGROUP_READ_ACTIONS),
                resources=[nodegroup_arn(stack, cluster_name)],
            ),
            iam.PolicyStatement(
                actions=list(WRITE_ACTIONS),
                resources=[auto_scaling_group_arn(stack, "*")],
                conditions={
                    "StringEquals": {
                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                    }
                },
            ),
        ]
    )


class ClusterAutoscalerIdentity(Construct):
    """Role for ``namespace/service_account``, associated through EKS Pod Identity.

    Needs the ``eks-pod-identity-agent`` add-on on the cluster; the service account itself is
    part of the autoscaler chart.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        cluster_name: str,
        namespace: str,
        service_account: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = PodIdentityRole(
            self,
            "Role",
            cluster=cluster,
            namespace=namespace,
            service_account=service_account,
            description=f"cluster-autoscaler of EKS cluster {cluster_name} (Pod Identity)",
            inline_policies={"ClusterAutoscaler": autoscaler_policy(stack, cluster_name)},
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="The Describe actions of the upstream autoscaler policy support no "
                "resource-level permissions.",
            ),
            nodegroup_wildcard(stack, cluster_name),
            wildcard_resource(
                stack,
                auto_scaling_group_arn(stack, "*"),
                reason="EKS names the ASGs of managed groups with random suffixes; "
                "SetDesiredCapacity and TerminateInstance... are limited by aws:ResourceTag "
                f"conditions to ASGs owned by cluster {cluster_name}, in this account and region.",
            ),
        )
        self.association = eks.CfnPodIdentityAssociation(
            self,
            "Association",
            cluster_name=cluster.cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=self.role.role_arn,
        )
