"""CloudFormation stacks of this app, one per module, and how they fit together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def new_app(**props: Any) -> cdk.App:
    """The ``cdk.App`` this project synthesizes into (``app.py``, ``verify``): aws-cdk-lib's
    defaults but one.

    aws-cdk-lib's built-in CloudFormation validation (``builtinCloudFormationValidation``, on by
    default in the pinned 2.275) is off. It reports findings as warnings only, and it lints the same
    templates that cfn-lint checks in ``verify`` (``verify/cfn_lint.py``) and in the tests, for
    every config they synthesize. It cost about 2 s of every synth on 2 cores: its
    WebAssembly validator's start-up (measured with ``NODE_OPTIONS=--cpu-prof``: 2.3-2.5 s of
    CPU in ``@aws/cloudformation-validate``, aws-cdk-lib 2.275), plus about 0.3 s per synth.
    """
    return cdk.App(builtin_cloud_formation_validation=False, **props)


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
