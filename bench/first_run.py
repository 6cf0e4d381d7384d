#!/usr/bin/env python3
"""First-run benchmark: set-up + synth and set-up + tests from a fresh clone, empty caches.

Compared with a floor measured the same way, back to back: a new venv and a plain
``pip install aws-cdk-lib==<pinned>`` (the one package nobody can synthesize without). Every run
gets new, empty package caches (``PIP_CACHE_DIR``, ``UV_CACHE_DIR``, ``npm_config_cache``) and an
empty jsii package cache (``JSII_RUNTIME_PACKAGE_CACHE_ROOT``), as on a fresh machine; the
clone is of the committed ``HEAD``. The floor runs before and after the project's runs, and the
ratios use the mean of the floors, so a change of machine load shows as two floors apart.

    python bench/first_run.py [--no-tests] [--ci]

Set-up + tests is README's test command, ``bash scripts/test.sh`` (the local tiers); ``--ci``
times ``CI=true bash .ci/run`` instead (the whole matrix CI runs).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON: str = os.environ.get("PYTHON") or str(getattr(sys, "_base_executable", sys.executable))


def pinned_aws_cdk_lib() -> str:
    match = re.search(r"^aws-cdk-lib==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    if not match:
        raise SystemExit("requirements.txt pins no aws-cdk-lib version")
    return match.group(1)


def load() -> str:
    return "load " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def fresh_env(scratch: Path) -> dict[str, str]:
    """This process's environment with new, empty package caches under ``scratch``."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "CI")}
    # As on a fresh machine: none of this checkout's venvs or node_modules on PATH.
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(ROOT))
    )
    for variable, folder in (
        ("PIP_CACHE_DIR", "pip-cache"),
        ("UV_CACHE_DIR", "uv-cache"),
        ("npm_config_cache", "npm-cache"),
        ("JSII_RUNTIME_PACKAGE_CACHE_ROOT", "jsii-cache"),
    ):
        (scratch / folder).mkdir(parents=True)
        env[variable] = str(scratch / folder)
    return env


def timed(command: list[str], cwd: Path, env: dict[str, str], what: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-30:])
        raise SystemExit(f"{what} failed (exit {result.returncode}) after {seconds:.1f} s:\n{tail}")
    return seconds


def floor(scratch: Path, version: str) -> float:
    """A new venv and ``pip install aws-cdk-lib==<version>``, empty pip cache."""
    env = fresh_env(scratch)
    return timed([PYTHON, "-m", "venv", "venv"], scratch, env, "floor venv") + timed(
        ["venv/bin/pip", "install", "--quiet", f"aws-cdk-lib=={version}"],
        scratch,
        env,
        "floor pip install",
    )


def project(scratch: Path, command: list[str], extra_env: dict[str, str] | None = None) -> float:
    """``git clone`` of HEAD into ``scratch``, then ``command`` in it, empty caches."""
    env = fresh_env(scratch) | (extra_env or {})
    clone = scratch / "clone"
    start = time.perf_counter()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return time.perf_counter() - start + timed(command, clone, env, " ".join(command))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-tests", action="store_true", help="skip set-up + tests")
    parser.add_argument(
        "--ci", action="store_true", help="time CI=true bash .ci/run, not bash scripts/test.sh"
    )
    args = parser.parse_args()

    version = pinned_aws_cdk_lib()
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(
        f"first run from a fresh clone of {head}, empty pip/uv/npm/jsii caches, "
        f"{os.cpu_count()} CPUs"
    )
    if dirty:
        print("  (the work tree has uncommitted changes; the clone measures HEAD without them)")
    floors: list[float] = []

    def run(label: str, measure: Callable[[Path], float]) -> float:
        with tempfile.TemporaryDirectory(prefix="first-run-") as folder:
            before = load()
            seconds = measure(Path(folder))
        print(f"  {label:52} {seconds:6.1f} s  ({before} at start)", flush=True)
        return seconds

    floor_label = f"floor: venv + pip install aws-cdk-lib=={version}"
    floors.append(run(floor_label, lambda s: floor(s, version)))
    synth = run(
        "set-up + synth: bash scripts/synth.sh", lambda s: project(s, ["bash", "scripts/synth.sh"])
    )
    tests = None
    if not args.no_tests:
        if args.ci:
            label, command, extra = "set-up + tests: CI=true bash .ci/run", ".ci/run", {"CI": "1"}
        else:
            label, command, extra = "set-up + tests: bash scripts/test.sh", "scripts/test.sh", {}
        tests = run(label, lambda s: project(s, ["bash", command], extra))
    floors.append(run("floor again", lambda s: floor(s, version)))
    mean_floor = sum(floors) / len(floors)
    line = (
        f"  ratio to the mean floor ({mean_floor:.1f} s): "
        f"set-up + synth {synth / mean_floor:.2f} (target <= 1.0)"
    )
    if tests is not None:
        line += f", set-up + tests {tests / mean_floor:.2f} (target <= 3, issue 29)"
    print(line)


if __name__ == "__main__":
    main()
