"""Hostile and mistaken config files (tests/config_corpus/bad, expectations in expected.json) and
path mistakes: each is refused with exit code 2 and a short report naming the field, no
traceback, within a time and memory bound, and no template is left where ``cdk deploy`` could
pick it up. Valid non-default configs (tests/config_corpus/good) must load and synthesize, so
refusing everything cannot pass.

The files go through the app's own config entry (``check_config_or_exit``, what ``app.py``
calls) in one subprocess under a memory rlimit; a few go through ``bash scripts/synth.sh``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli.outcome import EXIT_CONFIG_ERROR, EXIT_INTERNAL_ERROR, internal_errors_reported
from cluster_config.problems import MAX_REPORTED_PROBLEMS
from tests.support import ROOT, config_with, full_matrix_only, resources, synthesize

CORPUS = ROOT / "tests" / "config_corpus"
EXPECTED: dict[str, str] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
GOOD = sorted((CORPUS / "good").iterdir())
MEMORY_LIMIT = 1024 * 1024 * 1024  # address space of the runner: a blow-up dies, not the machine
PEAK_PYTHON_MEMORY = 64 * 1024 * 1024  # per file, traced by tracemalloc
# CPU seconds, which other jobs on the machine do not inflate (wall-clock bounds failed under
# load); a blow-up (a YAML bomb, a catastrophic regex) takes minutes.
CPU_SECONDS_PER_FILE = 5.0
CPU_SECONDS_TO_START = 30  # interpreter, pydantic and aws-cdk-lib imports in the runner
# The longest honest line: a misspelt top-level key, its suggestion, every allowed key, the value.
MAX_LINE_CHARS = 700  # 33 top-level keys today


def _path_mistakes(scratch: Path) -> dict[str, tuple[str, str]]:
    """Path mistakes made on the spot: name -> (path given, expected text)."""
    directory = scratch / "a-directory.yaml"
    directory.mkdir()
    fifo = scratch / "a-pipe.yaml"
    os.mkfifo(fifo)  # reading it would block forever
    (scratch / "link-to-dir.yaml").symlink_to(directory)
    (scratch / "dangling.yaml").symlink_to(scratch / "gone.yaml")
    big = scratch / "big.yaml"
    big.write_text("tags:\n" + "".join(f"  k{i}: v\n" for i in range(10_000)))
    return {
        "missing": (str(scratch / "missing.yaml"), "does not exist"),
        "directory": (str(directory), "is a directory; allowed: a YAML or JSON file"),
        "fifo": (str(fifo), "is not a regular file"),
        "link-to-directory": (str(scratch / "link-to-dir.yaml"), "is a directory"),
        "dangling-link": (str(scratch / "dangling.yaml"), "does not exist"),
        "device": ("/dev/zero", "is not a regular file"),
        "empty-path": ("", "-c config= is empty"),
        "too-big": (str(big), "is larger than 64 KiB"),
    }


def _limits(files: int) -> Callable[[], None]:
    """Memory and CPU-time rlimits for the runner: past its CPU budget the kernel kills it."""
    cpu = int(CPU_SECONDS_TO_START + CPU_SECONDS_PER_FILE * files)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    return apply


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, dict[str, Any]]]:
    scratch = tmp_path_factory.mktemp("corpus")
    cases = {name: (str(CORPUS / "bad" / name), text) for name, text in EXPECTED.items()}
    cases |= _path_mistakes(scratch)
    result = subprocess.run(
        [sys.executable, "-m", "tests.config_corpus_runner", str(scratch / "out")]
        + [path for path, _ in cases.values()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # wall clock: only a hang with no CPU use (the CPU rlimit covers the rest)
        preexec_fn=_limits(len(cases)),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    records = json.loads(result.stdout)
    return {name: (text, records[path]) for name, (path, text) in cases.items()}


def test_corpus_covers_every_kind_of_mistake() -> None:
    files = sorted((CORPUS / "bad").iterdir())
    assert [f.name for f in files] == sorted(EXPECTED)
    assert len(files) >= 60
    kinds = {
        name[0] for name in EXPECTED
    }  # syntax, types, limits, cross-field, exhaustion, encodings
    assert kinds == {"s", "t", "l", "x", "e", "n"}


PATH_MISTAKES = [
    "missing",
    "directory",
    "fifo",
    "link-to-directory",
    "dangling-link",
    "device",
    "empty-path",
    "too-big",
]
CASES = [*sorted(EXPECTED), *PATH_MISTAKES]


@pytest.mark.parametrize("case", CASES)
def test_hostile_config_is_refused_in_one_short_report(
    outcomes: dict[str, tuple[str, dict[str, Any]]], case: str
) -> None:
    expected, record = outcomes[case]
    report = record["stderr"]
    assert record["code"] == EXIT_CONFIG_ERROR, report
    assert expected in report
    assert "Traceback" not in report
    lines = report.splitlines()
    assert lines[0].startswith("Invalid cluster config")
    assert len(lines) <= MAX_REPORTED_PROBLEMS + 2
    assert all(len(line) <= MAX_LINE_CHARS for line in lines), max(lines, key=len)[:200]
    assert record["cpu_seconds"] < CPU_SECONDS_PER_FILE
    assert record["peak"] < PEAK_PYTHON_MEMORY
    assert record["left"] == [], "a template from an earlier synth was left behind"


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_valid_non_default_config_loads(path: Path) -> None:
    from cluster_config.loader import load_config
    from tests.support import default_data

    load_config(default_data(), str(path))


def test_config_at_every_limit_synthesizes_within_aws_tag_limits(tmp_path: Path) -> None:
    from cluster_config.loader import load_config
    from tests.support import default_data

    config = load_config(default_data(), str(CORPUS / "good" / "g02-limits-at-the-edge.yaml"))
    synthesis = synthesize(config, tmp_path)
    for template in synthesis.templates.values():
        for logical_id, resource_ in template["Resources"].items():
            tags = resource_.get("Properties", {}).get("Tags") or []
            keys = list(tags) if isinstance(tags, dict) else [t["Key"] for t in tags]
            counted = [k for k in keys if not k.lower().startswith("aws:")]
            assert len(counted) <= 50, (logical_id, len(counted))
    nodegroups = resources(synthesis.cluster, "AWS::EKS::Nodegroup")
    assert max(len(r["Properties"]["Tags"]) for r in nodegroups.values()) == 50


def _synth_sh(*args: str, cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess[str], int]:
    """``bash scripts/synth.sh ARGS`` run in ``cwd`` and the peak RSS (KiB) of its largest
    process."""
    env = {**os.environ, "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}"}
    wrapper = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:]).returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, "bash", str(ROOT / "scripts/synth.sh"), "--quiet", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return result, peak_kib


@pytest.mark.slow
def test_billion_laughs_through_synth_sh_is_a_config_error(tmp_path: Path) -> None:
    bad = CORPUS / "bad" / "e01-billion-laughs-unknown-key.yaml"
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "validation-report.json").write_text('{"conclusion": "success"}')
    result, peak_kib = _synth_sh("-c", f"config={bad}", "--output", str(tmp_path))
    assert result.returncode == EXIT_CONFIG_ERROR, result.stderr
    assert "lol: " in result.stderr and "aliases expand to more than" in result.stderr
    assert "Traceback" not in result.stderr
    assert peak_kib < 1024 * 1024  # it grew past 10 GiB before the loader was bounded
    assert not (tmp_path / "manifest.json").exists()
    # an earlier run's cdk-nag "success" says nothing about this config
    assert not (tmp_path / "validation-report.json").exists()


@pytest.mark.slow
def test_synth_sh_reads_relative_paths_from_where_it_ran_and_prints_only_our_lines(
    tmp_path: Path,
) -> None:
    """``bash ../gpu-spot/scripts/synth.sh -c config=team.yaml`` once said the file did not
    exist (the script runs from the project root), and every failure ended with the CDK CLI's
    "Subprocess exited with error 2"."""
    (tmp_path / "team.yaml").write_text("cluster_name: bad_name\n")
    result, _ = _synth_sh("-c", "config=team.yaml", "--output", "out", cwd=tmp_path)
    assert result.returncode == EXIT_CONFIG_ERROR, result.stderr
    *lines, _peak = result.stderr.splitlines()
    assert lines == [
        "Invalid cluster config (1 problem(s)):",
        "  - cluster_name: must start with a letter and hold only letters, digits and '-', at "
        'most 100 (got: "bad_name") [BadFormat]',
    ]


@pytest.mark.slow
def test_verify_sh_reads_relative_paths_from_where_it_ran(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text("nat_gateways: 9\n")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/verify.sh"), "-c", "config=team.yaml", "--baseline", "old"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == EXIT_CONFIG_ERROR, result.stderr
    assert "nat_gateways: 9 is above the upper bound" in result.stderr


def test_valid_china_config_synthesizes_in_the_aws_cn_partition(tmp_path: Path) -> None:
    from cluster_config.loader import load_config
    from tests.support import default_data

    config = load_config(default_data(), str(CORPUS / "good" / "g01-china.yaml"))
    synthesis = synthesize(config, tmp_path)
    assert sorted(synthesis.templates) == ["ml-cn-cluster", "ml-cn-network"]
    # An ARN written for the aws partition would not deploy in aws-cn.
    for name, template in synthesis.templates.items():
        assert '"arn:aws:' not in json.dumps(template), name


@pytest.mark.slow
@full_matrix_only  # locally, the China config is synthesized in-process (above)
def test_valid_china_config_through_synth_sh_synthesizes(tmp_path: Path) -> None:
    good = CORPUS / "good" / "g01-china.yaml"
    result, _ = _synth_sh("-c", f"config={good}", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.glob("*.template.json")) == [
        "ml-cn-cluster.template.json",
        "ml-cn-network.template.json",
    ]


def test_internal_error_after_the_config_passed_is_one_message_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "gpu-spot-cluster.template.json").write_text("{}")
    with pytest.raises(SystemExit) as exited, internal_errors_reported(tmp_path):
        raise RuntimeError("Error: Resolution error: something deep in jsii\n    at stack line")
    assert exited.value.code == EXIT_INTERNAL_ERROR
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "Traceback" not in message
    assert "Synth failed after the config was accepted" in message
    assert "RuntimeError: Error: Resolution error: something deep in jsii" in message
    assert "at stack line" not in message
    assert "Traceback" in (tmp_path / "synth-error.log").read_text()
    assert not (tmp_path / "manifest.json").exists()
    assert not list(tmp_path.glob("*.template.json"))


def test_each_failure_returns_its_code_and_the_outcome_file_names_it(tmp_path: Path) -> None:
    """What app.py hands to finish(): the code each step ends with, named for scripts/synth.sh."""
    from cli.outcome import check_config_or_exit, exit_code_of, report_outcome
    from tests.support import default_data

    def crash() -> None:
        with internal_errors_reported(tmp_path):
            raise KeyError("x")

    def bad_config() -> None:
        check_config_or_exit(default_data(), str(tmp_path / "missing.yaml"), tmp_path)

    outcome = tmp_path / "outcome"
    for steps, code, name in ((crash, 3, "internal"), (bad_config, 2, "config")):
        assert exit_code_of(steps) == code
        report_outcome(code, str(outcome))
        assert outcome.read_text() == name
    report_outcome(1, str(outcome))  # what synth_or_exit ends with on a cdk-nag failure
    assert outcome.read_text() == "policy"
    assert exit_code_of(lambda: None) == 0
    outcome.unlink()
    report_outcome(0, str(outcome))
    report_outcome(2, None)  # not asked (python app.py, the tests)
    assert not outcome.exists()


def test_config_with_helper_still_builds_defaults() -> None:
    assert config_with().region == "us-west-2"


def test_verify_reports_a_crash_after_the_config_passed_as_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import verify.__main__ as verify_main

    def broken_synth(*_: Any) -> None:
        raise RuntimeError("Error: something jsii could not resolve")

    monkeypatch.setattr(verify_main, "synthesize", broken_synth)
    with pytest.raises(SystemExit) as exited:
        verify_main.main(["--outdir", str(tmp_path)])
    assert exited.value.code == EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "Synth failed after the config was accepted" in err and "Traceback" not in err
