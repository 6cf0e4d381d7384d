"""GPU utilization: the CloudWatch Observability EKS add-on (Container Insights with DCGM)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from constructs_lib.pod_identity_addon import PodIdentityAddon

ADDON_NAME = "amazon-cloudwatch-observability"
NAMESPACE = "amazon-cloudwatch"
AGENT_SERVICE_ACCOUNT = "cloudwatch-agent"
"""CloudWatch user guide, "Install the CloudWatch agent with the Amazon CloudWatch Observability
EKS add-on" (Pod Identity from add-on 3.1.0): the agent's service account and its policy."""
MANAGED_POLICY = "CloudWatchAgentServerPolicy"
CONFIGURATION_VALUES = {"containerLogs": {"enabled": False}}
"""Container logs (Fluent Bit, billed per GB ingested) off: this add-on is here for metrics.
aws-observability/helm-charts ``amazon-cloudwatch-observability/values.yaml``
``containerLogs.enabled`` (default true)."""


class CloudWatchObservability(PodIdentityAddon):
    """The ``amazon-cloudwatch-observability`` add-on: the CloudWatch agent and NVIDIA's DCGM
    exporter as DaemonSets (chart default tolerations ``operator: Exists``, so they run on the
    tainted GPU nodes too; the exporter only on nodes with NVIDIA GPUs), feeding Container
    Insights with enhanced observability, where the GPU graphs appear."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: eks.ICluster,
        after: Sequence[IDependable] = (),
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            cluster=cluster,
            addon_name=ADDON_NAME,
            namespace=NAMESPACE,
            service_account=AGENT_SERVICE_ACCOUNT,
            managed_policy=MANAGED_POLICY,
            configuration_values=CONFIGURATION_VALUES,
            after=after,
        )
