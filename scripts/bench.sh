#!/usr/bin/env bash
# Set up if needed, then run the synth benchmark (bench/run.py); extra arguments go to it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh" test
cd "$ROOT"
exec python bench/run.py "$@"
