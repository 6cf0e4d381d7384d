"""The layout's one rule a linter does not check: constructs do not import the app's config."""

from __future__ import annotations

import ast

from tests.support import ROOT

STILL_IMPORTING = {"managed_node_group.py", "node_launch_template.py"}
"""Constructs not yet given plain props (a NodeGroupSpec; cluster_config.ebs's limits): the list
only shrinks."""


def test_constructs_do_not_import_the_config_model() -> None:
    """A construct that imports cluster_config cannot be used outside this app (aws-cdk's
    design guidelines: a construct's props are its whole interface)."""
    importing = set()
    for path in sorted((ROOT / "constructs_lib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            if any(m == "cluster_config" or m.startswith("cluster_config.") for m in modules):
                importing.add(path.name)
    assert importing == STILL_IMPORTING
