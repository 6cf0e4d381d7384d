"""Runs config files through the app's config entry (``check_config_or_exit``), one after the
other in this process, and prints one JSON record per file: exit code, stderr, CPU seconds, peak
Python memory, templates left in the output folder. ``tests/test_config_corpus.py`` starts it
as a subprocess under memory and CPU-time rlimits, so a config that blows up cannot take the
machine down. Time is the process's CPU time, not the wall clock: on a loaded machine the wall
clock measures the other jobs.

    python -m tests.config_corpus_runner OUTDIR PATH...
"""

from __future__ import annotations

import io
import json
import sys
import time
import traceback
import tracemalloc
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

from cli.outcome import check_config_or_exit

DEFAULTS = json.loads(Path("cdk.json").read_text())["context"]["cluster"]


def run_one(path: str, outdir: Path) -> dict[str, Any]:
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "manifest.json").write_text("{}")  # what an earlier, successful synth left
    (outdir / "old-cluster.template.json").write_text("{}")
    stderr = io.StringIO()
    tracemalloc.start()
    started = time.process_time()
    with redirect_stderr(stderr):
        try:
            check_config_or_exit(DEFAULTS, path, outdir)
            code: int | str | None = 0
        except SystemExit as exited:
            code = exited.code
        except BaseException:  # recorded: the test fails on it
            code = "exception"
            stderr.write(traceback.format_exc())
    cpu_seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    left = sorted(p.name for p in outdir.iterdir() if p.suffix == ".json")
    return {
        "code": code,
        "stderr": stderr.getvalue(),
        "cpu_seconds": cpu_seconds,
        "peak": peak,
        "left": left,
    }


def main(argv: list[str]) -> None:
    outdir, paths = Path(argv[0]), argv[1:]
    records = {path: run_one(path, outdir / str(i)) for i, path in enumerate(paths)}
    json.dump(records, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1:])
