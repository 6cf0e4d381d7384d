"""mypy reads only the aws-cdk-lib modules the checked code imports: the list stays exact."""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path
from typing import Any

from tests.support import ROOT

MYPY: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def _checked_files() -> list[Path]:
    files: list[Path] = []
    for entry in MYPY["files"]:
        path = ROOT / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _aws_cdk_modules_imported() -> set[str]:
    """``aws_cdk`` and each ``aws_cdk.<module>`` the checked code imports (names, not classes)."""
    spec = importlib.util.find_spec("aws_cdk")  # finds the package without importing it
    assert spec is not None and spec.submodule_search_locations is not None
    package = Path(next(iter(spec.submodule_search_locations)))
    found: set[str] = set()
    for path in _checked_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] == "aws_cdk"}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] != "aws_cdk":
                    continue
                found.add(node.module)
                if node.module == "aws_cdk":
                    found |= {
                        f"aws_cdk.{a.name}" for a in node.names if (package / a.name).is_dir()
                    }
    return found


def _overridden(option: str, value: str) -> set[str]:
    return {
        module
        for override in MYPY["overrides"]
        if override.get(option) == value
        for module in override["module"]
    }


def test_mypy_follows_exactly_the_aws_cdk_modules_the_code_imports() -> None:
    untyped = {m for o in MYPY["overrides"] if o.get("ignore_missing_imports") for m in o["module"]}
    imported = {m for m in _aws_cdk_modules_imported() if m not in untyped}
    assert "aws_cdk.*" in _overridden("follow_imports", "skip")
    assert imported == _overridden("follow_imports", "normal")


def test_the_scan_sees_both_import_forms() -> None:
    imported = _aws_cdk_modules_imported()
    assert {"aws_cdk", "aws_cdk.aws_eks_v2", "aws_cdk.aws_iam"} <= imported
    assert "aws_cdk.Stack" not in imported  # a class, not a module
