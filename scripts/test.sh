#!/usr/bin/env bash
# Set up if needed, then lint (ruff), type-check (mypy) and run the whole test suite (pytest).
# mypy runs beside pytest; pytest runs in $PYTEST_WORKERS processes (default 2, pytest-xdist),
# one module per process at a time (--dist loadscope), so a module's synth fixtures run once.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"` for the fast tiers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh" test
cd "$ROOT"
ruff check .
ruff format --check .
mypy_log="$(mktemp)"
trap 'rm -f "$mypy_log"' EXIT
mypy > "$mypy_log" 2>&1 &
mypy_pid=$!
pytest_status=0
pytest -n "${PYTEST_WORKERS:-2}" --dist loadscope "$@" || pytest_status=$?
mypy_status=0
wait "$mypy_pid" || mypy_status=$?
cat "$mypy_log"
[ "$mypy_status" -eq 0 ] || exit "$mypy_status"
exit "$pytest_status"
