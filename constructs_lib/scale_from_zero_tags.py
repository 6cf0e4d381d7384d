"""Cluster-autoscaler node-template tags on the Auto Scaling group of a managed node group."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CustomResource
from constructs import Construct

from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider


class ScaleFromZeroTags(Construct):
    """Applies ``tags`` (a spec's ``node_template_tags``) to the node group's ASG through
    CloudFormation.

    Tags on ``AWS::EKS::Nodegroup`` stay on the node group (EKS CreateNodegroup API;
    aws/containers-roadmap#608), so a custom resource finds the ASG with
    ``eks:DescribeNodegroup`` and tags it: re-applied when the tags change, stale keys removed,
    all removed on delete. Pass ``nodegroup_name`` as the node group's token so this runs after
    the group exists.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        provider: NodegroupOpsProvider,
        cluster_name: str,
        nodegroup_name: str,
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type="Custom::AsgNodeTemplateTags",
            properties={
                "ClusterName": cluster_name,
                "NodegroupName": nodegroup_name,
                "Tags": dict(tags),
            },
        )
