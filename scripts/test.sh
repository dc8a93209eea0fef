#!/usr/bin/env bash
# Set up and run every check: ruff, then the whole pytest suite (notebooks and the headless browser included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/python -m pytest -p no:cacheprovider "$@"
