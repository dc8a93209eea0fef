"""Notebook 01 in JupyterLab in headless Chromium: the search form renders, a click searches, and a refused
search shows one plain message in the form (never a traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.jupyterlab import keep_for_docs, jupyterlab, needs_chromium, notebook_page, run_all

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_partial_plate_search.ipynb"

pytestmark = [pytest.mark.browser, needs_chromium]


def test_search_form_clicks_search_and_reports_refusals(demo_env, demo_store, tmp_path):
    with jupyterlab(NOTEBOOK, demo_env("analyst"), tmp_path) as (base, token, work), \
            notebook_page(base, token, NOTEBOOK.name) as (page, _blocked):
        run_all(page)
        page.wait_for_function("() => document.body.innerText.includes('7ABK123')",
                               timeout=180_000)
        before = len(Store.open(demo_store.path).audit.rows(AuditFilter(action='reads.search')))
        page.locator(".alpr-search-button").first.click()
        message = page.locator(".alpr-message").first
        page.wait_for_function("() => document.querySelector('.alpr-message').innerText.includes('reads of')",
                               timeout=60_000)
        assert "exact matches first" in message.inner_text()
        page.wait_for_function(  # the results table (an itables widget) renders once its data arrive
            "() => document.querySelector('.alpr-results').innerText.includes('7ABK123')", timeout=60_000)
        case = page.locator(".alpr-case input").first
        case.fill("")
        page.locator(".alpr-search-button").first.click()
        page.wait_for_function("() => document.querySelector('.alpr-message').innerText.includes('case number')",
                               timeout=60_000)
        assert "Traceback" not in message.inner_text()
        page.screenshot(path=str(work / "search-form.png"))
        keep_for_docs(work / "search-form.png")
    rows = Store.open(demo_store.path).audit.rows(AuditFilter(action='reads.search'))[before:]
    assert [r["outcome"] for r in rows] == ["allowed", "denied"]
    assert rows[0]["client"] == "notebook" and rows[1]["purpose"] == "criminal investigation"
