"""Day-two changes: verify's verdict against a baseline for each row of docs/redeploy.md's table.

Each config is synthesized once per session (``synth``); the checks run in-process on the two
cloud assemblies, read through their ``manifest.json`` as ``verify --baseline`` reads them. A few
go through ``scripts/verify.sh --baseline`` at the end, as a user runs them. The verdicts follow
EKS's and CloudFormation's documented behaviour (sources in ``verify/disruption.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import (
    ROOT,
    config_with,
    default_data,
    full_matrix_only,
    synthesize,
)
from verify.disruption import check_disruption
from verify.replacement import check_replacement
from verify.report import CheckResult
from verify.synth import Synthesis, read_assembly

pytestmark = pytest.mark.slow

Z3 = ["us-west-2a", "us-west-2b", "us-west-2c"]
Z4 = [*Z3, "us-west-2d"]


def _pool(**extra: Any) -> dict[str, Any]:
    return default_data()["gpu_pools"][0] | extra


TRAINING = {"name": "training", "instance_types": ["g6e.12xlarge"], "min_size": 0, "max_size": 2}

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "resized": {"system_node_group": {"min_size": 3, "max_size": 30}},
    "labelled": {"gpu_pools": [_pool(labels={"team": "vision"})]},
    "two pools": {"gpu_pools": [_pool(), TRAINING]},
    "renamed pool": {"gpu_pools": [_pool(name="gpu-a")]},
    "zone d, control plane pinned": {
        "availability_zones": Z4,
        "control_plane_availability_zones": Z3,
    },
    "zone d": {"availability_zones": Z4},
    "zone d, pool out of d": {
        "availability_zones": Z4,
        "control_plane_availability_zones": Z3,
        "gpu_pools": [_pool(availability_zones=Z3)],
    },
    "types reordered": {"gpu_pools": [_pool(instance_types=["g6.xlarge", "g5.xlarge"])]},
    "on-demand pool": {"gpu_pools": [_pool(capacity_type="ON_DEMAND")]},
    "root volume 200": {"gpu_root_volume_gib": 200},
    "ami release": {"node_ami_release_version": "1.36.0-20261120"},
    "kubernetes 1.35": {"kubernetes_version": "1.35"},
    "kubernetes 1.34": {"kubernetes_version": "1.34"},
    "public endpoint": {"endpoint": {"public_access_cidrs": ["203.0.113.0/24"]}},
    "vpc cidr": {"vpc_cidr": "10.1.0.0/16"},
    "cluster renamed": {"cluster_name": "ml-team"},
    "us-east-1": {
        "region": "us-east-1",
        "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
    },
}


@dataclass(frozen=True)
class DayTwo:
    baseline: str
    config: str
    exit_code: int
    """verify's exit code without ``--allow-disruption``."""
    allowed_exit_code: int
    """... and with it."""
    lines: tuple[str, ...]
    """Fragments of the replacement and disruption lines that must be there."""


DRAINED = "terminates any still running after 5 minutes, PodDisruptionBudgets or not"
ROLLED = "an eviction blocked for 15 minutes fails the update (PodEvictionFailure)"
REFUSED = "refuse"

