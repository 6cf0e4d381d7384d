"""Shared helpers: build configs from the cdk.json defaults, synthesize them in-process."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml

from charts import AddonCharts, build_charts
from charts.warm_capacity import WarmCapacityChart
from cluster_config import ClusterConfig
from cluster_config.loader import merge_override, validate_config
from cluster_config.node_groups import node_group_specs
from cluster_config.warm_capacity import WarmPool
from verify.synth import Synthesis
from verify.synth import synthesize as verify_synthesize

ROOT = Path(__file__).resolve().parents[1]
FULL_MATRIX = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
"""With ``CI`` set, every test takes the user's path (the CLI tier's whole matrix, verify.sh runs);
locally, a representative subset does and the rest check the same thing in-process. Everything
``CI`` changes is listed in docs/development.md, "What ``CI`` changes"."""
full_matrix_only = pytest.mark.skipif(
    not FULL_MATRIX, reason="full matrix runs in CI (CI set); locally a subset"
)
CDK_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]


def regenerate(script: str, source: str, output: Path) -> bytes:
    """What ``scripts/<script>`` writes today, run with the date the committed file names in
    ``source`` (``generated <date> by ...``): a test compares it with the committed file."""
    date = re.search(r"generated (\S+) by", source)
    assert date is not None, source
    subprocess.run(
        [sys.executable, f"scripts/{script}", "--date", date[1], "--output", output],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    return output.read_bytes()


def default_data() -> dict[str, Any]:
    """The default config document (cdk.json context ``cluster``), as a fresh copy."""
    return copy.deepcopy(CDK_CONTEXT["cluster"])


def config_with(overrides: dict[str, Any] | None = None) -> ClusterConfig:
    """Defaults overridden the way ``-c config=PATH`` overrides them."""
    return validate_config(merge_override(default_data(), overrides or {}))


def charts_for(config: ClusterConfig) -> AddonCharts:
    """The add-on charts of ``config``, built from its node-group specs as the app does."""
    return build_charts(config, node_group_specs(config))


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


# Configs that differ from the default in every dimension that changes the output: each goes
# through every check (tests/test_checkov.py) and the session's one checkov run (conftest.py).
REPRESENTATIVE = {
    "oldest minor, two zones, smoke test on": {
        "kubernetes_version": "1.33",
        "availability_zones": ["us-west-2a", "us-west-2b"],
        "gpu_pools": [
            {
                "name": "gpu",
                "instance_types": ["g6e.2xlarge"],
                "min_size": 0,
                "max_size": 2,
            },
        ],
        "gpu_smoke_test": True,
    },
    "big GPUs, private endpoint, admins, tags": {
        "endpoint": {"public_access_cidrs": [], "private_access": True},
        "admin_principal_arns": ["arn:aws:iam::123456789012:role/Platform"],
        "tags": {"team": "ml"},
        "nat_gateways": 3,
        "gpu_pools": [
            {
                "name": "h100",
                "availability_zones": ["us-west-2c"],
                "instance_types": ["p5.48xlarge"],
                "min_size": 0,
                "max_size": 1,
                "labels": {"gpu-class": "training"},
            },
        ],
    },
}


BROKEN = ("broken.template.json", "broken.yaml")


def broken_copies(default_synth: Synthesis, folder: Path) -> list[Path]:
    """A copy of the cluster template allowing IMDSv1 and of the device plugin's DaemonSet with a
    privileged container: two findings no acceptance covers."""
    template = json.loads((default_synth.outdir / "gpu-spot-cluster.template.json").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::EC2::LaunchTemplate":
            resource["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] = (
                "optional"
            )
    broken_template = folder / "broken.template.json"
    broken_template.write_text(json.dumps(template))
    (daemon_set,) = [
        o
        for o in yaml.safe_load_all(
            (default_synth.outdir / "manifests" / "nvidia-device-plugin.yaml").read_text()
        )
        if o["kind"] == "DaemonSet"
    ]
    (container,) = daemon_set["spec"]["template"]["spec"]["containers"]
    container["securityContext"]["privileged"] = True
    broken_manifest = folder / "broken.yaml"
    broken_manifest.write_text(yaml.safe_dump(daemon_set))
    return [broken_template, broken_manifest]


EFA_EXAMPLE = "examples/multi-node-training.yaml"
EFA_PLUGIN_MANIFEST = "aws-efa-k8s-device-plugin.yaml"
"""File name of ``efa_plugin_manifest``."""


def efa_plugin_manifest(folder: Path) -> Path:
    """The EFA device plugin's manifest as ``EFA_EXAMPLE`` exports it (the default config makes
    none)."""
    overrides = yaml.safe_load((ROOT / EFA_EXAMPLE).read_text(encoding="utf-8"))
    chart = charts_for(config_with(overrides)).efa_device_plugin
    assert chart is not None
    path = folder / EFA_PLUGIN_MANIFEST
    path.write_text(yaml.safe_dump_all(chart.to_json(), sort_keys=False))
    return path


WARM_CAPACITY_PREFIX = "gpu-warm-capacity-"
"""File names of ``warm_capacity_manifests``."""


def warm_capacity_manifests(folder: Path) -> list[Path]:
    """The warm-capacity chart both ways (CapacityBuffer, and the pause pods of Kubernetes 1.33),
    which the default config does not make."""
    paths = []
    for name, api in (("buffer", "v1beta1"), ("pause", None)):
        chart = WarmCapacityChart(
            cdk8s.App(),
            "Warm",
            pools=[WarmPool(pool="gpu-spot-ng", nodes=1, gpus_per_node=1)],
            capacity_buffer_api=api,
        )
        path = folder / f"{WARM_CAPACITY_PREFIX}{name}.yaml"
        path.write_text(yaml.safe_dump_all(chart.to_json()))
        paths.append(path)
    return paths
