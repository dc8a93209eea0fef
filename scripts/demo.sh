#!/usr/bin/env bash
# Set up, build the demo store (once) and open JupyterLab on the analyst notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
store="${ALPR_STORE:-$PWD/demo-store}"
if [ ! -f "$store/store.toml" ]; then
  .venv/bin/alpr demo --store "$store" --credentials-json "$PWD/demo-credentials.json"
else
  echo "using the existing demo store $store (credentials in demo-credentials.json)"
fi
exec .venv/bin/alpr lab --store "$store" "$@"
