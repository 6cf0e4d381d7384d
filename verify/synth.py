"""Synthesize the app in-process, exactly as app.py does, and keep what the checks need."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charts import write_manifests
from cli.outcome import (
    VALIDATION_REPORT,
    is_policy_failure,
    policy_findings,
    remove_synth_output,
)
from cluster_config import ClusterConfig
from stacks import AppStacks, add_policy_checks, build_stacks, new_app

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
        report: dict[str, Any] = json.loads((self.outdir / VALIDATION_REPORT).read_text())
        return report


def stack_templates(outdir: Path) -> dict[str, Path]:
    """Stack name -> template file of the stacks the last synth into ``outdir`` wrote, as its
    cloud assembly ``manifest.json`` lists them (not every ``*.template.json`` in the folder)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {
        name: outdir / artifact["properties"]["templateFile"]
        for name, artifact in sorted(manifest["artifacts"].items())
        if artifact["type"] == "aws:cloudformation:stack"
    }


def stack_environments(outdir: Path) -> dict[str, str]:
    """Stack name -> its environment (``aws://<account>/<region>``, ``unknown-account`` when the
    stack is account-agnostic), from the cloud assembly's ``manifest.json``."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {
        name: str(artifact.get("environment", ""))
        for name, artifact in sorted(manifest["artifacts"].items())
        if artifact["type"] == "aws:cloudformation:stack"
    }


@dataclass(frozen=True)
class Assembly:
    """The stacks of a cloud assembly (a ``cdk.out``), as its ``manifest.json`` lists them."""

    templates: dict[str, dict[str, Any]]
    environments: dict[str, str]
    """Stack name -> ``aws://<account>/<region>``."""


def read_assembly(outdir: Path) -> Assembly:
    """Only the stacks ``manifest.json`` lists: not stale templates left in the folder."""
    templates = {
        name: json.loads(path.read_text()) for name, path in stack_templates(outdir).items()
    }
    if not templates:
        raise ValueError("it lists no CloudFormation stack")
    return Assembly(templates, stack_environments(outdir))


def synthesize(config: ClusterConfig, outdir: Path) -> Synthesis:
    """Templates, manifests and the policy-validation report of ``config`` in ``outdir``.

    A cdk-nag failure does not raise: the templates are written before validation runs, and
    the caller decides what a failure means. What an earlier synth left in ``outdir`` (another
    cluster's stacks) is removed first, and only the stacks this synth wrote are read.
    """
    app = new_app(context=feature_flags(), outdir=str(outdir))
    add_policy_checks(app)
    stacks = build_stacks(app, config)
    policy_error = None
    remove_synth_output(outdir)
    (outdir / VALIDATION_REPORT).unlink(missing_ok=True)
    try:
        app.synth()
    except RuntimeError as error:
        if not is_policy_failure(error):
            raise
        policy_error = str(error).splitlines()[0]
    else:  # the CDK CLI's context turns the failure into a report only (cli/outcome.py)
        policy_error = next(iter(policy_findings(outdir)), None)
    write_manifests(stacks.charts, outdir / "manifests")
    templates = {
        name: json.loads(path.read_text()) for name, path in stack_templates(outdir).items()
    }
    return Synthesis(config, stacks, outdir, templates, policy_error)
