"""CloudFormation stacks of this app, one per module, and how they fit together."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from charts import AddonCharts, build_charts
from cluster_config import ClusterConfig
from cluster_config.node_groups import NodeGroupSpecs, node_group_specs
from stacks.cluster_stack import ClusterStack
from stacks.network_stack import NetworkStack


@dataclass(frozen=True)
class AppStacks:
    network: NetworkStack
    cluster: ClusterStack
    charts: AddonCharts
    node_groups: NodeGroupSpecs


POLICY_CHECKS_CONTEXT_KEY = "policy_checks"


def add_policy_checks(app: cdk.App) -> None:
    """cdk-nag's AwsSolutions pack: synth fails on any finding not acknowledged at its resource.

    On by default; ``-c policy_checks=false`` skips it for quick local iterations (about a
    quarter second per synth). The verify command and the tests always run it.
    """
    if str(app.node.try_get_context(POLICY_CHECKS_CONTEXT_KEY)).lower() == "false":
        return
    import cdk_nag  # here, so a synth without the checks does not load its assembly

    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks())


def build_stacks(app: cdk.App, config: ClusterConfig) -> AppStacks:
    """The stacks of one cluster, named after it so several clusters share an account."""
    env = cdk.Environment(account=config.account, region=config.region)
    node_groups = node_group_specs(config)
    charts = build_charts(config, node_groups)
    network = NetworkStack(app, f"{config.cluster_name}-network", config=config, env=env)
    cluster = ClusterStack(
        app,
        f"{config.cluster_name}-cluster",
        config=config,
        node_groups=node_groups,
        vpc=network.vpc,
        charts=charts,
        env=env,
        termination_protection=config.termination_protection,
    )
    # On this cluster's stacks only: another cluster in the same app keeps its own tags.
    for stack in (network, cluster):
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
    return AppStacks(network=network, cluster=cluster, charts=charts, node_groups=node_groups)
