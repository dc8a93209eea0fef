"""The alerts dashboard: in the kernel (the view's callbacks) and in Voila with headless Chromium (login, a new
alert appears after a file is dropped into the watched folder, verifying it changes the store and the audit
log, and the page asks no host but its own server)."""

from __future__ import annotations

import os
import threading

import pytest

from alpr_lib.records import alerts as alert_rows
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from alpr_lib.viz.alerts_dashboard import AlertsView, build
from alpr_lib.viz.dashboard import Dashboard
from alpr_lib.watch import watch_folder
from tests.dashboards import assert_no_traceback, log_in, voila_dashboard
from tests.hotlists.conftest import reads, recent
from tests.jupyterlab import needs_chromium, watched_page


def _alert(kit, alert_id):
    store = Store.open(kit.path)
    try:
        return alert_rows.get(store.db, alert_id)
    finally:
        store.close()


def test_the_view_lists_verifies_and_rejects(hot):
    hot.login("ingest").ingest_reads(reads([("7ABC123", "CA", "CAM1", recent()), ("5SAM781", "NV", "CAM2", recent(1))]),
                                     progress=False)
    dash = Dashboard("Alerts", lambda s, d: None, store=hot.path)
    view = AlertsView(hot.login("operator"), dash)
    assert "2 new alerts" in view.count.value and "5SAM781" in view.table.value and "alpr-alerts-map" in view.map.value
    first = view.select.value  # the AMBER alert comes first
    assert _alert(hot, first)["category"] == "AMBER"
    dash.guard(view.verify)()  # no CLETS reference
    assert "clets_ref is required" in dash.error_area.value
    view.clets.value = "CLETS-55"
    dash.guard(view.verify)()
    assert _alert(hot, first)["status"] == "verified" and "1 new alert" in view.count.value
    view.reason.value = "misread"
    dash.guard(view.reject)()
    assert "0 new alerts" in view.count.value
    store = Store.open(hot.path)
    assert {r["status"] for r in alert_rows.rows(store.db)} == {"verified", "rejected"}
    store.close()


def test_a_user_without_alert_access_is_refused(hot):
    dash = Dashboard("Alerts", build, store=hot.path)
    dash.form.submit("analyst", hot.passwords["analyst"])
    assert dash.session is None and "may not" in dash.error_area.value


@pytest.mark.browser
@needs_chromium
def test_alerts_dashboard_in_voila(hot, tmp_path):
    drops = tmp_path / "drops"
    drops.mkdir()
    env = {"ALPR_STORE": str(hot.path), "HOME": os.environ["HOME"]}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_folder, args=(hot.login("operator"), drops),
                               kwargs={"poll_s": 0.2, "stop": stop.is_set}, daemon=True)
    try:
        with voila_dashboard("alerts.ipynb", env, tmp_path) as url, watched_page(url) as (page, outside, _console):
            assert log_in(page, "operator", hot.passwords["operator"]) == "view"
            page.wait_for_selector(".alpr-alerts-count-n[data-count='0']", timeout=60_000)
            watcher.start()
            part = drops / "unit7.csv.part"
            reads([("7ABC123", "CA", "CAM1", recent())], prefix="V").write_csv(part)
            os.replace(part, drops / "unit7.csv")  # dropped by rename, as units do
            page.wait_for_selector(".alpr-alerts-count-n[data-count='1']", timeout=60_000)  # no reload
            row = page.locator("tr.alpr-alert-row")
            assert "7ABC123" in row.inner_text() and "exact" in row.inner_text()
            alert_id = row.get_attribute("data-alert-id")
            page.fill(".alpr-clets-ref input", "CLETS-BROWSER-1")
            page.click(".alpr-verify")
            page.wait_for_function("() => document.querySelector('.alpr-notice').innerText.includes('verified')",
                                   timeout=30_000)
            page.wait_for_selector(".alpr-alerts-count-n[data-count='0']", timeout=30_000)
            assert_no_traceback(page)
            assert outside == [], outside
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join(30)
    alert = _alert(hot, alert_id)
    assert alert["status"] == "verified" and alert["clets_ref"] == "CLETS-BROWSER-1"
    assert alert["verified_by"] == "operator"
    store = Store.open(hot.path)
    try:
        records = store.audit.rows(AuditFilter(action="alerts.verify", outcome="allowed"))
    finally:
        store.close()
    assert [(r["username"], r["client"]) for r in records] == [("operator", "dashboard")]
    assert alert_id in records[0]["query"] and "CLETS-BROWSER-1" in records[0]["query"]
