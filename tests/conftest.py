from __future__ import annotations

import pytest

from tests.support import Synthesized, config_with, synthesize


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The default config synthesized once per test session."""
    return synthesize(config_with(), tmp_path_factory.mktemp("cdk.out"))
