"""Confused-deputy conditions on the trust policy of a VPC flow log's delivery role."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam


def confine_flow_log_role(flow_log: ec2.FlowLog) -> None:
    """Only flow logs of this account may assume ``flow_log``'s role.

    Amazon VPC user guide, "IAM role for publishing flow logs to CloudWatch Logs": the trust
    policy "should" use ``aws:SourceAccount`` and ``aws:SourceArn`` (``vpc-flow-log/*`` of the
    account and region) against the confused-deputy problem. aws-cdk-lib 2.275's
    ``FlowLogDestination.to_cloud_watch_logs`` creates the role without them. The trust policy
    is updatable in place: the role is not replaced.
    """
    role = flow_log.iam_role
    assert role is not None, "a CloudWatch Logs flow log has a delivery role"
    cfn_role = role.node.default_child
    assert isinstance(cfn_role, iam.CfnRole)
    stack = Stack.of(flow_log)
    cfn_role.add_property_override(
        "AssumeRolePolicyDocument.Statement.0.Condition",
        {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="ec2",
                    resource="vpc-flow-log",
                    resource_name="*",
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                )
            },
        },
    )
