"""How the CDK app reads its config: a bad config prints the problems and exits 2, no traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

from cluster_config.loader import ConfigError, load_config
from cluster_config.model import ClusterConfig

DEFAULTS_CONTEXT_KEY = "cluster"
CONFIG_PATH_CONTEXT_KEY = "config"
EXIT_CONFIG_ERROR = 2
EXIT_POLICY_FAILURE = 1


def load_config_or_exit(app: cdk.App) -> ClusterConfig:
    """Config from ``cdk.json`` context ``cluster`` overridden by ``-c config=PATH``.

    On a bad config, the previous synth's templates and manifest are removed from the output
    folder too, so nothing left in ``cdk.out`` looks like a successful synth of this config.
    """
    try:
        return load_config(
            app.node.try_get_context(DEFAULTS_CONTEXT_KEY),
            app.node.try_get_context(CONFIG_PATH_CONTEXT_KEY),
        )
    except ConfigError as error:
        _remove_previous_output(Path(app.outdir))
        print(error.report(), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


def synth_or_exit(app: cdk.App) -> None:
    """``app.synth()``; when a policy check (cdk-nag) fails, exit 1 without a traceback.

    CDK has already printed the findings and written ``validation-report.json``; the templates
    written before the check are removed so that ``cdk deploy --app cdk.out`` cannot pick them up.
    """
    try:
        app.synth()
    except RuntimeError as error:
        if not is_policy_failure(error):
            raise
        _remove_previous_output(Path(app.outdir))
        print(
            "Policy checks failed (see above and validation-report.json); nothing to deploy.",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_POLICY_FAILURE) from None


def is_policy_failure(error: Exception) -> bool:
    """Whether ``app.synth()`` failed because a policy check (cdk-nag) found something.

    aws-cdk-lib raises ValidationFailed after writing the templates and validation-report.json;
    through jsii it arrives as a RuntimeError whose message starts with that name.
    """
    return isinstance(error, RuntimeError) and str(error).startswith("ValidationFailed")


def _remove_previous_output(outdir: Path) -> None:
    for pattern in ("manifest.json", "tree.json", "*.template.json", "*.assets.json"):
        for path in outdir.glob(pattern):
            path.unlink()
