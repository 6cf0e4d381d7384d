"""cfn-lint over every synthesized template, with the committed ``.cfnlintrc.yaml``.

cfn-lint runs in verify's process through its own runner (``cfnlint.runner.cli.Runner``, what
the ``cfn-lint`` command calls after parsing its arguments): on templates that exist, the same
rules, config file and matches as ``cfn-lint --config-file .cfnlintrc.yaml -- TEMPLATES``
(tests/test_verify.py compares the two over two templates with errors and warnings), without
a second Python start-up and a second import of cfn-lint's schemas (half of the command's 4 s on
the default synth). Unlike the command, a template that cannot be found, or cfn-lint failing in
any way, is "cfn-lint did not run" (a FAIL line), not a finding; verify only passes the templates
its synth wrote.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from verify.report import CheckResult
from verify.synth import ROOT

CONFIG_FILE = ROOT / ".cfnlintrc.yaml"


class CfnLintError(Exception):
    """cfn-lint did not lint (its config file or a template could not be read)."""


def lint(templates: list[Path], config_file: Path = CONFIG_FILE) -> list[tuple[str, str, str]]:
    """``(severity, rule id, "file:line message")`` of every match, as the command finds them."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.cli import Runner

    arguments = ["--config-file", str(config_file), "--", *map(str, templates)]
    quiet = io.StringIO()
    try:
        # The runner prints and exits (SystemExit) where the command would; keep both in here.
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            try:
                config = ConfigMixIn(arguments)
            except Exception as error:  # cfn-lint's main() reports any of these as exit 1
                raise CfnLintError(f"{config_file.name}: {type(error).__name__}: {error}") from None
            matches = list(Runner(config).run())
    except CfnLintError:
        raise
    except (SystemExit, Exception) as error:  # the runner's exits and any failure: a FAIL line
        said = " | ".join(quiet.getvalue().strip().splitlines()[-3:])
        raise CfnLintError(f"{type(error).__name__}: {error} {said}".strip()) from None
    matches.sort(key=lambda m: (m.filename or "", m.linenumber, m.rule.id))
    return [
        (m.rule.severity, m.rule.id, f"{Path(m.filename or '-').name}:{m.linenumber} {m.message}")
        for m in matches
    ]


def check_cfn_lint(templates: list[Path], config_file: Path = CONFIG_FILE) -> CheckResult:
    if not templates:
        return CheckResult("cfn-lint", "FAIL", "no template to lint")
    try:
        matches = lint(templates, config_file)
    except CfnLintError as error:
        return CheckResult("cfn-lint", "FAIL", "cfn-lint did not run", [str(error)])
    details = [f"{rule} {where}" for _, rule, where in matches]
    errors = sum(1 for severity, _, _ in matches if severity == "error")
    warnings = sum(1 for severity, _, _ in matches if severity == "warning")
    summary = f"{len(templates)} templates: {errors} errors, {warnings} warnings"
    return CheckResult("cfn-lint", "FAIL" if matches else "PASS", summary, details)
