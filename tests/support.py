"""Shared helpers: build configs from the cdk.json defaults, synthesize them in-process."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from charts import AddonCharts, build_charts
from cluster_config import ClusterConfig
from cluster_config.loader import merge_override, validate_config
from cluster_config.node_groups import node_group_specs
from verify.synth import Synthesis
from verify.synth import synthesize as verify_synthesize

ROOT = Path(__file__).resolve().parents[1]
FULL_MATRIX = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
"""With ``CI`` set, every test takes the user's path (the CLI tier's whole matrix, verify.sh runs);
locally, a representative subset does and the rest check the same thing in-process."""
full_matrix_only = pytest.mark.skipif(
    not FULL_MATRIX, reason="full matrix runs in CI (CI set); locally a subset"
)
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]


def default_data() -> dict[str, Any]:
    """The default config document (cdk.json context ``cluster``), as a fresh copy."""
    return copy.deepcopy(CDK_CONTEXT["cluster"])


def config_with(overrides: dict[str, Any] | None = None) -> ClusterConfig:
    """Defaults overridden the way ``-c config=PATH`` overrides them."""
    return validate_config(merge_override(default_data(), overrides or {}))


def charts_for(config: ClusterConfig) -> AddonCharts:
    """The add-on charts of ``config``, built from its node-group specs as the app does."""
    return build_charts(config, node_group_specs(config))


Synthesized = Synthesis


def synthesize(config: ClusterConfig, outdir: Path) -> Synthesis:
    """Synthesize like app.py (cdk-nag included); a cdk-nag failure fails the test."""
    synthesis = verify_synthesize(config, outdir)
    assert synthesis.policy_error is None, synthesis.validation_report()
    return synthesis


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
