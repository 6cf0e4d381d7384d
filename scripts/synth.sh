#!/usr/bin/env bash
# Set up if needed, then synthesize the app into cdk.out/. Extra arguments go to `cdk synth`,
# e.g. scripts/synth.sh -c config=my-cluster.yaml
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
exec cdk synth --quiet "$@"
