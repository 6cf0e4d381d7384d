"""A customer-managed KMS key whose policy names who administers it, who uses it, and who alone
may disable or delete it.

The statements follow the AWS KMS developer guide, "Default key policy" (the key administrators
and key users statements, with ``kms:GrantIsForAWSResource`` on grants), with the account as
principal so that IAM policies choose the people. aws-cdk-lib's default (account root ``kms:*``)
lets any IAM administrator disable or schedule the deletion of the key: for the key that
envelope-encrypts a cluster's secrets, that breaks the cluster for good (EKS cannot decrypt its
secrets). Here a Deny takes those actions from everyone but ``deletion_principal_arns``.

Left to IAM on purpose: ``kms:PutKeyPolicy``. CloudFormation's execution role must be able to
update this policy (KMS refuses a policy that locks out its caller: "key policy lockout safety
check"), and its ARN depends on the bootstrap qualifier, unknown at synth. An administrator can
therefore rewrite the policy before deleting the key; that is a separate, audited CloudTrail
event, not a single click.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

ADMIN_ACTIONS = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
)
"""KMS developer guide, "Default key policy", statement "Allow access for Key Administrators"."""
USE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)
"""The same page, statement "Allow use of the key"."""
GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
"""The same page, "Allow attachment of persistent resources" (EKS holds a grant on this key)."""
GUARDED_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation")
"""Denied to all but the named principals: each makes the key unusable or weaker."""


class GuardedKey(kms.Key):
    """A rotating key with an alias and an explicit policy (module docstring).

    ``service_statements`` are added for AWS services that use the key directly (e.g. CloudWatch
    Logs); ``removal_policy`` defaults to RETAIN, as for any aws-cdk-lib key.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        deletion_principal_arns: Sequence[str],
        service_statements: Sequence[iam.PolicyStatement] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        account = iam.AccountRootPrincipal()
        statements = [
            iam.PolicyStatement(
                sid="KeyAdministration",
                principals=[account],
                actions=list(ADMIN_ACTIONS),
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="KeyUse", principals=[account], actions=list(USE_ACTIONS), resources=["*"]
            ),
            iam.PolicyStatement(
                sid="GrantsForAwsResources",
                principals=[account],
                actions=list(GRANT_ACTIONS),
                resources=["*"],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.PolicyStatement(
                sid="OnlyNamedPrincipalsDisableOrDelete",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(GUARDED_ACTIONS),
                resources=["*"],
                conditions=(
                    {"ArnNotEquals": {"aws:PrincipalArn": list(deletion_principal_arns)}}
                    if deletion_principal_arns
                    else None
                ),
            ),
            *service_statements,
        ]
        super().__init__(
            scope,
            construct_id,
            description=description,
            enable_key_rotation=True,
            alias=alias,
            policy=iam.PolicyDocument(statements=statements),
            removal_policy=removal_policy,
        )
