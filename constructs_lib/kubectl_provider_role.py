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

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.cluster_role_trust import cluster_arn
from constructs_lib.lambda_policies import (
    acknowledge_network_interfaces,
    network_interfaces_policy,
    own_log_group,
    own_logs_policy,
)


class KubectlProviderRole(iam.Role):
    """Logs to its own log group, network interfaces when ``in_vpc``, and
    ``eks:DescribeCluster`` on ``cluster_name``. No AWS managed policy: AWSLambdaBasicExecution
    Role would let the handler write into every log group of the account (the cluster's audit
    log included), AWSLambdaVPCAccessExecutionRole would let it delete any network interface.

    ``log_handler_to_own_group(handler)`` points the kubectl handler's ``LoggingConfig`` at
    ``self.log_group`` (aws-cdk-lib gives the handler no log-group prop).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, cluster_name: str, in_vpc: bool
    ) -> None:
        stack = Stack.of(scope)
        # Created in the stack's scope first, so the role's inline policy can name it.
        log_group = own_log_group(scope, f"{construct_id}Logs")
        policies = {
            "DescribeCluster": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=["eks:DescribeCluster"],
                        resources=[cluster_arn(stack, cluster_name)],
                    )
                ]
            ),
            "OwnLogs": own_logs_policy(log_group),
        }
        if in_vpc:
            policies["NetworkInterfaces"] = network_interfaces_policy(stack)
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"kubectl provider of EKS cluster {cluster_name}",
            inline_policies=policies,
        )
        self.log_group = log_group
        if in_vpc:
            acknowledge_network_interfaces(self)

    def log_handler_to_own_group(self, handler: CfnResource) -> None:
        """``LoggingConfig.LogGroup`` of the kubectl handler function: ``self.log_group``."""
        handler.add_property_override("LoggingConfig.LogGroup", self.log_group.log_group_name)
