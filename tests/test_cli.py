"""The real entry points: `cdk synth` through the pinned CLI, offline, good and bad configs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from cluster_config.cli import synth_or_exit
from stacks import add_policy_checks
from tests.support import ROOT

pytestmark = pytest.mark.slow


def cdk_synth(outdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv/bin'}:{ROOT / 'node_modules/.bin'}:{os.environ['PATH']}",
    }
    return subprocess.run(
        ["cdk", "synth", "--quiet", "--output", str(outdir), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cli-cdk.out")
    result = cdk_synth(outdir)
    assert result.returncode == 0, result.stderr
    return outdir


def test_cdk_synth_writes_both_stacks_offline(cli_outdir: Path) -> None:
    manifest = json.loads((cli_outdir / "manifest.json").read_text())
    stacks = {
        k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"
    }
    assert stacks == {"gpu-spot-network", "gpu-spot-cluster"}


def test_cdk_synth_exports_every_chart_as_yaml(cli_outdir: Path) -> None:
    assert sorted(p.name for p in (cli_outdir / "manifests").iterdir()) == [
        "cluster-autoscaler.yaml",
        "ebs-storage-class.yaml",
        "gpu-smoke-test.yaml",
        "nvidia-device-plugin.yaml",
    ]


def test_bad_config_exits_non_zero_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster_name: bad_name\nsystem_node_group:\n  min_size: 30\nbogus: 1\n")
    result = cdk_synth(tmp_path / "out", "-c", f"config={bad}")
    assert result.returncode != 0
    assert "Invalid cluster config (3 problem(s)):" in result.stderr
    assert "cluster_name: must start with a letter" in result.stderr
    assert "system_node_group.min_size: 30 is greater than max_size 20" in result.stderr
    assert "bogus: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_leaves_no_output_that_looks_like_success(
    cli_outdir: Path, tmp_path: Path
) -> None:
    previous = shutil.copytree(cli_outdir, tmp_path / "cdk.out")  # a successful earlier synth
    missing = tmp_path / "missing.yaml"
    result = cdk_synth(previous, "-c", f"config={missing}")
    assert result.returncode != 0
    assert f"config: file '{missing}' does not exist" in result.stderr
    assert not (previous / "manifest.json").exists()
    assert not list(previous.glob("*.template.json"))


def test_failed_policy_check_exits_without_traceback_or_deployable_output(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    add_policy_checks(app)
    s3.CfnBucket(cdk.Stack(app, "Careless"), "Bucket")
    with pytest.raises(SystemExit) as exited:
        synth_or_exit(app)
    assert exited.value.code == 1
    assert (tmp_path / "validation-report.json").exists()
    assert not (tmp_path / "manifest.json").exists()
    assert not list(tmp_path.glob("*.template.json"))
