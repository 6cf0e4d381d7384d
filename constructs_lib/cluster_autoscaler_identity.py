"""The cluster autoscaler's AWS identity: an IAM role bound to its service account."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

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
    "eks:DescribeNodegroup",
)
WRITE_ACTIONS = (
    "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
)


def autoscaler_policy(cluster_name: str) -> iam.PolicyDocument:
    """Describe anywhere (those actions take no resource); resize only this cluster's groups."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=["*"]),
            iam.PolicyStatement(
                actions=list(WRITE_ACTIONS),
                resources=["*"],
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
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("pods.eks.amazonaws.com"),
            description=f"cluster-autoscaler of EKS cluster {cluster_name} (Pod Identity)",
            inline_policies={"ClusterAutoscaler": autoscaler_policy(cluster_name)},
        )
        assert self.role.assume_role_policy is not None
        self.role.assume_role_policy.add_statements(
            iam.PolicyStatement(
                actions=["sts:TagSession"],
                principals=[iam.ServicePrincipal("pods.eks.amazonaws.com")],
            )
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="The Describe actions of the upstream autoscaler policy support no "
                "resource-level permissions; SetDesiredCapacity and TerminateInstance... are "
                f"limited by aws:ResourceTag conditions to ASGs owned by cluster {cluster_name}.",
            )
        )
        self.association = eks.CfnPodIdentityAssociation(
            self,
            "Association",
            cluster_name=cluster.cluster_name,
            namespace=namespace,
            service_account=service_account,
            role_arn=self.role.role_arn,
        )
