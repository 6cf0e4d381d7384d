"""Whole-output checks: snapshots and determinism of the synthesized templates."""

from __future__ import annotations

import json

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.support import config_with, normalise, synthesize
from verify.synth import Synthesis


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", ["gpu-spot-network", "gpu-spot-cluster"])
def test_template_matches_snapshot(
    default_synth: Synthesis, json_snapshot: SnapshotAssertion, stack: str
) -> None:
    assert normalise(default_synth.templates[stack]) == json_snapshot


def test_two_synths_of_one_config_are_identical(
    default_synth: Synthesis, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = synthesize(config_with(), tmp_path_factory.mktemp("again"))
    assert json.dumps(again.templates, sort_keys=True) == json.dumps(
        default_synth.templates, sort_keys=True
    )
