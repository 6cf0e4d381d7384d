"""The custom-resource provider behind ``DesiredSizeGuard`` and ``ScaleFromZeroTags``."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    CfnElement,
    Duration,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib.lambda_policies import own_log_group
from constructs_lib.nag_acknowledgments import (
    auto_scaling_group_arn,
    nodegroup_arn,
    nodegroup_wildcard,
    wildcard_resource,
)
from constructs_lib.nodegroup_ops_handler.index import NODE_TEMPLATE_PREFIX
from constructs_lib.provider_framework_role import ProviderFrameworkRole

HANDLER_DIR = Path(__file__).parent / "nodegroup_ops_handler"
# The only tag keys the handler writes: those its own NODE_TEMPLATE_PREFIX allows.


class NodegroupOpsProvider(Construct):
    """One Lambda (``nodegroup_ops_handler/index.py``) serving both resource types of a cluster.

    Its role may only describe the node groups of ``cluster_name`` and tag the Auto Scaling
    groups that EKS created for that cluster (``aws:ResourceTag/eks:cluster-name``), and only with
    the autoscaler's node-template tag keys (``aws:TagKeys``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, cluster_name: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        log_group = own_log_group(self, "Logs")
        # Its own role (not AWSLambdaBasicExecutionRole): writes to its own log group only.
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        self.handler = lambda_.Function(
            self,
            "Handler",
            role=role,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.on_event",
            code=lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__", "*.pyc"]),
            timeout=Duration.minutes(2),
            log_group=log_group,
            description="Node group desired-size guard and autoscaler node-template ASG tags",
            # The handler acts for this cluster only, whatever its properties say.
            environment={"CLUSTER_NAME": cluster_name},
        )
        self.handler.add_to_role_policy(
            iam.PolicyStatement(
                actions=["eks:DescribeNodegroup"],
                resources=[nodegroup_arn(stack, cluster_name)],
            )
        )
        # EKS names the ASGs of managed node groups eks-<nodegroup>-<uuid>.
        eks_asgs = auto_scaling_group_arn(stack, "eks-*")
        self.handler.add_to_role_policy(
            iam.PolicyStatement(
                actions=["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
                resources=[eks_asgs],
                conditions={
                    "StringEquals": {"aws:ResourceTag/eks:cluster-name": cluster_name},
                    # Only the autoscaler's node-template keys (Amazon EC2 Auto Scaling user
                    # guide, "Control which tag keys and tag values can be used").
                    "ForAllValues:StringLike": {"aws:TagKeys": [f"{NODE_TEMPLATE_PREFIX}*"]},
                },
            )
        )
        # The framework Lambda on its own role too (not AWSLambdaBasicExecutionRole).
        framework_role = ProviderFrameworkRole(self, "ProviderFrameworkRole", in_vpc=False)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.handler,
            framework_on_event_role=framework_role,
            log_group=framework_role.log_group,
        )

        Validations.of(role).acknowledge(
            nodegroup_wildcard(stack, cluster_name),
            wildcard_resource(
                stack,
                eks_asgs,
                reason="EKS names a managed node group's ASG eks-<group>-<uuid> at creation; the "
                "statement's aws:ResourceTag/eks:cluster-name condition limits it to this "
                "cluster's groups.",
            ),
        )
        Validations.of(framework_role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{_logical_id(self.handler)}.Arn>:*]",
                reason="The Provider framework may invoke every version of this one handler.",
            ),
        )

    @property
    def service_token(self) -> str:
        return self.provider.service_token


def _logical_id(construct: Construct) -> str:
    resource = construct.node.default_child
    assert isinstance(resource, CfnElement)
    return Stack.of(construct).resolve(resource.logical_id)  # type: ignore[no-any-return]
