from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import settings

from tests.support import (
    EFA_EXAMPLE,
    REPRESENTATIVE,
    ROOT,
    broken_copies,
    config_with,
    default_data,
    efa_plugin_manifest,
    synthesize,
    warm_capacity_manifests,
)
from verify.checkov import CheckovProcess, Finding, synthesized_files
from verify.synth import Synthesis


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The default config synthesized once per test session."""
    return synthesize(config_with(), tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def gpu_metrics_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The default config with ``observability.gpu_metrics`` on."""
    return synthesize(
        config_with({"observability": {"gpu_metrics": True}}), tmp_path_factory.mktemp("gpu-m")
    )


@pytest.fixture(scope="session")
def without_storage_and_metrics_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The default config with ``ebs_csi_driver`` and ``metrics_server`` off."""
    overrides = {"ebs_csi_driver": False, "metrics_server": False}
    return synthesize(config_with(overrides), tmp_path_factory.mktemp("no-addons"))


@pytest.fixture(scope="session")
def representative_synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesis]:
    """Each of ``REPRESENTATIVE``'s configs synthesized (with cdk-nag)."""
    return {
        name: synthesize(config_with(overrides), tmp_path_factory.mktemp("representative"))
        for name, overrides in REPRESENTATIVE.items()
    }


@pytest.fixture(scope="session")
def checkov_scan(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> list[Finding]:
    """The session's one checkov run (checkov is ~3 s of start-up per run): the default synth's
    files, each representative config's, the warm-capacity chart both ways, the EFA example's
    device plugin and two broken copies (``broken_copies``). Each finding carries its file's
    path, so a test takes the findings of the files it is about. checkov starts first and
    imports itself while the configs synthesize, as in verify."""
    with CheckovProcess() as checkov:
        default_synth: Synthesis = request.getfixturevalue("default_synth")
        representative: dict[str, Synthesis] = request.getfixturevalue("representative_synths")
        synths = [default_synth, *representative.values()]
        # Relative to the working directory, as `scripts/verify.sh` passes them (`--outdir
        # cdk.out`): checkov then reports relative paths, which once matched no acceptance.
        files = [
            Path(os.path.relpath(path))
            for synth in synths
            for path in synthesized_files(synth.outdir)
        ]
        folder = tmp_path_factory.mktemp("broken")
        broken = broken_copies(default_synth, folder)
        extra = [*warm_capacity_manifests(folder), efa_plugin_manifest(folder)]
        findings = checkov.scan([*files, *extra, *broken])
    assert {f.path for f in findings} <= {str(p.resolve()) for p in [*files, *extra, *broken]}
    return findings


# Every run of the same code draws the same examples, locally and in CI: a result never hinges on
# a random draw. `pytest --hypothesis-profile=explore` draws new ones (docs/development.md).
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile("deterministic")


FAST_START_POOL = {
    "name": "fast",
    "instance_types": ["g6e.xlarge"],
    "min_size": 0,
    "max_size": 2,
    "fast_image_pull": True,
    "warm_nodes": 1,
}


@pytest.fixture(scope="session")
def fast_start_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The default pool plus a pool with every cold-start lever (fast image pull, warm node)."""
    pools = [*default_data()["gpu_pools"], FAST_START_POOL]
    return synthesize(config_with({"gpu_pools": pools}), tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="session")
def efa_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """``examples/multi-node-training.yaml``: an inference pool and a p5.48xlarge EFA pool."""
    overrides = yaml.safe_load((ROOT / EFA_EXAMPLE).read_text(encoding="utf-8"))
    return synthesize(config_with(overrides), tmp_path_factory.mktemp("efa"))
