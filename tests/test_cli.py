"""The real entry points: `cdk synth` through the pinned CLI, offline, good and bad configs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from cli.outcome import synth_or_exit
from stacks import add_policy_checks
from tests.support import ROOT, full_matrix_only
from verify.synth import Synthesis

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


@full_matrix_only  # locally, the CLI tier's team config goes through `cdk synth`
def test_cdk_synth_writes_both_stacks_offline(cli_outdir: Path) -> None:
    manifest = json.loads((cli_outdir / "manifest.json").read_text())
    stacks = {
        k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"
    }
    assert stacks == {"gpu-spot-network", "gpu-spot-cluster"}


@full_matrix_only
def test_cdk_synth_exports_every_chart_as_yaml(cli_outdir: Path) -> None:
    assert sorted(p.name for p in (cli_outdir / "manifests").iterdir()) == [
        "cluster-autoscaler.yaml",
        "ebs-storage-class.yaml",
        "gpu-smoke-test.yaml",
        "nvidia-device-plugin.yaml",
    ]


def test_bad_config_exits_non_zero_with_every_problem_no_traceback_and_no_output(
    default_synth: Synthesis, tmp_path: Path
) -> None:
    """One `cdk synth` of a bad config into the folder of an earlier good synth: every problem
    is reported, and nothing that looks like a successful synth is left there. (A missing
    config file takes the same path: tests/test_config.py, tests/test_config_corpus.py.)"""
    previous = shutil.copytree(default_synth.outdir, tmp_path / "cdk.out")  # an earlier synth
    assert (previous / "manifest.json").exists() and list(previous.glob("*.template.json"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("cluster_name: bad_name\nsystem_node_group:\n  min_size: 30\nbogus: 1\n")
    result = cdk_synth(previous, "-c", f"config={bad}")
    assert result.returncode != 0
    assert "Invalid cluster config (3 problem(s)):" in result.stderr
    assert "cluster_name: must start with a letter" in result.stderr
    assert "system_node_group.min_size: 30 is greater than max_size 20" in result.stderr
    assert "bogus: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
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


def test_finish_exits_with_the_code_and_the_jsii_kernel_ends_too(tmp_path: Path) -> None:
    """`finish` (the end of app.py and verify) leaves the synth output and no Node.js process."""
    script = (
        "import atexit, sys, aws_cdk as cdk\n"
        "from jsii._runtime import kernel\n"
        "from cli.outcome import finish\n"
        f"app = cdk.App(outdir={str(tmp_path / 'out')!r})\n"
        "cdk.CfnOutput(cdk.Stack(app, 'S'), 'O', value='v')\n"
        "app.synth()\n"
        "node = kernel.provider._process._process\n"
        "print(node.pid, [a for a in node.args if a.endswith('.js')][0])\n"
        "print('written')  # block-buffered into a pipe: only finish's flush gets it out\n"
        "atexit.register(print, 'teardown ran')  # the ordinary exit would print it\n"
        "finish(7)\n"
    )
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=buffered,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 7, result.stderr
    # Guard for a jsii upgrade: finish reaches into jsii's private process object; if its shape
    # changed, finish falls back to the ordinary exit (slower by ~1.5 s) and this fails.
    assert "teardown ran" not in result.stdout, "finish fell back: jsii's private shape changed"
    assert result.stdout.endswith("written\n"), result.stdout  # flushed before the exit
    assert (tmp_path / "out" / "S.template.json").exists()
    pid, runtime, _ = result.stdout.split()
    # jsii's runtime files, written to a temporary folder at start, are removed.
    assert Path(runtime).parent.parent.name.startswith("tmp"), runtime
    assert not Path(runtime).parent.parent.exists(), "finish left jsii's temporary folder"
    kernel = Path(f"/proc/{int(pid)}")
    deadline = time.monotonic() + 20
    while kernel.exists() and "zombie" not in _state(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not kernel.exists() or "zombie" in _state(kernel), "the jsii kernel outlived the app"


def _state(proc: Path) -> str:
    try:
        return next(
            line for line in (proc / "status").read_text().splitlines() if line.startswith("State")
        )
    except (OSError, StopIteration):
        return "zombie"  # gone while reading
