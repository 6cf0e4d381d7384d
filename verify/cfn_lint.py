"""cfn-lint over every synthesized template, with the committed ``.cfnlintrc.yaml``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from verify.report import CheckResult
from verify.synth import ROOT

CONFIG_FILE = ROOT / ".cfnlintrc.yaml"
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))  # the pinned one in this venv


def check_cfn_lint(templates: list[Path]) -> CheckResult:
    if not templates:
        return CheckResult("cfn-lint", "FAIL", "no template to lint")
    command = [CFN_LINT, "--config-file", str(CONFIG_FILE), "--format", "json", "--"]
    result = subprocess.run(
        [*command, *map(str, templates)], capture_output=True, text=True, check=False
    )
    try:
        matches = json.loads(result.stdout)
    except json.JSONDecodeError:
        # Findings (exit 2, 4, 8) always come as JSON; anything else is cfn-lint failing.
        details = result.stderr.strip().splitlines()[-5:]
        summary = f"cfn-lint did not run (exit {result.returncode})"
        return CheckResult("cfn-lint", "FAIL", summary, details)
    details = [
        f"{m['Rule']['Id']} {Path(m['Filename']).name}:{m['Location']['Start']['LineNumber']} "
        f"{m['Message']}"
        for m in matches
    ]
    errors = sum(1 for m in matches if m["Level"] == "Error")
    warnings = sum(1 for m in matches if m["Level"] == "Warning")
    summary = f"{len(templates)} templates: {errors} errors, {warnings} warnings"
    return CheckResult("cfn-lint", "FAIL" if matches else "PASS", summary, details)
