"""Keeps redeploys from resizing a node group that the cluster autoscaler has resized."""

from __future__ import annotations

from aws_cdk import CustomResource, Token
from constructs import Construct

from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider


class DesiredSizeGuard(Construct):
    """Deploy-time ``DesiredSize`` for one managed node group.

    EKS resizes a group to ``ScalingConfig.DesiredSize`` whenever that property is updated, and
    requires it when the group is created. This resource reads the group's current desired size
    at deploy time (clamped to ``min_size``..``max_size``) and only uses ``initial_size`` when the
    group does not exist yet. It re-runs whenever ``fingerprint`` or a size bound changes, which
    is whenever the node group itself is updated, so the value it hands over is never stale.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        provider: NodegroupOpsProvider,
        cluster_name: str,
        nodegroup_name: str,
        min_size: int,
        max_size: int,
        initial_size: int,
        fingerprint: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type="Custom::NodegroupDesiredSize",
            properties={
                "ClusterName": cluster_name,
                "NodegroupName": nodegroup_name,
                "MinSize": min_size,
                "MaxSize": max_size,
                "InitialSize": initial_size,
                "Fingerprint": fingerprint,
            },
        )

    @property
    def desired_size(self) -> float:
        """A number token resolved at deploy time."""
        return Token.as_number(self.resource.get_att("DesiredSize"))
