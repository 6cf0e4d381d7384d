"""checkov (Bridgecrew's policy scanner) over the synthesized templates and the exported manifests.

checkov runs from its own venv, ``.venv-checkov`` (``scripts/setup.sh``): checkov 3.3.x
pins ``packaging<24``, which pytest 9 in ``.venv`` cannot share. Findings accepted on purpose are
in ``.checkov-skips.yaml``, each with the resources it covers and its reason; any other finding
fails the check.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from verify.report import CheckResult
from verify.synth import ROOT, stack_templates

CHECKOV_PYTHON = ROOT / ".venv-checkov" / "bin" / "python"
SKIPS_FILE = ROOT / ".checkov-skips.yaml"
FRAMEWORKS = ("cloudformation", "kubernetes")


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    resource: str
    """``AWS::Type.<construct path below the stack>`` (``AWS::IAM::Role.NodeRole/Resource``;
    checkov's ``AWS::Type.LogicalId`` for a template outside the cloud assembly) or checkov's
    ``Kind.namespace.name`` for a manifest."""
    file: str
    path: str = ""
    """The scanned file's absolute path (``file`` is its name)."""

    def line(self) -> str:
        return f"{self.check_id} {self.file} {self.resource}: {self.check_name}"


@dataclass(frozen=True)
class Skip:
    check: str
    resources: tuple[str, ...]
    """``fnmatch`` patterns of checkov resource names."""
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.check_id == self.check and any(
            fnmatch.fnmatchcase(finding.resource, pattern) for pattern in self.resources
        )


def load_skips(path: Path = SKIPS_FILE) -> list[Skip]:
    """The accepted findings; raises ``ValueError`` naming the entry that lacks a field."""
    entries = yaml.safe_load(path.read_text()) or []
    skips = []
    for number, entry in enumerate(entries, start=1):
        check, resources, reason = (entry.get(k) for k in ("check", "resources", "reason"))
        if not (isinstance(check, str) and isinstance(resources, list) and resources):
            raise ValueError(f"{path.name} entry {number}: needs a check and a resources list")
        if not (isinstance(reason, str) and reason.strip()):
            raise ValueError(f"{path.name} entry {number} ({check}): needs a reason")
        skips.append(Skip(check, tuple(map(str, resources)), reason.strip()))
    return skips


# What the `checkov` command runs (its console script: `Checkov().run()`), with the import, which
# is most of checkov's ~4 s, done before the arguments arrive on stdin: verify starts checkov
# before it synthesizes, so the import overlaps the synth instead of following it.
DRIVER = """
import json, sys, warnings
from checkov.main import Checkov
argv = json.loads(sys.stdin.readline())
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    sys.exit(Checkov(argv).run())
"""


class CheckovProcess:
    """checkov, started now and given its files later (``scan``); a context manager that ends
    the process if ``scan`` never ran (verify failed before it had files to give)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._scanned = threading.Event()
        with contextlib.suppress(FileNotFoundError):  # reported by scan(), as the check's FAIL
            self._process = subprocess.Popen(
                # -P: the working directory (the project root, with its `cli`, `verify`...
                # packages) is not put on sys.path, as it is not for the console script.
                [str(CHECKOV_PYTHON), "-P", "-c", DRIVER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own process group: ended whole, workers included
            )

    def scan(self, files: list[Path]) -> list[Finding]:
        """Every failed check on ``files``, once; raises ``RuntimeError`` when checkov does not
        run."""
        if self._scanned.is_set():
            raise RuntimeError("a CheckovProcess scans once: start another")
        self._scanned.set()
        if self._process is None:
            raise RuntimeError(f"{CHECKOV_PYTHON} is missing: run scripts/setup.sh")
        argv = [
            *("--framework", *FRAMEWORKS),
            "--skip-download",  # offline: no policy or mapping download
            *("--output", "json", "--quiet", "--compact"),
        ]
        for path in files:
            # Absolute: checkov reports ``file_abs_path`` as given, and a relative one (verify's
            # default ``--outdir cdk.out``) would match no template below, so no acceptance.
            argv += ["--file", str(path.resolve())]
        # (If it ended before reading them, a failed import, communicate() ignores the broken
        # pipe, and its stderr says why.)
        stdout, stderr = self._process.communicate(json.dumps(argv) + "\n")
        try:
            reports = json.loads(stdout)
        except json.JSONDecodeError:
            tail = " | ".join(stderr.strip().splitlines()[-3:])
            raise RuntimeError(
                f"checkov did not run (exit {self._process.returncode}): {tail}"
            ) from None
        paths = {str(path.resolve()): construct_paths(path) for path in files}
        return [
            Finding(
                c["check_id"],
                c["check_name"],
                _by_construct_path(c["resource"], paths.get(c.get("file_abs_path", ""), {})),
                Path(c["file_path"]).name,
                c.get("file_abs_path", ""),
            )
            for report in (reports if isinstance(reports, list) else [reports])
            for c in _failed_checks(report)
        ]

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def __enter__(self) -> CheckovProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        if self._scanned.is_set():
            # scan() may be inside communicate() in another thread (verify's, on Ctrl-C): that
            # thread owns the pipes; only reap the process here.
            self._process.wait()
        else:
            self._process.communicate()


def run_checkov(files: list[Path]) -> list[Finding]:
    """Every failed check on ``files``; raises ``RuntimeError`` when checkov does not run."""
    with CheckovProcess() as checkov:
        return checkov.scan(files)


def construct_paths(template: Path) -> dict[str, str]:
    """Logical ID -> construct path below the stack (``NodeRole/Resource``) of the stack whose
    template this is: the cloud assembly's ``aws:cdk:logicalId`` metadata (``manifest.json`` and
    the stack's ``additionalMetadataFile``). Empty for a file outside a cloud assembly."""
    manifest_file = template.parent / "manifest.json"
    if not manifest_file.exists():
        return {}
    for artifact in json.loads(manifest_file.read_text())["artifacts"].values():
        if artifact.get("properties", {}).get("templateFile") != template.name:
            continue
        metadata = dict(artifact.get("metadata", {}))
        if extra := artifact.get("additionalMetadataFile"):
            metadata.update(json.loads((template.parent / extra).read_text()))
        return {
            entry["data"]: path.split("/", 2)[2]
            for path, entries in metadata.items()
            for entry in entries
            if entry["type"] == "aws:cdk:logicalId"
        }
    return {}


def _by_construct_path(resource: str, paths: dict[str, str]) -> str:
    """``AWS::Type.LogicalId`` -> ``AWS::Type.<construct path>`` when the path is known, so an
    acceptance survives a logical-ID change and never matches another resource by a hash."""
    kind, _, logical_id = resource.rpartition(".")
    return (
        f"{kind}.{paths[logical_id]}"
        if kind.startswith("AWS::") and logical_id in paths
        else resource
    )


def synthesized_files(outdir: Path) -> list[Path]:
    """The templates and the exported manifests (``cdk.out/manifests``) of the last synth."""
    return [*stack_templates(outdir).values(), *sorted(outdir.glob("manifests/*.yaml"))]


def check_checkov(
    files: list[Path], skips: list[Skip] | None = None, started: CheckovProcess | None = None
) -> CheckResult:
    """The check on ``files``, by ``started`` (a checkov already importing) or a new checkov."""
    if not files:
        return CheckResult("checkov", "FAIL", "no template or manifest to scan")
    try:
        findings = started.scan(files) if started else run_checkov(files)
        skips = load_skips() if skips is None else skips
    except (RuntimeError, ValueError) as error:
        return CheckResult("checkov", "FAIL", str(error))
    return judge(findings, skips, len(files))


def judge(findings: list[Finding], skips: list[Skip], files: int) -> CheckResult:
    """The check's verdict on ``findings`` (of ``files`` scanned files): any finding no skip
    covers fails it."""
    unexplained = [f for f in findings if not any(s.covers(f) for s in skips)]
    accepted = len(findings) - len(unexplained)
    summary = f"{files} files: {len(unexplained)} unexplained finding(s)"
    summary += f" ({accepted} accepted in {SKIPS_FILE.name})"
    return CheckResult(
        "checkov", "FAIL" if unexplained else "PASS", summary, [f.line() for f in unexplained]
    )


def _failed_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    failed: list[dict[str, Any]] = report.get("results", {}).get("failed_checks", [])
    return failed
