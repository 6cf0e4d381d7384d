"""An EKS managed add-on whose service account runs on its own Pod Identity role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct, IDependable

from constructs_lib.pod_identity_role import PodIdentityRole


@dataclass(frozen=True)
class AddonIdentity:
    """What one add-on needs: its name, the service account that calls AWS and the AWS managed
    policy EKS documents for it, and its configuration values (empty: the add-on's defaults)."""

    addon_name: str
    namespace: str
    service_account: str
    managed_policy: str
    """The policy's name under ``arn:<partition>:iam::aws:policy/``, with its path."""
    configuration_values: Mapping[str, Any] = field(default_factory=dict)


class PodIdentityAddon(Construct):
    """``eks.Addon`` with ``identity.service_account`` on a ``PodIdentityRole`` holding one AWS
    managed policy, associated through the add-on's own ``PodIdentityAssociations`` (EKS user
    guide, "IAM roles for Amazon EKS add-ons"), so EKS creates and deletes the association with
    the add-on and the node role keeps none of the add-on's permissions. The add-on is created
    after every construct in ``after`` (the nodes its controller runs on, the Pod Identity
    agent)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        identity: AddonIdentity,
        after: Sequence[IDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        name, namespace, account = (
            identity.addon_name,
            identity.namespace,
            identity.service_account,
        )
        self.role = PodIdentityRole(
            self,
            "Role",
            cluster=cluster,
            namespace=namespace,
            service_account=account,
            description=f"{name} add-on ({namespace}/{account}) of EKS cluster (Pod Identity)",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(identity.managed_policy)
            ],
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                f"{identity.managed_policy}]",
                reason=f"The AWS managed policy EKS documents for the {name} add-on, on its own "
                f"role bound to {namespace}/{account} of this cluster.",
            )
        )
        self.addon = eks.Addon(
            self,
            "Addon",
            addon_name=name,
            cluster=cluster,
            configuration_values=dict(identity.configuration_values) or None,
        )
        cfn_addon = self.addon.node.default_child
        assert isinstance(cfn_addon, eks.CfnAddon)
        # aws_eks_v2.Addon has no prop for it; AWS::EKS::Addon PodIdentityAssociations does.
        cfn_addon.add_property_override(
            "PodIdentityAssociations",
            [{"ServiceAccount": account, "RoleArn": self.role.role_arn}],
        )
        if after:
            self.addon.node.add_dependency(*after)
