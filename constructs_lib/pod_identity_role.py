"""An IAM role that only EKS Pod Identity, for one service account of one cluster, may assume."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust_conditions(
    *, account: str, cluster_arn: str, namespace: str, service_account: str
) -> dict[str, dict[str, str]]:
    """Conditions on the trust statement (EKS user guide, "Create IAM role with trust policy
    required by EKS Pod Identity", and "Enable or disable session tags" for the tag names).

    ``aws:SourceAccount`` keeps other accounts' clusters out; the session tags EKS Pod Identity
    sets (``eks-cluster-arn``, ``kubernetes-namespace``, ``kubernetes-service-account``) bind the
    role to one service account of one cluster even if someone associates it elsewhere.
    """
    return {
        "StringEquals": {
            "aws:SourceAccount": account,
            "aws:RequestTag/eks-cluster-arn": cluster_arn,
            "aws:RequestTag/kubernetes-namespace": namespace,
            "aws:RequestTag/kubernetes-service-account": service_account,
        }
    }


class PodIdentityRole(iam.Role):
    """``iam.Role`` whose trust is ``sts:AssumeRole`` + ``sts:TagSession`` for Pod Identity only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        namespace: str,
        service_account: str,
        description: str,
        inline_policies: dict[str, iam.PolicyDocument] | None = None,
        managed_policies: list[iam.IManagedPolicy] | None = None,
    ) -> None:
        conditions = pod_identity_trust_conditions(
            account=Stack.of(scope).account,
            cluster_arn=cluster.cluster_arn,
            namespace=namespace,
            service_account=service_account,
        )
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.PrincipalWithConditions(
                iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL), conditions
            ).with_session_tags(),
            description=description,
            inline_policies=inline_policies,
            managed_policies=managed_policies,
        )
