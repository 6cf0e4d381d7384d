"""cdk-nag acknowledgments match cdk-nag's own finding IDs whatever the stack's account is."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import cdk_nag
import pytest
from aws_cdk import Validations
from aws_cdk import aws_iam as iam

from cli.outcome import is_policy_failure
from constructs_lib.nag_acknowledgments import (
    auto_scaling_group_arn,
    flatten_cfn_reference,
    nodegroup_arn,
    nodegroup_wildcard,
    wildcard_resource,
)
from stacks import new_app
from tests.support import config_with, synthesize
from verify.nag import check_nag
from verify.synth import feature_flags


def _nag_findings(tmp_path: Path, account: str | None, *, acknowledged: bool) -> list[str]:
    """cdk-nag's AwsSolutions findings on one role allowed the project's two wildcard ARNs."""
    app = new_app(context=feature_flags(), outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks())
    stack = cdk.Stack(app, "Acks", env=cdk.Environment(account=account, region="us-west-2"))
    asgs = auto_scaling_group_arn(stack, "eks-*")
    role = iam.Role(
        stack,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        inline_policies={
            "P": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=["eks:DescribeNodegroup"],
                        resources=[nodegroup_arn(stack, "demo")],
                    ),
                    iam.PolicyStatement(actions=["autoscaling:DeleteTags"], resources=[asgs]),
                ]
            )
        },
    )
    if acknowledged:
        Validations.of(role).acknowledge(
            nodegroup_wildcard(stack, "demo"), wildcard_resource(stack, asgs, reason="test")
        )
    try:
        app.synth()
    except RuntimeError as error:
        assert is_policy_failure(error), error
    report = json.loads((tmp_path / "validation-report.json").read_text())
    return [
        violation["ruleName"]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ]


@pytest.mark.parametrize("account", [None, "123456789012"], ids=["env-agnostic", "account-set"])
def test_wildcard_acknowledgments_match_whatever_the_account(
    tmp_path: Path, account: str | None
) -> None:
    # Without acknowledgments: exactly the two wildcard findings, named by cdk-nag itself (the
    # account as the stack has it, or the token cdk-nag prints for an env-agnostic stack), so
    # the empty list below is the acknowledgments' doing and not a role cdk-nag did not flag.
    in_arn = account or "<AWS::AccountId>"
    assert _nag_findings(tmp_path / "without", account, acknowledged=False) == [
        f"AwsSolutions-IAM5[Resource::arn:aws:eks:us-west-2:{in_arn}:nodegroup/demo/*/*]",
        f"AwsSolutions-IAM5[Resource::arn:aws:autoscaling:us-west-2:{in_arn}:"
        "autoScalingGroup:*:autoScalingGroupName/eks-*]",
    ]
    assert _nag_findings(tmp_path / "with", account, acknowledged=True) == []


def test_acknowledgment_names_the_account_as_cdk_nag_does() -> None:
    stack = cdk.Stack(
        new_app(context=feature_flags()),
        "S",
        env=cdk.Environment(account="123456789012", region="us-west-2"),
    )
    agnostic = cdk.Stack(
        new_app(context=feature_flags()), "A", env=cdk.Environment(region="us-west-2")
    )
    assert nodegroup_wildcard(stack, "c").id == (
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:eks:us-west-2:123456789012:"
        "nodegroup/c/*/*]"
    )
    assert nodegroup_wildcard(agnostic, "c").id == (
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:eks:us-west-2:<AWS::AccountId>:"
        "nodegroup/c/*/*]"
    )


@pytest.mark.parametrize(
    ("reference", "flattened"),
    [
        # cdk-nag 3.0.2 test/rules/IAM.test.ts and src/utils/flatten-cfn-reference.ts shapes
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/*"),
        ({"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}, "arn:<AWS::Partition>:s3:::b/*"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "<Bucket.Arn>"),
        ({"Ref": "AWS::AccountId"}, "<AWS::AccountId>"),
        ({"Fn::Join": ["", [{"Fn::GetAtt": ["Fn", "Arn"]}, ":*"]]}, "<Fn.Arn>:*"),
        ({"Fn::ImportValue": "Exported"}, "Exported"),
        ({"Fn::Select": [0, ["a"]]}, '{"Fn::Select":[0,["a"]]}'),
    ],
)
def test_flatten_follows_cdk_nag(reference: object, flattened: str) -> None:
    assert flatten_cfn_reference(reference) == flattened


def test_the_whole_app_with_an_account_passes_cdk_nag(tmp_path: Path) -> None:
    """Every acknowledgment of the app (not only the helpers') holds once ``account`` is set:
    a hard-coded ``<AWS::AccountId>`` in any of them fails here."""
    synthesis = synthesize(config_with({"account": "123456789012"}), tmp_path)
    result = check_nag(synthesis.validation_report(), synthesis.policy_error)
    assert result.status == "PASS", result.details
