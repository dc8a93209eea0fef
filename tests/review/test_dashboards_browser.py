"""The command-overview, audit-review and compliance dashboards in Voila, driven in headless Chromium (issue 14,
items 5 and 6): a refused role reads a message, the right role logs in, a filter changes the view, no traceback
text appears anywhere, and the page asks no host but its own server. Screenshots go to the user guide
(``keep_for_docs``)."""

from __future__ import annotations

import pytest

from tests.dashboards import assert_no_traceback, log_in, voila_dashboard
from tests.jupyterlab import keep_for_docs, needs_chromium, watched_page

pytestmark = [pytest.mark.browser, needs_chromium]


def _env(demo_store) -> dict[str, str]:
    return {"ALPR_STORE": str(demo_store.path), "HOME": str(demo_store.home)}


def _shot(page, tmp_path, name: str, top: str = ".alpr-dashboard") -> None:
    """A screenshot of the view from ``top`` down (kept for the user guide)."""
    page.locator(top).first.scroll_into_view_if_needed()
    page.evaluate("(sel) => document.querySelector(sel).scrollIntoView({block: 'start'})", top)
    page.wait_for_timeout(500)
    path = tmp_path / name
    page.screenshot(path=str(path))
    keep_for_docs(path)


def test_command_overview(demo_store, tmp_path):
    with voila_dashboard("command_overview.ipynb", _env(demo_store), tmp_path) as url, \
            watched_page(url) as (page, outside, _console):
        message = log_in(page, "auditor", demo_store.passwords["auditor"])
        assert message != "view" and "may not" in message, message
        assert_no_traceback(page)
        assert log_in(page, "command", demo_store.passwords["command"]) == "view"
        page.wait_for_selector(".alpr-command-summary", timeout=60_000)
        assert "in the 30 days" in page.locator(".alpr-command-summary").inner_text()
        assert page.locator("svg.alpr-plot-per-day polyline").count() == 1
        assert page.locator("svg.alpr-camera-map circle").count() > 10
        page.locator(".alpr-command-period select").select_option(label="last 7 days")
        page.wait_for_function("() => document.querySelector('.alpr-command-summary').innerText"
                               ".includes('in the 7 days')", timeout=30_000)
        assert page.locator(".alpr-command-hits").count() == 1
        _shot(page, tmp_path, "command-overview.png")
        assert_no_traceback(page)
        assert outside == [], outside


def test_audit_review(demo_store, tmp_path):
    with voila_dashboard("audit_review.ipynb", _env(demo_store), tmp_path) as url, \
            watched_page(url) as (page, outside, _console):
        message = log_in(page, "analyst", demo_store.passwords["analyst"])
        assert message != "view" and "may not" in message, message
        assert log_in(page, "auditor", demo_store.passwords["auditor"]) == "view"
        page.wait_for_selector(".alpr-chain-status", timeout=60_000)
        assert "intact" in page.locator(".alpr-chain-status").inner_text()
        assert "repeated_plate" in page.locator(".alpr-flag-list").inner_text()
        page.locator(".alpr-audit-rule select").select_option(label="burst")
        page.wait_for_function("() => { const t = document.querySelector('.alpr-flag-list').innerText;"
                               " return t.includes('burst') && !t.includes('repeated_plate'); }", timeout=30_000)
        page.wait_for_selector(".alpr-flag-records tbody tr", timeout=30_000)
        assert page.locator(".alpr-flag-records tbody tr").count() > 30  # the planted burst's records
        page.fill(".alpr-finding input", "night shift burst was a CLETS list check; no misuse")
        page.click("button.alpr-mark-reviewed")
        page.wait_for_function("() => document.body.innerText.includes('marked reviewed')", timeout=30_000)
        page.wait_for_selector(".alpr-flag-reviewed", timeout=30_000)
        assert "note=investigation" in page.locator(".alpr-flag-records").inner_text()
        _shot(page, tmp_path, "audit-review.png")
        page.fill(".alpr-lookup-plate input", "8DPR224")
        page.click("button.alpr-lookup-button")
        page.wait_for_selector(".alpr-lookup-table", timeout=30_000)
        assert "reads.history" in page.locator(".alpr-lookup-table").inner_text()
        assert_no_traceback(page)
        assert outside == [], outside


def test_compliance(demo_store, tmp_path):
    with voila_dashboard("compliance.ipynb", _env(demo_store), tmp_path) as url, \
            watched_page(url) as (page, outside, _console):
        message = log_in(page, "command", demo_store.passwords["command"])
        assert message != "view" and "may not" in message, message
        assert log_in(page, "auditor", demo_store.passwords["auditor"]) == "view"
        page.wait_for_selector(".alpr-compliance-user-table", timeout=60_000)
        table = page.locator(".alpr-compliance-users")
        assert "pdoyle" in table.inner_text() and "analyst" in table.inner_text()
        page.locator(".alpr-compliance-filter button", has_text="only accounts needing action").click()
        page.wait_for_function("() => !document.querySelector('.alpr-compliance-users').innerText"
                               ".includes('Dana Reyes')", timeout=30_000)
        assert "pdoyle" in table.inner_text()
        assert page.locator(".alpr-compliance-retention").count() == 1
        _shot(page, tmp_path, "compliance.png")
        assert_no_traceback(page)
        assert outside == [], outside


def test_admin_sees_compliance(demo_store, tmp_path):
    with voila_dashboard("compliance.ipynb", _env(demo_store), tmp_path) as url, \
            watched_page(url) as (page, outside, _console):
        assert log_in(page, "admin", demo_store.passwords["admin"]) == "view"
        page.wait_for_selector(".alpr-compliance-user-table", timeout=60_000)
        assert_no_traceback(page)
        assert outside == [], outside
