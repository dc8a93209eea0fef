"""The trainer dashboard (dashboards/training.ipynb): kernel-side, and in Voila in headless Chromium, a trainer
signs off a trainee who passed; a non-trainer sees no sign-off button and a direct call is refused (audited);
the page asks no host but its own server."""

from __future__ import annotations

import os

import pytest

import alpr_lib as alpr
from alpr_lib.viz.dashboard import Dashboard
from alpr_lib.viz.training_dashboard import build
from tests.dashboards import assert_no_traceback, log_in, voila_dashboard
from tests.jupyterlab import needs_chromium, watched_page
from tests.training.helpers import answer_all


@pytest.fixture
def passed(kit):
    answer_all(kit.login("trainee"))
    return kit


def _classes(widget) -> set[str]:
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= _classes(child)
    return found


def test_the_view_shows_the_roster_and_only_trainers_get_the_sign_off(passed):
    kit = passed
    trainer = Dashboard("Training", build, store=kit.path)
    trainer.form.submit("trainer", kit.passwords["trainer"])
    view = trainer.body.children[0]
    assert {"alpr-training-roster", "alpr-training-refresher", "alpr-training-signoff"} <= _classes(view)
    roster = next(w for w in _walk(view) if "alpr-training-roster" in w._dom_classes).value
    assert "Trainee User" in roster and "trainee" in roster and "100%" in roster
    admin = Dashboard("Training", build, store=kit.path)
    admin.form.submit("admin", kit.passwords["admin"])
    assert "alpr-training-roster" in _classes(admin.body.children[0])
    assert "alpr-training-signoff" not in _classes(admin.body.children[0])
    analyst = Dashboard("Training", build, store=kit.path)
    analyst.form.submit("analyst", kit.passwords["analyst"])
    assert analyst.session is None and "may not see every user" in analyst.error_area.value


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


@pytest.mark.browser
@needs_chromium
def test_a_trainer_signs_off_in_the_browser_and_a_non_trainer_cannot(passed, tmp_path):
    kit = passed
    env = {"ALPR_STORE": str(kit.path), "HOME": os.environ["HOME"]}  # HOME: this test's audit system file
    with voila_dashboard("training.ipynb", env, tmp_path) as url:
        with watched_page(url) as (page, outside, _console):
            assert log_in(page, "trainer", kit.passwords["trainer"]) == "view"
            page.wait_for_selector(".alpr-training-roster table", timeout=60_000)
            assert "Trainee User" in page.locator(".alpr-training-roster").inner_text()
            page.select_option(".alpr-training-trainee select", label="trainee — Trainee User")
            page.click(".alpr-training-signoff button, button.alpr-training-signoff")
            page.wait_for_function(
                "() => document.querySelector('.alpr-notice').innerText.includes('issued to trainee')",
                timeout=30_000)
            assert_no_traceback(page)
            assert outside == [], outside
        with watched_page(url) as (page, outside, _console):
            assert log_in(page, "admin", kit.passwords["admin"]) == "view"
            page.wait_for_selector(".alpr-training-roster table", timeout=60_000)
            assert page.locator(".alpr-training-signoff").count() == 0
            assert "current" in page.locator(".alpr-training-roster").inner_text()
            assert outside == [], outside
    assert kit.login("trainee").search_plates("7AB*", purpose="stolen plates").height == 0  # certified now
    with pytest.raises(alpr.AccessDenied, match="may not sign off"):
        kit.login("admin").training.sign_off("trainee")
    records = kit.login("auditor").audit_records(action="training.sign_off")
    rows = [(r["username"], r["outcome"], r["client"]) for r in records.iter_rows(named=True)]
    assert ("trainer", "allowed", "dashboard") in rows and ("admin", "denied", "script") in rows, rows
