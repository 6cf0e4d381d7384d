"""The control-plane log group (the cluster's audit trail), KMS-encrypted and kept on delete."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, DefaultStackSynthesizer, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.guarded_key import GuardedKey

# CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS", step 2 (key
# policy for the regional Logs service principal, bound to one log group by encryption context).
LOGS_KEY_ACTIONS = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


class ControlPlaneLogGroup(Construct):
    """``/aws/eks/<cluster>/cluster``, the name EKS writes to (EKS user guide, "Send control
    plane logs to CloudWatch Logs"); created before the cluster, so EKS does not create it
    itself without retention or encryption outside the template.

    - Encrypted with its own ``GuardedKey`` (alias ``alias/<cluster>-control-plane-logs``), whose
      policy lets CloudWatch Logs use it for this log group only.
    - ``retain_on_delete``: the log group and its key stay when the stack is deleted (a retained
      log group whose key was deleted could never be read). A change of this flag changes only
      the resources' DeletionPolicy: nothing is replaced. Without it, CloudFormation's execution
      role (the default synthesizer's ``cfn-exec-role``) is the one more principal that may
      schedule the key's deletion, so that deleting the stack can.
    - The CfnLogGroup keeps the logical ID ``ControlPlaneLogs`` it had before this construct
      existed (its child ID is ``Default``): a new ID would replace a log group whose name is
      fixed, and CloudFormation cannot create the replacement while the old one exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        retention_days: int,
        retain_on_delete: bool,
        key_deletion_principal_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.log_group_name = f"/aws/eks/{cluster_name}/cluster"
        log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=self.log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        removal = RemovalPolicy.RETAIN if retain_on_delete else RemovalPolicy.DESTROY
        deleters = list(key_deletion_principal_arns)
        if not retain_on_delete and isinstance(stack.synthesizer, DefaultStackSynthesizer):
            deleters.append(Fn.sub(stack.synthesizer.cloud_formation_execution_role_arn))
        self.key = GuardedKey(
            self,
            "Key",
            alias=f"alias/{cluster_name}-control-plane-logs",
            description=f"Encryption of the control-plane (audit) logs of EKS cluster "
            f"{cluster_name}",
            deletion_principal_arns=deleters,
            service_statements=[
                iam.PolicyStatement(
                    sid="CloudWatchLogsForThisLogGroup",
                    principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                    actions=list(LOGS_KEY_ACTIONS),
                    resources=["*"],
                    conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
                )
            ],
            removal_policy=removal,
        )
        self.log_group = logs.CfnLogGroup(
            self,
            "Default",
            log_group_name=self.log_group_name,
            retention_in_days=retention_days,
            kms_key_id=self.key.key_arn,
        )
        self.log_group.apply_removal_policy(removal)
