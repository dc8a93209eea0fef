#!/usr/bin/env bash
# Refresh the user guide's screenshots (docs/images) from the browser tests, which drive real headless Chromium
# on the demo store. Run by hand after a change to what analysts see; the suite alone keeps its screenshots in
# its temporary directories.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
ALPR_SCREENSHOTS="$PWD/docs/images" .venv/bin/python -m pytest -p no:cacheprovider -q \
  tests/analysis/test_browser.py tests/notebooks/test_browser_search_form.py tests/notebooks/test_browser_display.py \
  tests/review/test_dashboards_browser.py
