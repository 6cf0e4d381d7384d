"""The custom-resource provider behind ``DesiredSizeGuard`` and ``ScaleFromZeroTags``."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

HANDLER_DIR = Path(__file__).parent / "nodegroup_ops_handler"


class NodegroupOpsProvider(Construct):
    """One Lambda (``nodegroup_ops_handler/index.py``) serving both resource types of a cluster.

    Its role may only describe the node groups of ``cluster_name`` and tag the Auto Scaling
    groups that EKS created for that cluster (``aws:ResourceTag/eks:cluster-name``).
    """

    def __init__(self, scope: Construct, construct_id: str, *, cluster_name: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.handler = lambda_.Function(
            self,
            "Handler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.on_event",
            code=lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__", "*.pyc"]),
            timeout=Duration.minutes(2),
            log_group=log_group,
            description="Node group desired-size guard and autoscaler node-template ASG tags",
        )
        self.handler.add_to_role_policy(
            iam.PolicyStatement(
                actions=["eks:DescribeNodegroup"],
                resources=[
                    stack.format_arn(
                        service="eks",
                        resource="nodegroup",
                        resource_name=f"{cluster_name}/*/*",
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
            )
        )
        self.handler.add_to_role_policy(
            iam.PolicyStatement(
                actions=["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
                resources=[
                    stack.format_arn(
                        service="autoscaling",
                        resource="autoScalingGroup",
                        # EKS names the ASGs of managed node groups eks-<nodegroup>-<uuid>.
                        resource_name="*:autoScalingGroupName/eks-*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
                conditions={"StringEquals": {"aws:ResourceTag/eks:cluster-name": cluster_name}},
            )
        )
        self.provider = cr.Provider(self, "Provider", on_event_handler=self.handler)

    @property
    def service_token(self) -> str:
        return self.provider.service_token
