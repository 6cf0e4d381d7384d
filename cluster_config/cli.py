"""How the CDK app reads its config: a bad config prints the problems and exits 2, no traceback."""

from __future__ import annotations

import sys

from constructs import Construct

from cluster_config.loader import ConfigError, load_config
from cluster_config.model import ClusterConfig

DEFAULTS_CONTEXT_KEY = "cluster"
CONFIG_PATH_CONTEXT_KEY = "config"


def load_config_or_exit(app: Construct) -> ClusterConfig:
    """Config from ``cdk.json`` context ``cluster`` overridden by ``-c config=PATH``."""
    try:
        return load_config(
            app.node.try_get_context(DEFAULTS_CONTEXT_KEY),
            app.node.try_get_context(CONFIG_PATH_CONTEXT_KEY),
        )
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        raise SystemExit(2) from None
