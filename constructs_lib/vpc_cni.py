"""The VPC CNI (``vpc-cni`` EKS add-on), ``kube-system/aws-node`` on its own Pod Identity role."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

from constructs_lib.pod_identity_role import PodIdentityRole

VPC_CNI_NAMESPACE = "kube-system"
VPC_CNI_SERVICE_ACCOUNT = "aws-node"


class VpcCniRole(PodIdentityRole):
    """``AmazonEKS_CNI_Policy`` for ``kube-system/aws-node`` of ``cluster`` only (EKS Best
    Practices Guide, Security: "Update the aws-node daemonset to use IRSA"), instead of on the
    node role."""

    def __init__(self, scope: Construct, construct_id: str, *, cluster: eks.ICluster) -> None:
        super().__init__(
            scope,
            construct_id,
            cluster=cluster,
            namespace=VPC_CNI_NAMESPACE,
            service_account=VPC_CNI_SERVICE_ACCOUNT,
            description="VPC CNI (aws-node) of EKS cluster (Pod Identity)",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEKS_CNI_Policy")
            ],
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AmazonEKS_CNI_Policy]",
                reason="The policy EKS documents for the VPC CNI; on its own role, bound to "
                "kube-system/aws-node of this cluster, instead of on the node role.",
            )
        )


class VpcCni(eks.Addon):
    """The ``vpc-cni`` add-on whose ``aws-node`` service account assumes ``role``.

    The role is a sibling (``VpcCniRole``), not a child, so its logical ID stays what it was
    before this construct existed. ``pod_identity_agent`` is deployed first: Pod Identity needs it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        role: VpcCniRole,
        pod_identity_agent: IDependable,
    ) -> None:
        super().__init__(scope, construct_id, addon_name="vpc-cni", cluster=cluster)
        cfn_addon = self.node.default_child
        assert isinstance(cfn_addon, eks.CfnAddon)
        # aws_eks_v2.Addon has no prop for it; AWS::EKS::Addon PodIdentityAssociations does.
        cfn_addon.add_property_override(
            "PodIdentityAssociations",
            [{"ServiceAccount": VPC_CNI_SERVICE_ACCOUNT, "RoleArn": role.role_arn}],
        )
        self.node.add_dependency(pod_identity_agent)
