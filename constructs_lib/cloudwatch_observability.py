"""GPU utilization: the CloudWatch Observability EKS add-on (Container Insights with DCGM).

The add-on runs the CloudWatch agent and NVIDIA's DCGM exporter as DaemonSets (chart default
tolerations ``operator: Exists``, so they run on the tainted GPU nodes too; the exporter only on
nodes with NVIDIA GPUs), feeding Container Insights with enhanced observability, where the GPU
graphs appear. aws-observability/helm-charts ``charts/amazon-cloudwatch-observability/values.yaml``.
"""

from __future__ import annotations

from constructs_lib.pod_identity_addon import AddonIdentity

CLOUDWATCH_OBSERVABILITY = AddonIdentity(
    addon_name="amazon-cloudwatch-observability",
    # CloudWatch user guide, "Install the CloudWatch agent with the Amazon CloudWatch
    # Observability EKS add-on" (Pod Identity from add-on 3.1.0): the agent's account, its policy.
    namespace="amazon-cloudwatch",
    service_account="cloudwatch-agent",
    managed_policy="CloudWatchAgentServerPolicy",
    # Container logs (Fluent Bit, billed per GB ingested) off: the add-on is here for metrics
    # (chart value containerLogs.enabled, default true).
    configuration_values={"containerLogs": {"enabled": False}},
)
