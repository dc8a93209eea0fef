#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the project with the given extras (default: test).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-test}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
# The repository's Voila template (Voila's lab template without its CDN links; see voila.json): pip does not
# install data files of an editable package, so link it where Voila looks in this environment.
mkdir -p .venv/share/jupyter/voila/templates
ln -sfn "$PWD/share/jupyter/voila/templates/alpr" .venv/share/jupyter/voila/templates/alpr