CHANGES: dict[str, DayTwo] = {
    "resize a group": DayTwo("default", "resized", 0, 0, ()),
    "change a pool's labels": DayTwo("default", "labelled", 0, 0, ()),
    "add a pool": DayTwo("default", "two pools", 0, 0, ()),
    "remove a pool": DayTwo(
        "two pools", "default", 1, 0, ("node group training-a-", "is deleted: EKS drains", DRAINED)
    ),
    "rename a pool": DayTwo(
        "default",
        "renamed pool",
        1,
        0,
        ("node group gpu-spot-ng-a-bee838 is deleted", DRAINED),
    ),
    "add a zone (control plane zones kept)": DayTwo(
        "default", "zone d, control plane pinned", 0, 0, ()
    ),
    "add a zone (control plane zones not kept)": DayTwo(
        "default",
        "zone d",
        1,
        1,
        (
            "the control plane's zones change (us-west-2a, us-west-2b, us-west-2c -> us-west-2a, "
            "us-west-2b, us-west-2c, us-west-2d)",
            "keep control_plane_availability_zones: [us-west-2a, us-west-2b, us-west-2c]",
            "node group spot-ng-839a54 is replaced by spot-ng-",
        ),
    ),
    "remove a zone from the node groups": DayTwo(
        "zone d, control plane pinned",
        "zone d, pool out of d",
        1,
        0,
        ("node group gpu-spot-ng-d-", DRAINED),
    ),
    "remove a zone (its node groups already gone)": DayTwo(
        "zone d, pool out of d", "default", 0, 0, ("VpcPrivateSubnet4",)
    ),
    "remove a zone and its node groups at once": DayTwo(
        "zone d, control plane pinned",
        "default",
        1,
        1,
        (
            "stack gpu-spot-network no longer exports",
            "CloudFormation refuses to change or delete an export in use",
            "remove the zone from every node group first",
        ),
    ),
    "change a pool's instance types": DayTwo(
        "default",
        "types reordered",
        1,
        0,
        ("node group gpu-spot-ng-a-bee838 is replaced by gpu-spot-ng-a-", "InstanceTypes"),
    ),
    "change a pool's capacity type": DayTwo(
        "default", "on-demand pool", 1, 0, ("CapacityType", "starts at min_size 0", DRAINED)
    ),
    "grow the GPU root volume": DayTwo(
        "default",
        "root volume 200",
        1,
        0,
        ("node group gpu-spot-ng-a-bee838 rolls every node (new launch template version)", ROLLED),
    ),
    "pin or bump the AMI release": DayTwo(
        "default",
        "ami release",
        1,
        0,
        ("node group spot-ng-839a54 rolls every node (AMI release latest -> 1.36.0-20261120)",),
    ),
    "upgrade Kubernetes one minor": DayTwo(
        "kubernetes 1.35",
        "default",
        1,
        0,
        ("rolls every node (Kubernetes 1.35 -> 1.36)", ROLLED),
    ),
    "downgrade Kubernetes": DayTwo(
        "default", "kubernetes 1.35", 1, 1, ("Kubernetes 1.36 -> 1.35: EKS cannot downgrade",)
    ),
    "skip a Kubernetes minor": DayTwo(
        "kubernetes 1.34",
        "default",
        1,
        1,
        ("Kubernetes 1.34 -> 1.36: EKS upgrades one minor at a time", 'kubernetes_version: "1.35"'),
    ),
    "open the public endpoint to a CIDR": DayTwo("default", "public endpoint", 0, 0, ()),
    "change vpc_cidr": DayTwo(
        "default",
        "vpc cidr",
        1,
        1,
        (
            "Vpc8378EB38 (AWS::EC2::VPC) is replaced: CidrBlock changed",
            "replaces 15 resource(s) that refer to it",
            "under the same name",
        ),
    ),
    "rename the cluster": DayTwo(
        "default", "cluster renamed", 1, 1, ("stack gpu-spot-cluster is no longer produced",)
    ),
    "change the region": DayTwo(
        "default",
        "us-east-1",
        1,
        1,
        ("stack gpu-spot-cluster moves from region us-west-2 to us-east-1", "a second cluster"),
    ),
}


@pytest.fixture(scope="session")
def synth(
    tmp_path_factory: pytest.TempPathFactory, default_synth: Synthesis
) -> dict[str, Synthesis]:
    """Each config of ``CONFIGS`` synthesized at most once, when a test first needs it."""
    return _Lazy(tmp_path_factory, {"default": default_synth})


class _Lazy(dict[str, Synthesis]):
    def __init__(self, factory: pytest.TempPathFactory, known: dict[str, Synthesis]) -> None:
        super().__init__(known)
        self._factory = factory

    def __missing__(self, key: str) -> Synthesis:
        outdir = self._factory.mktemp(re.sub(r"\W+", "-", key))
        self[key] = synthesize(config_with(CONFIGS[key]), outdir)
        return self[key]


def verdict(old: Synthesis, new: Synthesis, *, allow: bool) -> tuple[int, list[CheckResult]]:
    """verify's exit code and its two baseline checks, as ``verify --baseline`` computes them."""
    before, after = read_assembly(old.outdir), read_assembly(new.outdir)
    region = new.config.region
    results = [
        check_replacement(
            before.templates, after.templates, region, (before.environments, after.environments)
        ),
        check_disruption(before.templates, after.templates, region, allow_disruption=allow),
    ]
    return (1 if any(r.failed for r in results) else 0), results


