"""How the CDK app reads its config and reports failures: one message, an exit code, no traceback.

Exit codes of the app (and of ``scripts/synth.sh`` and ``scripts/verify.sh``): 0 synthesized,
1 a policy check failed, 2 the config is invalid, 3 synth failed for another reason. ``cdk
synth`` turns any non-zero code of the app into 1, so ``app.py`` also writes the outcome's name
to the file named by context ``outcome_file`` (``scripts/synth.sh`` passes ``-c outcome_file=``),
which maps it back. The steps end with ``SystemExit(code)``; ``exit_code_of`` returns that code to
``app.py``, whose ``finish`` is the one place that reports it and exits.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from cluster_config.loader import load_config
from cluster_config.model import ClusterConfig
from cluster_config.problems import ConfigError, Problem

if TYPE_CHECKING:  # the config check itself runs without starting the CDK's jsii kernel
    import aws_cdk as cdk

DEFAULTS_CONTEXT_KEY = "cluster"
CONFIG_PATH_CONTEXT_KEY = "config"
EXIT_CONFIG_ERROR = 2
EXIT_POLICY_FAILURE = 1
EXIT_INTERNAL_ERROR = 3
OUTCOME_FILE_CONTEXT_KEY = "outcome_file"
_OUTCOMES = {
    EXIT_POLICY_FAILURE: "policy",
    EXIT_CONFIG_ERROR: "config",
    EXIT_INTERNAL_ERROR: "internal",
}
INTERNAL_ERROR_LOG = "synth-error.log"
VALIDATION_REPORT = "validation-report.json"  # aws-cdk-lib cx-api VALIDATION_REPORT_FILE


def load_config_or_exit(app: cdk.App) -> ClusterConfig:
    """Config from ``cdk.json`` context ``cluster`` overridden by ``-c config=PATH``.

    On a bad config, the previous synth's templates and manifest are removed from the output
    folder too, so nothing left in ``cdk.out`` looks like a successful synth of this config.
    """
    return check_config_or_exit(
        app.node.try_get_context(DEFAULTS_CONTEXT_KEY),
        app.node.try_get_context(CONFIG_PATH_CONTEXT_KEY),
        Path(app.outdir),
    )


def check_config_or_exit(defaults: Any, config_path: Any, outdir: Path) -> ClusterConfig:
    """``load_config_or_exit`` without the CDK app: what the hostile-config tests run."""
    try:
        if config_path is not None and not isinstance(config_path, str):
            raise ConfigError(
                [
                    Problem(
                        "ConfigFile",
                        "config",
                        f"-c config= must be a path, got {type(config_path).__name__}",
                    )
                ]
            )
        return load_config(defaults, config_path)
    except ConfigError as error:
        remove_synth_output(outdir, with_report=True)
        print(error.report(), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


@contextmanager
def internal_errors_reported(outdir: Path) -> Iterator[None]:
    """Any exception in the block (a bug, or a limit the config rules missed) becomes one message
    and exit code 3; the traceback goes to ``<outdir>/synth-error.log``, the templates go away."""
    try:
        yield
    except Exception as error:  # the one place every failure is caught
        remove_synth_output(outdir, with_report=True)
        log = outdir / INTERNAL_ERROR_LOG
        try:
            outdir.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(traceback.format_exception(error)), encoding="utf-8")
            details = f"details in {log}"
        except OSError:
            details = "details could not be written"
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        print(
            "Synth failed after the config was accepted, so no template was written to deploy "
            f"({type(error).__name__}: {first_line}). This is a bug in the app, not in your "
            f"config; please report it with the config ({details}).",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_INTERNAL_ERROR) from None


def synth_or_exit(app: cdk.App) -> None:
    """``app.synth()``; when a policy check (cdk-nag) fails, exit 1 without a traceback.

    The findings are printed and the templates written before the check are removed, so that
    ``cdk deploy --app cdk.out`` cannot pick them up. aws-cdk-lib 2.275
    (``core/lib/private/synthesis-validation.ts`` ``validateTemplates``) reports a failure in
    one of two ways, both after writing ``validation-report.json``:

    - run by the CDK CLI, which sets context ``@aws-cdk/core:failSynthOnValidationErrors`` to
      false because it prints the report itself (after the app exits), synth returns normally;
      the app reads the report's ``conclusion`` and prints the findings;
    - run otherwise (``python app.py``, the tests), synth raises ``ValidationFailed`` after
      printing the report (or with the report in the message).
    """
    outdir = Path(app.outdir)
    (outdir / VALIDATION_REPORT).unlink(missing_ok=True)  # a stale report says nothing
    try:
        app.synth()
    except RuntimeError as error:
        if not is_policy_failure(error):
            raise
    else:
        findings = policy_findings(outdir)
        if not findings:
            return
        print("\n".join(findings), file=sys.stderr)
    remove_synth_output(outdir)
    print(
        f"Policy checks failed (see above and {outdir / VALIDATION_REPORT}); nothing to deploy.",
        file=sys.stderr,
    )
    raise SystemExit(EXIT_POLICY_FAILURE)


def policy_findings(outdir: Path) -> list[str]:
    """One line per error of every failed plugin (cdk-nag) in ``validation-report.json``."""
    path = outdir / VALIDATION_REPORT
    if not path.exists():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    return [
        f"ERROR {violation['ruleName']}: {violation['description']}\n   "
        + "\n   ".join(c["constructPath"] for c in violation.get("violatingConstructs", []))
        for plugin in report.get("pluginReports", [])
        if plugin.get("conclusion") == "failure"
        for violation in plugin.get("violations", [])
        if violation.get("severity") in ("error", "fatal")
    ] or [
        f"ERROR {plugin.get('pluginName')}: the plugin failed"
        for plugin in report.get("pluginReports", [])
        if plugin.get("conclusion") == "failure"
    ]


def is_policy_failure(error: Exception) -> bool:
    """Whether ``app.synth()`` raised because a policy check (cdk-nag) found something.

    aws-cdk-lib raises ValidationFailed after writing the templates and validation-report.json;
    through jsii it arrives as a RuntimeError whose message starts with that name.
    """
    return isinstance(error, RuntimeError) and str(error).startswith("ValidationFailed")


def remove_synth_output(outdir: Path, *, with_report: bool = False) -> None:
    """What a synth wrote to ``outdir``; ``with_report``: cdk-nag's report too (kept after a
    policy failure, where it says what failed; an earlier run's says nothing about this one)."""
    if with_report:
        (outdir / VALIDATION_REPORT).unlink(missing_ok=True)
    patterns = (
        "manifest.json",
        "tree.json",
        "*.template.json",
        "*.assets.json",
        "*.metadata.json",
        "manifests/*.yaml",
    )
    for pattern in patterns:
        for path in outdir.glob(pattern):
            path.unlink()


