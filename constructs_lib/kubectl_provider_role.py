"""The kubectl provider's role, with only what its handler uses: no ECR read.

aws-cdk-lib 2.275 ``aws-eks-v2/lib/kubectl-provider.ts`` (``KubectlProvider`` constructor) adds
``eks:DescribeCluster``, ``AWSLambdaVPCAccessExecutionRole`` (in a VPC) and, "for OCI helm chart
authorization", ``AmazonEC2ContainerRegistryReadOnly`` and ``AmazonElasticContainerRegistry
PublicReadOnly`` to whatever role it runs with. This project applies manifests, never Helm
charts, so the ECR policies are unused. The Cluster gets ``role.without_policy_updates()``: the
provider's additions are dropped, and this role already holds the rest. The handler
(``custom-resource-handlers/lib/aws-eks-v2/kubectl-handler``) calls ``aws eks update-kubeconfig``
(DescribeCluster) and ``kubectl`` with a token from the Lambda's own credentials; its Kubernetes
rights come from the cluster-admin access entry aws-cdk-lib creates for this role.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

LAMBDA_POLICIES = ("service-role/AWSLambdaBasicExecutionRole",)
VPC_POLICIES = ("service-role/AWSLambdaVPCAccessExecutionRole",)


class KubectlProviderRole(iam.Role):
    """Logs, network interfaces when ``in_vpc``, and ``eks:DescribeCluster`` on ``cluster_name``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, cluster_name: str, in_vpc: bool
    ) -> None:
        names = LAMBDA_POLICIES + (VPC_POLICIES if in_vpc else ())
        cluster_arn = Stack.of(scope).format_arn(
            service="eks",
            resource="cluster",
            resource_name=cluster_name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"kubectl provider of EKS cluster {cluster_name}",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(n) for n in names],
            inline_policies={
                "DescribeCluster": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["eks:DescribeCluster"], resources=[cluster_arn]
                        )
                    ]
                )
            },
        )
        Validations.of(self).acknowledge(
            *(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:"
                    f"policy/{name}]",
                    reason="The policies aws-cdk-lib's kubectl provider gives its Lambda (logs; "
                    "network interfaces in the private subnets), without its ECR read policies.",
                )
                for name in names
            )
        )
