"""Notebook 02 opened in JupyterLab in a real headless Chromium: run all, the kepler map canvas draws.

Every request that is not to the loopback JupyterLab server is aborted, so the map must draw its data layers
(and the sample road network) with no basemap tiles from the internet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jupyterlab import jupyterlab, keep_for_docs, needs_chromium, notebook_page, run_all

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_incident_canvass.ipynb"

pytestmark = [pytest.mark.browser, needs_chromium]


def test_canvass_notebook_draws_the_kepler_map_in_jupyterlab(demo_env, tmp_path):
    with jupyterlab(NOTEBOOK, demo_env("analyst"), tmp_path) as (base, token, work), \
            notebook_page(base, token, NOTEBOOK.name) as (page, blocked):
        run_all(page)
        page.wait_for_selector(".alpr-canvass .alpr-canvass-run", timeout=120_000)
        page.wait_for_function("() => document.body.innerText.includes('8MKT417')", timeout=180_000)
        canvas = page.locator(".jp-OutputArea-output canvas")
        canvas.first.wait_for(state="attached", timeout=120_000)
        box = canvas.first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200
        assert "Error" not in str(page.locator(".jp-OutputArea-output.jp-mod-error").all_inner_texts())
        canvas.first.scroll_into_view_if_needed()
        page.wait_for_timeout(3000)
        page.screenshot(path=str(work / "kepler.png"))  # kept in the test's tmp dir for a human to look at
        keep_for_docs(work / "kepler.png")
    assert not [u for u in blocked if "127.0.0.1" in u]
