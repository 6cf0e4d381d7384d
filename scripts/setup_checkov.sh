#!/usr/bin/env bash
# checkov in its own venv, .venv-checkov: checkov 3.3.x pins packaging<24, which pytest 9 (in
# .venv) cannot share. verify/checkov.py calls .venv-checkov/bin/checkov as a subprocess.
# Idempotent: re-installs only when requirements-checkov.txt changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STAMP=.venv-checkov/.setup-stamp
stamp_of() { sha256sum requirements-checkov.txt | cut -d' ' -f1; }
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_of)" ] && [ -x .venv-checkov/bin/checkov ]; then
  exit 0
fi
PYTHON="${PYTHON:-python3}"
[ -x .venv-checkov/bin/python ] || "$PYTHON" -m venv .venv-checkov
.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
stamp_of > "$STAMP"
echo "setup: checkov $(.venv-checkov/bin/checkov --version) in .venv-checkov"
