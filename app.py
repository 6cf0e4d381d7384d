#!/usr/bin/env python3
"""CDK entry point: load the config, create the stacks, synthesize. No logic lives here."""

from pathlib import Path

from charts import write_manifests
from cli.outcome import (
    OUTCOME_FILE_CONTEXT_KEY,
    exit_code_of,
    finish,
    internal_errors_reported,
    load_config_or_exit,
    synth_or_exit,
)
from stacks import add_policy_checks, build_stacks, new_app

app = new_app()


def synthesize() -> None:
    config = load_config_or_exit(app)
    with internal_errors_reported(Path(app.outdir)):
        add_policy_checks(app)
        stacks = build_stacks(app, config)
        synth_or_exit(app)
        write_manifests(stacks.charts, Path(app.outdir) / "manifests")


# The output is written: report the outcome, skip the slow teardown (cli/outcome.py).
finish(exit_code_of(synthesize), app.node.try_get_context(OUTCOME_FILE_CONTEXT_KEY))
