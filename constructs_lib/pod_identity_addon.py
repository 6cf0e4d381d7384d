"""An EKS managed add-on whose service account runs on its own Pod Identity role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

from constructs_lib.pod_identity_role import PodIdentityRole


class PodIdentityAddon(Construct):
    """``eks.Addon`` with one service account on a ``PodIdentityRole`` holding one AWS managed
    policy, associated through the add-on's own ``PodIdentityAssociations`` (EKS user guide,
    "IAM roles for Amazon EKS add-ons"), so EKS creates and deletes the association with the
    add-on and the node role keeps none of the add-on's permissions.

    ``managed_policy`` is the policy's name under ``arn:<partition>:iam::aws:policy/`` (with its
    path, e.g. ``service-role/AmazonEBSCSIDriverPolicy``). ``configuration_values`` go to
    ``AWS::EKS::Addon`` as they are (none: the add-on's defaults). The add-on is created after
    every construct in ``after`` (the nodes its controller runs on, the Pod Identity agent).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        addon_name: str,
        namespace: str,
        service_account: str,
        managed_policy: str,
        configuration_values: Mapping[str, Any] | None = None,
        after: Sequence[IDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = PodIdentityRole(
            self,
            "Role",
            cluster=cluster,
            namespace=namespace,
            service_account=service_account,
            description=f"{addon_name} add-on ({namespace}/{service_account}) of EKS cluster "
            "(Pod Identity)",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(managed_policy)],
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                f"{managed_policy}]",
                reason=f"The AWS managed policy EKS documents for the {addon_name} add-on, on "
                f"its own role bound to {namespace}/{service_account} of this cluster.",
            )
        )
        self.addon = eks.Addon(
            self,
            "Addon",
            addon_name=addon_name,
            cluster=cluster,
            configuration_values=dict(configuration_values) if configuration_values else None,
        )
        cfn_addon = self.addon.node.default_child
        assert isinstance(cfn_addon, eks.CfnAddon)
        # aws_eks_v2.Addon has no prop for it; AWS::EKS::Addon PodIdentityAssociations does.
        cfn_addon.add_property_override(
            "PodIdentityAssociations",
            [{"ServiceAccount": service_account, "RoleArn": self.role.role_arn}],
        )
        if after:
            self.addon.node.add_dependency(*after)
