#!/usr/bin/env bash
# Set up if needed, then synthesize the app into cdk.out/. Extra arguments go to `cdk synth`,
# e.g. scripts/synth.sh -c config=my-cluster.yaml
# Exit codes: 0 synthesized, 1 a policy check (cdk-nag) failed, 2 the config is invalid,
# 3 synth failed for another reason (an internal error, or the CDK CLI itself failed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh" synth
cd "$ROOT"
# `cdk synth` reports every failure of the app as 1; the app names its outcome in the file given
# as context outcome_file (cluster_config/cli.py) so that the codes above survive the CDK CLI.
outcome="$(mktemp)"
trap 'rm -f "$outcome"' EXIT
status=0
cdk synth --quiet -c outcome_file="$outcome" "$@" || status=$?
[ "$status" -eq 0 ] && exit 0
case "$(cat "$outcome")" in
  policy) exit 1 ;;
  config) exit 2 ;;
  *) exit 3 ;;
esac
