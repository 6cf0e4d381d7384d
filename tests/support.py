"""Shared helpers: build configs from the cdk.json defaults, synthesize them in-process."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from cluster_config import ClusterConfig
from cluster_config.loader import _merge, validate_config
from stacks import AppStacks, add_policy_checks, build_stacks

ROOT = Path(__file__).resolve().parents[1]
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
FEATURE_FLAGS = {k: v for k, v in CDK_CONTEXT.items() if k != "cluster"}


def default_data() -> dict[str, Any]:
    """The default config document (cdk.json context ``cluster``), as a fresh copy."""
    return copy.deepcopy(CDK_CONTEXT["cluster"])


def config_with(overrides: dict[str, Any] | None = None) -> ClusterConfig:
    """Defaults overridden the way ``-c config=PATH`` overrides them."""
    return validate_config(_merge(default_data(), overrides or {}))


@dataclass
class Synthesized:
    config: ClusterConfig
    stacks: AppStacks
    templates: dict[str, dict[str, Any]]

    @property
    def cluster(self) -> dict[str, Any]:
        return self.templates[f"{self.config.cluster_name}-cluster"]

    @property
    def network(self) -> dict[str, Any]:
        return self.templates[f"{self.config.cluster_name}-network"]


def synthesize(config: ClusterConfig, outdir: Path) -> Synthesized:
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(outdir))
    add_policy_checks(app)
    stacks = build_stacks(app, config)
    assembly = app.synth()
    return Synthesized(config, stacks, {s.stack_name: s.template for s in assembly.stacks})


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def nodegroups_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``AWS::EKS::Nodegroup`` properties keyed by the configured group name.

    (The deployed name is ``<configured name>-<6-character digest>``.)
    """
    return {
        r["Properties"]["NodegroupName"].rsplit("-", 1)[0]: r["Properties"]
        for r in resources(template, "AWS::EKS::Nodegroup").values()
    }


_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalise(template: dict[str, Any]) -> dict[str, Any]:
    """Asset hashes (which change with aws-cdk-lib releases and handler code) replaced."""
    return json.loads(_HASH.sub("<asset-hash>", json.dumps(template)))
