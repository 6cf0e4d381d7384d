"""The user's path: the real CDK CLI through ``scripts/synth.sh`` and ``scripts/verify.sh``.

Each run gets its own output folder (``-o`` / ``--outdir``), so the tests run in parallel and
never read one another's output. Every config is synthesized once: ``verify.sh`` synthesizes
itself, so a config that verify checks is not also run through ``synth.sh``.

Without ``CI`` in the environment a representative subset runs: a team's config through
``cdk synth`` (account set, a spot pool with GPU sharing and an on-demand fallback, a second
pool of p6-b200; its exported manifests), a cdk-nag failure under ``cdk synth``, and verify on
the capacity example (sharing, on-demand, tuned scale-down; every check PASS). With ``CI`` set,
the whole matrix runs: every file in ``examples/``, every config block README and docs/ show, one
config (one pool) per GPU family the catalog accepts; the
examples cover two zones, six groups and two pools of different shapes. Elsewhere the same rule
(``tests.support.full_matrix_only``): the default config through ``cdk synth`` and the whole
verify (tests/test_cli.py, tests/test_verify.py), the China config through ``synth.sh``
(tests/test_config_corpus.py) and the zones reports through ``verify.sh`` (tests/test_zones.py)
run with ``CI`` set; locally their checks run in-process on the same configs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster_config.catalog import GPU_FAMILIES, GPU_INSTANCE_TYPES
from cluster_config.model import ClusterConfig
from cluster_config.zone_offerings import zone_offerings
from tests.support import ROOT, full_matrix_only

pytestmark = pytest.mark.cli

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CONTEXT_FILE = ROOT / "cdk.context.json"


def gpu_pool(name: str, zones: list[str], types: list[str], **extra: Any) -> dict[str, Any]:
    """One GPU pool of a test config (one place to follow a change of the config shape)."""
    return {
        "name": name,
        "availability_zones": zones,
        "instance_types": types,
        "min_size": 0,
        "max_size": 2,
        **extra,
    }


def gpu_config(**fields: Any) -> dict[str, Any]:
    return {"gpu_pools": fields.pop("pools"), **fields}


def _smallest(family: str) -> str:
    """The family's accepted type with the fewest vCPUs: what a team tries first."""
    return min(
        (n for n in GPU_INSTANCE_TYPES if n.split(".")[0] == family),
        key=lambda n: (GPU_INSTANCE_TYPES[n].vcpus, n),
    )


def _user_env() -> dict[str, str]:
    """The environment a user has: no pytest variables (aws-cdk-lib reads them), no CI."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def run(
    script: str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", f"scripts/{script}", *args],
        cwd=cwd,
        env=env or _user_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def assert_offline(result: subprocess.CompletedProcess[str], outdir: Path) -> None:
    """No context lookup was asked for and none was recorded."""
    assert "Need to perform AWS calls" not in result.stderr
    assert not CONTEXT_FILE.exists(), "synth wrote cdk.context.json (a context lookup)"
    manifest = outdir / "manifest.json"
    if manifest.exists():
        assert "missing" not in json.loads(manifest.read_text())


def assert_verified(config: Path | None, tmp_path: Path) -> str:
    outdir = tmp_path / "cdk.out"
    args = ["--outdir", str(outdir)] + (["-c", f"config={config}"] if config else [])
    result = run("verify.sh", *args)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # "verify: OK" closes the checks; the next-step lines (deploy command, baseline) follow it.
    assert re.search(r"^verify: OK\nnext: ", result.stdout, flags=re.M), result.stdout[-2000:]
    assert_offline(result, outdir)
    return result.stdout


# --- a team's config through `cdk synth` -----------------------------------------------------

TEAM = gpu_config(
    cluster_name="ml-team",
    account="123456789012",
    pools=[
        gpu_pool(
            "gpu",
            ["us-west-2a", "us-west-2b"],
            ["g6.xlarge", "g5.xlarge"],
            max_size=4,
            gpu_sharing={"replicas": 2},
            on_demand_fallback={"max_size": 2},
        ),
        gpu_pool("gpu-b200", ["us-west-2a"], ["p6-b200.48xlarge"], max_size=1),
    ],
)


def test_a_teams_config_synthesizes_through_the_cdk_cli_offline(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    result = run("synth.sh", "-o", str(outdir), "-c", f"config={write_config(tmp_path, TEAM)}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert_offline(result, outdir)
    stacks = json.loads((outdir / "manifest.json").read_text())["artifacts"]
    assert {n for n, a in stacks.items() if a["type"] == "aws:cloudformation:stack"} == {
        "ml-team-network",
        "ml-team-cluster",
    }
    assert stacks["ml-team-cluster"]["environment"] == "aws://123456789012/us-west-2"
    template = json.loads((outdir / "ml-team-cluster.template.json").read_text())
    groups = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::EKS::Nodegroup"
    ]
    assert ["p6-b200.48xlarge"] in [g["InstanceTypes"] for g in groups]
    # cdk-nag is the one validation plugin: aws-cdk-lib's built-in CloudFormation validation
    # (about 2 s a synth) is off in app.py, as cfn-lint checks the same templates (new_app).
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [r["pluginName"] for r in report["pluginReports"]] == ["AwsSolutions"]
    pool_groups = [g for g in groups if g.get("Labels", {}).get("pool") == "gpu"]
    assert sorted(g["CapacityType"] for g in pool_groups) == ["ON_DEMAND"] * 2 + ["SPOT"] * 2
    # Every chart is exported as YAML (the device plugin carries the sharing DaemonSets).
    assert sorted(p.name for p in (outdir / "manifests").iterdir()) == [
        "cluster-autoscaler.yaml",
        "ebs-storage-class.yaml",
        "gpu-smoke-test.yaml",
        "nvidia-device-plugin.yaml",
    ]
    # Quiet output: no jsii kernel frame, no feature-flag notice, none of the CDK CLI's hints
    # that say nothing to act on (scripts/synth.sh drops them); our info line stays.
    output = result.stderr + result.stdout
    assert "program.js" not in output
    assert "feature flags are not configured" not in output
    assert "Supply a stack id" not in output
    assert "Acknowledge with 'Annotation::info-annotation'" not in output
    assert "INFO The Kubernetes API endpoint is private" in output


# --- a cdk-nag failure under `cdk synth` -----------------------------------------------------


def _scratch_copy(tmp_path: Path) -> Path:
    """The project's tracked files (tests aside), sharing the set-up environments."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    copy = tmp_path / "project"
    for name in files:
        if name.startswith("tests/"):
            continue
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    for shared in (".venv", ".venv-checkov", "node_modules"):
        (copy / shared).symlink_to((ROOT / shared).resolve())
    return copy


