"""The IAM role of every node: what EKS managed nodes need, and Session Manager without SSH."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

# AmazonEKS_CNI_Policy is on the VPC CNI's own role (EKS Best Practices Guide, Security:
# "Update the aws-node daemonset to use IRSA"; constructs_lib/vpc_cni.py).
NODE_ROLE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
)
# AWS Systems Manager user guide, "Create a custom IAM role for Session Manager" (policy without
# S3 or CloudWatch Logs logging): what the SSM agent in the AMI needs for shell access without
# SSH. AmazonSSMManagedInstanceCore would also allow ssm:GetParameter(s) on every parameter.
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
_MANAGED = "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{}]"


class NodeRole(iam.Role):
    """``iam.Role`` for EC2: the EKS node policies and Session Manager's own actions only.

    Its cdk-nag findings (AWS managed policies, Session Manager's ``*``) are acknowledged on it,
    each with its reason.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(n) for n in NODE_ROLE_POLICIES
            ],
            inline_policies={
                "SessionManager": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=list(SESSION_MANAGER_ACTIONS), resources=["*"])
                    ]
                )
            },
        )
        Validations.of(self).acknowledge(
            *(
                Acknowledgment(
                    id=_MANAGED.format(name),
                    reason="EKS managed nodes need this AWS managed policy (EKS user guide, node "
                    "IAM role).",
                )
                for name in NODE_ROLE_POLICIES
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="Session Manager's ssmmessages actions take no resource, and the agent "
                "registers the instance it runs on, whose ID is unknown before launch.",
            ),
        )
