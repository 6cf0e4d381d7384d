#!/usr/bin/env bash
# Set up if needed, then lint (ruff), type-check (mypy) and run the whole test suite (pytest).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh" test
cd "$ROOT"
ruff check .
ruff format --check .
mypy
exec pytest "$@"
