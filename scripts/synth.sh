#!/usr/bin/env bash
# Set up if needed, then synthesize the app into cdk.out/. Extra arguments go to `cdk synth`,
# e.g. scripts/synth.sh -c config=my-cluster.yaml
# Exit codes: 0 synthesized, 1 a policy check (cdk-nag) failed, 2 the config is invalid,
# 3 synth failed for another reason (an internal error, or the CDK CLI itself failed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$ROOT/scripts/setup.sh" synth
caller_args "$@"
cd "$ROOT"
# `cdk synth` reports every failure of the app as 1; the app names its outcome in the file given
# as context outcome_file (cli/outcome.py) so that the codes above survive the CDK CLI.
outcome="$(mktemp)"
trap 'rm -f "$outcome"' EXIT
status=0
# Three lines of the CDK CLI (2.1148) are dropped from its stderr, each saying nothing the user
# can act on: "python3 app.py: Subprocess exited with error N" (the app has said why, and this
# script's exit code says which outcome), "Acknowledge with 'Annotation::info-annotation'" (an
# info line needs no acknowledgement; warnings keep their hint) and "Supply a stack id (...) to
# display its template." (printed for any app of more than one stack).
# --ci=false: with CI=true in the environment the CLI sends its log lines to stdout instead of
# stderr (its --ci option), past this filter; our lines belong on stderr either way.
{
  cdk synth --quiet --ci=false -c outcome_file="$outcome" ${CALLER_ARGS[@]+"${CALLER_ARGS[@]}"} \
    2>&1 1>&3 3>&- | sed -u \
    -e '/: Subprocess exited with error [0-9]*$/d' \
    -e "/^ *Acknowledge with 'Annotation::info-annotation'$/d" \
    -e '/^Supply a stack id (.*) to display its template\.$/d' >&2
} 3>&1 || status=$?
[ "$status" -eq 0 ] && exit 0
case "$(cat "$outcome")" in
  policy) exit 1 ;;
  config) exit 2 ;;
  *) exit 3 ;;
esac