def exit_code_of(steps: Callable[[], None]) -> int:
    """The code ``steps`` end with: 0 when they return, else that of the ``SystemExit`` they
    raise (each failure above is reported to the user before it is raised)."""
    try:
        steps()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_INTERNAL_ERROR
    return 0


def report_outcome(code: int, outcome_file: Any) -> None:
    """Name a failure's outcome in ``outcome_file`` (a path, or ``None`` when not asked)."""
    if outcome_file and code in _OUTCOMES:
        Path(str(outcome_file)).write_text(_OUTCOMES[code], encoding="utf-8")


def finish(code: int = 0, outcome_file: Any = None) -> NoReturn:
    """End the process now that its output is written and closed.

    A normal exit waits for the jsii kernel (the Node.js child that runs aws-cdk-lib) to exit,
    then finalizes every loaded module: together about 1.5 s of a 7-9 s synth, after the work
    is done. Instead the kernel is told to exit (it ends on its own, as it would on a normal exit),
    standard streams are flushed and the interpreter ends without its teardown. A failure's
    outcome is first named in ``outcome_file`` (``report_outcome``).
    """
    report_outcome(code, outcome_file)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        from jsii._runtime import kernel

        # Private: jsii has no public call that ends its kernel without waiting for it (its exit
        # hook, _NodeProcess.stop, waits for the process). jsii 1.142 (pinned in
        # requirements.txt): the Node.js process, started by the import of aws_cdk; the message
        # and the closed stdin are what jsii's own exit hook sends.
        provider: Any = kernel.provider  # a ProcessProvider; BaseProvider does not declare it
        node = provider._process._process
        node.stdin.write(b'{"exit":0}\n')
        node.stdin.close()
        # The kernel's runtime files (a temporary folder jsii's exit would remove; loaded by now).
        provider._process._ctx_stack.close()
    except Exception:  # another jsii: the ordinary exit, which waits for the kernel
        # tests/test_cli.py fails when this happens, so an upgrade cannot slow synth silently.
        raise SystemExit(code) from None
    os._exit(code)
