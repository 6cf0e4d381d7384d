"""Inline policies of the Lambda roles this project creates instead of AWS managed ones.

AWSLambdaBasicExecutionRole grants ``logs:CreateLogGroup``, ``CreateLogStream`` and
``PutLogEvents`` on ``*``: a function could write into any log group of the account (the
cluster's audit log included). AWSLambdaVPCAccessExecutionRole grants the network-interface
actions on ``*``: it could delete any network interface.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.nag_acknowledgments import wildcard_resource

# What AWSLambdaVPCAccessExecutionRole allows, as the Lambda developer guide lists it ("Giving
# Lambda functions access to resources in an Amazon VPC", required IAM permissions), scoped as
# far as that page says Lambda still works: DescribeNetworkInterfaces only works on "*"; for the
# others, a resource ID unknown before Lambda creates the interface, or "all resource IDs" of the
# account and region ("arn:aws:ec2:us-west-2:123456789012:*/*"), else the function "may not be
# able to access the VPC". So: this account and region only, never another account's ENIs.
NETWORK_INTERFACE_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


def own_log_group(scope: Construct, construct_id: str) -> logs.LogGroup:
    """A Lambda function's own log group: kept a month, deleted with the stack (what it logs is
    operational, not an audit trail)."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )


def own_logs_policy(log_group: logs.ILogGroup) -> iam.PolicyDocument:
    """Log streams and events in ``log_group`` only (it exists: no CreateLogGroup)."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        ]
    )


def network_interfaces_arn(stack: Stack) -> str:
    """Every resource of EC2 in this account and region: Lambda's network interfaces."""
    return stack.format_arn(
        service="ec2", resource="*", resource_name="*", arn_format=ArnFormat.SLASH_RESOURCE_NAME
    )


def network_interfaces_policy(stack: Stack) -> iam.PolicyDocument:
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(actions=["ec2:DescribeNetworkInterfaces"], resources=["*"]),
            iam.PolicyStatement(
                actions=list(NETWORK_INTERFACE_ACTIONS),
                resources=[network_interfaces_arn(stack)],
            ),
        ]
    )


def acknowledge_network_interfaces(role: Construct) -> None:
    """cdk-nag IAM5 on ``network_interfaces_policy``'s two wildcard resources, at ``role``."""
    stack = Stack.of(role)
    Validations.of(role).acknowledge(
        Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            reason="ec2:DescribeNetworkInterfaces works only on '*' (Lambda developer "
            "guide, VPC access permissions).",
        ),
        wildcard_resource(
            stack,
            network_interfaces_arn(stack),
            reason="Lambda creates the function's network interfaces with this role; "
            "their IDs are unknown before, and the Lambda developer guide asks for all "
            "resource IDs of the account and region (this one only).",
        ),
    )