@pytest.mark.parametrize("change", list(CHANGES))
def test_day_two_change_gets_the_verdict_eks_and_cloudformation_give_it(
    synth: dict[str, Synthesis], change: str
) -> None:
    expected = CHANGES[change]
    old, new = synth[expected.baseline], synth[expected.config]
    code, results = verdict(old, new, allow=False)
    allowed_code, _ = verdict(old, new, allow=True)
    text = "\n".join(line for r in results for line in [r.summary, *r.details])
    assert (code, allowed_code) == (expected.exit_code, expected.allowed_exit_code), text
    for fragment in expected.lines:
        assert fragment in text
    if expected.exit_code == 0 and not expected.lines:
        assert [r.status for r in results] == ["PASS", "PASS"], text


def test_a_change_that_evicts_pods_is_listed_and_passes_only_when_allowed(
    synth: dict[str, Synthesis],
) -> None:
    _, [_, refused] = verdict(synth["default"], synth["root volume 200"], allow=False)
    _, [_, allowed] = verdict(synth["default"], synth["root volume 200"], allow=True)
    assert (refused.status, allowed.status) == ("FAIL", "WARN")
    assert refused.details == allowed.details
    assert len(allowed.details) == 3  # one line per GPU group


def test_an_unchanged_config_evicts_nothing_and_replaces_nothing(
    synth: dict[str, Synthesis], tmp_path: Path
) -> None:
    """Two synths of one config are one deployment: no name, digest or template differs."""
    again = synthesize(config_with(), tmp_path)
    code, results = verdict(synth["default"], again, allow=False)
    assert (code, [r.status for r in results]) == (0, ["PASS", "PASS"])


# --- docs/redeploy.md's table is verify's verdicts --------------------------------------------


def documented_verdicts() -> dict[str, str]:
    text = (ROOT / "docs" / "redeploy.md").read_text()
    section = text.split("## Day-two changes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows[1:]]
    return {row[0]: row[-1] for row in cells}


def verdict_words(expected: DayTwo) -> str:
    if expected.exit_code == 0:
        return "0"
    if expected.allowed_exit_code == 0:
        return "1; 0 with `--allow-disruption`"
    return "1 (refused)"


def test_redeploy_docs_table_lists_every_change_with_verifys_exit_code() -> None:
    documented = documented_verdicts()
    assert list(documented) == list(CHANGES)
    assert documented == {name: verdict_words(c) for name, c in CHANGES.items()}


# --- As a user runs it ------------------------------------------------------------------------


def verify_sh(config: dict[str, Any], baseline: Synthesis, tmp_path: Path, *flags: str) -> Any:
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [
            "bash",
            "scripts/verify.sh",
            "-c",
            f"config={path}",
            "--baseline",
            str(baseline.outdir),
            "--outdir",
            str(tmp_path / "out"),
            *flags,
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.cli
def test_verify_sh_with_a_baseline_fails_a_rolling_update_with_one_line_per_group(
    synth: dict[str, Synthesis], tmp_path: Path
) -> None:
    """scripts/verify.sh --baseline <cdk.out>: exit 1, one line per GPU group and its cause."""
    result = verify_sh(CONFIGS["root volume 200"], synth["default"], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "  FAIL  disruption    3 node group(s) would evict running pods" in result.stdout
    assert result.stdout.count("rolls every node (new launch template version)") == 3
    assert result.stdout.rstrip().endswith("verify: FAILED (disruption)")


@pytest.mark.cli
@full_matrix_only  # locally, the in-process verdicts above cover --allow-disruption
def test_verify_sh_passes_the_rolling_update_when_allowed(
    synth: dict[str, Synthesis], tmp_path: Path
) -> None:
    result = verify_sh(CONFIGS["root volume 200"], synth["default"], tmp_path, "--allow-disruption")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  WARN  disruption    3 node group(s) would evict running pods" in result.stdout


@pytest.mark.cli
@full_matrix_only
def test_verify_sh_refuses_a_skipped_minor_even_when_disruption_is_allowed(
    synth: dict[str, Synthesis], tmp_path: Path
) -> None:
    result = verify_sh({}, synth["kubernetes 1.34"], tmp_path, "--allow-disruption")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Kubernetes 1.34 -> 1.36: EKS upgrades one minor at a time" in result.stdout
