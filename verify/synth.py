"""Synthesize the app in-process, exactly as app.py does, and keep what the checks need."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from charts import write_manifests
from cluster_config import ClusterConfig
from cluster_config.cli import is_policy_failure
from stacks import AppStacks, add_policy_checks, build_stacks

ROOT = Path(__file__).resolve().parents[1]


def feature_flags() -> dict[str, Any]:
    """The cdk.json context without the config defaults (they are read by the loader)."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {k: v for k, v in context.items() if k != "cluster"}


@dataclass
class Synthesis:
    config: ClusterConfig
    stacks: AppStacks
    outdir: Path
    templates: dict[str, dict[str, Any]]
    policy_error: str | None
    """Set when a policy-validation plugin (cdk-nag) failed the synth."""

    @property
    def cluster(self) -> dict[str, Any]:
        return self.templates[f"{self.config.cluster_name}-cluster"]

    @property
    def network(self) -> dict[str, Any]:
        return self.templates[f"{self.config.cluster_name}-network"]

    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report


def synthesize(config: ClusterConfig, outdir: Path) -> Synthesis:
    """Templates, manifests and the policy-validation report of ``config`` in ``outdir``.

    A cdk-nag failure does not raise: the templates are written before validation runs, and
    the caller decides what a failure means.
    """
    app = cdk.App(context=feature_flags(), outdir=str(outdir))
    add_policy_checks(app)
    stacks = build_stacks(app, config)
    policy_error = None
    try:
        app.synth()
    except RuntimeError as error:
        if not is_policy_failure(error):
            raise
        policy_error = str(error).splitlines()[0]
    write_manifests(stacks.charts, outdir / "manifests")
    templates = {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in sorted(outdir.glob("*.template.json"))
    }
    return Synthesis(config, stacks, outdir, templates, policy_error)
