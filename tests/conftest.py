from __future__ import annotations

import pytest
import yaml
from hypothesis import settings

from tests.support import (
    FULL_MATRIX,
    ROOT,
    Synthesized,
    config_with,
    default_data,
    synthesize,
)


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default config synthesized once per test session."""
    return synthesize(config_with(), tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def gpu_metrics_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default config with ``observability.gpu_metrics`` on."""
    return synthesize(
        config_with({"observability": {"gpu_metrics": True}}), tmp_path_factory.mktemp("gpu-m")
    )


@pytest.fixture(scope="session")
def without_storage_and_metrics_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default config with ``ebs_csi_driver`` and ``metrics_server`` off."""
    overrides = {"ebs_csi_driver": False, "metrics_server": False}
    return synthesize(config_with(overrides), tmp_path_factory.mktemp("no-addons"))


# CI explores the same examples on every run of the same code (a landing must not hinge on a
# random draw); local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if FULL_MATRIX else "default")


FAST_START_POOL = {
    "name": "fast",
    "instance_types": ["g6e.xlarge"],
    "min_size": 0,
    "max_size": 2,
    "fast_image_pull": True,
    "warm_nodes": 1,
}


@pytest.fixture(scope="session")
def fast_start_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default pool plus a pool with every cold-start lever (fast image pull, warm node)."""
    pools = [*default_data()["gpu_pools"], FAST_START_POOL]
    return synthesize(config_with({"gpu_pools": pools}), tmp_path_factory.mktemp("fast"))


EFA_EXAMPLE = "examples/multi-node-training.yaml"


@pytest.fixture(scope="session")
def efa_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """``examples/multi-node-training.yaml``: an inference pool and a p5.48xlarge EFA pool."""
    overrides = yaml.safe_load((ROOT / EFA_EXAMPLE).read_text(encoding="utf-8"))
    return synthesize(config_with(overrides), tmp_path_factory.mktemp("efa"))
