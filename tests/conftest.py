from __future__ import annotations

import pytest
from hypothesis import settings

from tests.support import config_with, synthesize
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


# Every run of the same code draws the same examples, locally and in CI: a result never hinges on
# a random draw. `pytest --hypothesis-profile=explore` draws new ones (docs/development.md).
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile("deterministic")