def test_a_cdk_nag_failure_under_the_cdk_cli_exits_1_with_the_findings_and_no_output(
    tmp_path: Path,
) -> None:
    project = _scratch_copy(tmp_path)
    acknowledgments = project / "constructs_lib" / "nag_acknowledgments.py"
    source = acknowledgments.read_text()
    broken = source.replace("[Resource::{flattened}]", "[Resource::{flattened}-not-it]")
    assert broken != source
    acknowledgments.write_text(broken)
    outdir = tmp_path / "cdk.out"

    result = run("synth.sh", "-o", str(outdir), cwd=project)

    assert result.returncode == 1, result.stderr[-3000:]
    assert "ERROR AwsSolutions-IAM5[Resource::arn:aws:eks:us-west-2:" in result.stderr
    assert "gpu-spot-cluster/ClusterAutoscalerIdentity/Role/Resource" in result.stderr
    assert "Policy checks failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (outdir / "manifest.json").exists()
    assert not list(outdir.glob("*.template.json"))
    assert not list(outdir.glob("manifests/*.yaml"))
    assert (outdir / "validation-report.json").exists()


# --- verify on every example and every config README and docs/ show ---------------------------


def test_the_capacity_example_passes_verify(tmp_path: Path) -> None:
    """GPU sharing (time-slicing DaemonSets), an on-demand fallback, tuned scale-down."""
    report = assert_verified(ROOT / "examples" / "capacity-strategy.yaml", tmp_path)
    checks = ("config", "synth", "cdk-nag", "cfn-lint", "checkov", "k8s-schema", "k8s-security")
    checks += ("autoscaler", "gpu-sharing", "priority", "zones", "volume-zone")
    for check in checks:
        assert re.search(rf"^  PASS  {check} ", report, flags=re.M), check


@full_matrix_only
def test_verify_live_without_credentials_is_one_skip_line(tmp_path: Path) -> None:
    """``verify.sh --live`` as a user without AWS credentials runs: the offline checks and one
    SKIP line, exit 0 (no crash, no hang; the instance-role lookup is off so CI asks no one)."""
    env = {k: v for k, v in _user_env().items() if not k.startswith("AWS_")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
    )
    outdir = tmp_path / "cdk.out"
    result = run("verify.sh", "--outdir", str(outdir), "--live", env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(
        r"^  SKIP  live          --live: no AWS credentials found by boto3's standard chain",
        result.stdout,
        flags=re.M,
    ), result.stdout[-2000:]
    assert_offline(result, outdir)


@full_matrix_only
@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if e.name != "capacity-strategy.yaml"], ids=lambda p: p.stem
)
def test_every_example_passes_verify(example: Path, tmp_path: Path) -> None:
    assert_verified(example, tmp_path)


def readme_config_blocks() -> list[dict[str, Any]]:
    """Every YAML block of README.md and docs/*.md that is a cluster config (its keys are config
    fields)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    blocks = [
        block
        for page in pages
        for block in re.findall(r"```yaml\n(.*?)```", page.read_text(), flags=re.S)
    ]
    documents = [yaml.safe_load(block) for block in blocks]
    return [
        d
        for d in documents
        if isinstance(d, dict) and d and set(d) <= set(ClusterConfig.model_fields)
    ]


def test_readme_shows_config_blocks() -> None:
    assert len(readme_config_blocks()) >= 2


@full_matrix_only
@pytest.mark.parametrize("number", range(len(readme_config_blocks())))
def test_every_config_readme_shows_passes_verify(number: int, tmp_path: Path) -> None:
    config = write_config(tmp_path, readme_config_blocks()[number])
    assert_verified(config, tmp_path)


# --- one config per GPU family the catalog accepts -------------------------------------------


@full_matrix_only
@pytest.mark.parametrize("family", GPU_FAMILIES)
def test_each_gpu_family_passes_verify(family: str, tmp_path: Path) -> None:
    instance_type = _smallest(family)
    data = gpu_config(
        cluster_name=f"gpu-{family}",
        pools=[gpu_pool(f"gpu-{family}", ["us-west-2a"], [instance_type], max_size=1)],
    )
    config = write_config(tmp_path, data)
    report = assert_verified(config, tmp_path)
    if not zone_offerings().regions["us-west-2"].zones_offering(instance_type):
        # The snapshot lists the type in no zone of the region: verify says so and prints the
        # command to ask the account (a WARN: the snapshot may predate the type's launch there).
        assert "the snapshot lists no zone ID of us-west-2 offering any of" in report
        assert "aws ec2 describe-instance-type-offerings --region us-west-2" in report
    assert instance_type in report
