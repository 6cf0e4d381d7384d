#!/usr/bin/env bash
# Set up if needed, then synthesize a config into cdk.out/ and run every pre-deploy check.
#   scripts/verify.sh [-c config=PATH] [--baseline DIR|CONFIG [--allow-disruption]] [--live]
# --live also asks your AWS account, read-only (docs/verify.md, "verify --live").
# Exits 0 when every check passes, 1 when one fails, 2 when the config is invalid, 3 when
# synth fails for another reason (an internal error; the message says what failed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh" verify
caller_args "$@"
cd "$ROOT"
exec python -m verify ${CALLER_ARGS[@]+"${CALLER_ARGS[@]}"}
