"""The layout's rules a linter does not check: constructs do not import the app's config, and
the AWS rules both sides share import nothing but the standard library."""

from __future__ import annotations

import ast
import sys

from tests.support import ROOT


def _imported(package: str) -> dict[str, set[str]]:
    """File name -> the top-level packages it imports (absolute imports; relative ones as "")."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        modules: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                modules.add("" if node.level else (node.module or "").split(".")[0])
            elif isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
        found[path.relative_to(ROOT).as_posix()] = modules
    return found


def test_constructs_do_not_import_the_config_model() -> None:
    """A construct that imports cluster_config cannot be used outside this app (aws-cdk's
    design guidelines: a construct's props are its whole interface)."""
    imported = _imported("constructs_lib")
    assert {f for f, modules in imported.items() if "cluster_config" in modules} == set()
    assert "aws_cdk" in imported["constructs_lib/managed_node_group.py"]  # the walk sees imports


def test_aws_rules_import_only_the_standard_library() -> None:
    """aws_rules is what cluster_config and constructs_lib share: importing either of them (or
    aws_cdk, pydantic) would tie one side to the other."""
    foreign = {
        f: sorted(m for m in modules if m not in sys.stdlib_module_names and m != "aws_rules")
        for f, modules in _imported("aws_rules").items()
    }
    assert {f: m for f, m in foreign.items() if m} == {}
    assert "aws_rules/ebs.py" in foreign  # the walk found the package
