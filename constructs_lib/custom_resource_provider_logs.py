"""An aws-cdk-lib core ``CustomResourceProvider`` logging to its own log group only.

aws-cdk-lib 2.275 ``core/lib/custom-resource-provider/custom-resource-provider-base.ts``
(``CustomResourceProviderBase`` constructor) writes its role as a raw ``AWS::IAM::Role`` with
``ManagedPolicyArns: [AWSLambdaBasicExecutionRole]`` (logs on every log group of the account)
and its handler as a raw ``AWS::Lambda::Function`` without ``LoggingConfig``; it has no prop for
either. ``ec2.Vpc`` creates one (``Custom::VpcRestrictDefaultSGCustomResourceProvider``) to empty
the default security group. The escape hatch below overrides both resources in place (neither is
replaced: ``ManagedPolicyArns``, ``Policies`` and ``LoggingConfig`` update without
interruption); tests/test_security_defaults.py pins the shape read.
"""

from __future__ import annotations

from aws_cdk import CfnResource, CustomResourceProviderBase
from aws_cdk import aws_logs as logs

from constructs_lib.lambda_policies import own_log_group


def log_to_own_group(provider: CustomResourceProviderBase) -> logs.LogGroup:
    """``provider``'s handler logs to a new log group (``<provider>/Logs``), the only one its
    role may write to; the role loses AWSLambdaBasicExecutionRole."""
    role = provider.node.find_child("Role")
    handler = provider.node.find_child("Handler")
    if not (isinstance(role, CfnResource) and isinstance(handler, CfnResource)):
        raise TypeError(f"{provider.node.path}: no raw Role and Handler resources")
    log_group = own_log_group(provider, "Logs")
    role.add_property_deletion_override("ManagedPolicyArns")
    provider.add_to_role_policy(
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": log_group.log_group_arn,
        }
    )
    handler.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
    return log_group
