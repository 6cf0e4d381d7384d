"""Whole-output checks: a readable inventory snapshot of each stack, and determinism.

The snapshot is what a reviewer can read and what a deploy would replace: every resource's
logical ID and type, and the values of its create-only properties (CloudFormation replaces the
resource when one changes; cfn-lint's resource schemas say which), so a renamed construct, a new
or removed resource or a replacing change shows as a diff. Everything else is pinned by explicit
assertions (tests/test_cluster_stack.py, test_security_defaults.py, ...), so an aws-cdk-lib bump
that rewrites generated handler code or metadata does not rewrite the snapshot.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.support import config_with, normalise, synthesize
from verify.synth import Synthesis


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def create_only(resource_type: str) -> list[str]:
    """The create-only property names of a resource type (cfn-lint's schema; none for custom
    resources, whose handlers decide)."""
    if resource_type.startswith("Custom::"):
        return []
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-west-2", resource_type).schema
    return sorted(
        {
            p.removeprefix("/properties/").split("/")[0]
            for p in schema.get("createOnlyProperties", [])
        }
    )


def inventory(template: dict[str, Any]) -> dict[str, Any]:
    """Logical ID -> type and the create-only properties the template sets."""
    return {
        logical_id: {
            "Type": resource["Type"],
            **{
                name: resource.get("Properties", {})[name]
                for name in create_only(resource["Type"])
                if name in resource.get("Properties", {})
            },
        }
        for logical_id, resource in sorted(normalise(template)["Resources"].items())
    }


@pytest.mark.parametrize("stack", ["gpu-spot-network", "gpu-spot-cluster"])
def test_inventory_matches_snapshot(
    default_synth: Synthesis, json_snapshot: SnapshotAssertion, stack: str
) -> None:
    assert inventory(default_synth.templates[stack]) == json_snapshot


def test_two_synths_of_one_config_are_identical(
    default_synth: Synthesis, tmp_path_factory: pytest.TempPathFactory
) -> None:
    again = synthesize(config_with(), tmp_path_factory.mktemp("again"))
    assert json.dumps(again.templates, sort_keys=True) == json.dumps(
        default_synth.templates, sort_keys=True
    )
