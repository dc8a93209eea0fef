"""The shared dashboard frame (alpr_lib/viz/dashboard.py) in a real Voila page in headless Chromium.

A probe dashboard written by the test logs in, shows a count from an audited action, refreshes itself every
second and has a button whose callback fails: the tests log in with a wrong password, as a role the door
refuses, and as one it serves, and check the messages, the live refresh, the audit records the dashboard's
own accesses left (client "dashboard"), logging out, and that no page ever shows a traceback or asks any host
but the Voila server. ``alpr dashboards`` is checked to serve the repository's dashboards the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

import alpr_lib as alpr
from alpr_lib.viz.dashboard import Dashboard, LoginForm
from tests.dashboards import assert_no_traceback, log_in, voila_dashboard
from tests.jupyterlab import needs_chromium, watched_page

PROBE = '''
import ipywidgets as w
from alpr_lib.errors import ValidationError
from alpr_lib.viz.dashboard import Dashboard

ticks = {"n": 0}

def build(session, dash):
    summary = session.store_info.summary()
    session.audit.records(limit=1)              # auditors only: anyone else is refused by the door
    count = w.HTML(f"<p class='probe-reads'>reads: {summary['reads']}</p>")
    tick = w.HTML("<p class='probe-tick'>tick 0</p>")
    def refresh():
        ticks["n"] += 1
        tick.value = f"<p class='probe-tick'>tick {ticks['n']}</p>"
    dash.every(1, refresh)
    fail = w.Button(description="Fail")
    fail.add_class("probe-fail")
    def boom(_button):
        raise ValidationError("the probe refuses this on purpose")
    fail.on_click(dash.guard(boom))
    return w.VBox([count, tick, fail])

Dashboard("Probe", build).show()
'''


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    folder = tmp_path / "probe"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(notebook, path)
    return path


def _env(demo_store) -> dict[str, str]:
    return {"ALPR_STORE": str(demo_store.path), "HOME": str(demo_store.home)}


def _records(demo_store, monkeypatch, **filters) -> list[dict]:
    monkeypatch.setenv("HOME", str(demo_store.home))
    s = alpr.login("auditor", demo_store.passwords["auditor"], demo_store.path, client="script")
    try:
        return s.audit.records(**filters).to_dicts()
    finally:
        s.logout()


def test_login_form_hands_credentials_over_once_and_keeps_no_password():
    seen: list[tuple[str, str]] = []
    form = LoginForm(lambda user, password: seen.append((user, password)))
    form.submit("analyst", "s3cret-Passw0rd")
    assert seen == [("analyst", "s3cret-Passw0rd")]
    state = json.dumps(form.get_state(), default=str)
    assert "s3cret" not in state  # the password is never a synced trait


def test_a_refused_build_shows_the_message_and_keeps_the_form(demo_store, monkeypatch):
    monkeypatch.setenv("HOME", str(demo_store.home))

    def build(session, dash):
        session.audit.records(limit=1)
        raise AssertionError("an analyst must not get here")

    dash = Dashboard("Probe", build, store=demo_store.path)
    dash.form.submit("analyst", demo_store.passwords["analyst"])
    assert dash.session is None and dash.body.children == (dash.form,)
    assert "audit" in dash.error_area.value.lower() and dash.error_area.layout.display == "block"
    dash.form.submit("analyst", "wrong password")
    assert "password" in dash.error_area.value.lower()
    dash.form.submit("", "")
    assert "Enter your username" in dash.error_area.value


@pytest.mark.browser
@needs_chromium
def test_probe_dashboard_in_voila(probe, demo_store, tmp_path, monkeypatch):
    before = _records(demo_store, monkeypatch)[-1]["seq"] if _records(demo_store, monkeypatch) else 0
    with voila_dashboard(probe, _env(demo_store), tmp_path) as url, watched_page(url) as (page, outside, _c):
        assert log_in(page, "auditor", "not the password").lower().count("password") >= 1
        assert_no_traceback(page)
        message = log_in(page, "analyst", demo_store.passwords["analyst"])
        assert message != "view" and "audit" in message.lower(), message
        assert_no_traceback(page)
        assert log_in(page, "auditor", demo_store.passwords["auditor"]) == "view"
        page.wait_for_selector(".probe-reads", timeout=30_000)
        assert "Signed in as auditor" in page.locator(".alpr-signed-in").inner_text()
        page.wait_for_function("() => /tick [2-9]/.test(document.querySelector('.probe-tick').innerText)",
                               timeout=30_000)  # the view refreshes itself, no reload
        page.click(".probe-fail button, button.probe-fail")
        page.wait_for_function("() => document.querySelector('.alpr-error').innerText.includes('on purpose')",
                               timeout=20_000)
        assert_no_traceback(page)
        page.click("button.alpr-logout")
        page.wait_for_selector("input.alpr-login-user", timeout=20_000)
        assert outside == [], outside
    records = [r for r in _records(demo_store, monkeypatch) if r["seq"] > before]
    dashboard = [r for r in records if r["client"] == "dashboard"]
    outcomes = {(r["username"], r["action"], r["outcome"]) for r in dashboard}
    assert ("analyst", "audit.read", "denied") in outcomes, outcomes
    assert ("auditor", "store.summary", "allowed") in outcomes, outcomes
    assert any(r["action"] == "logout" and r["username"] == "auditor" for r in dashboard), outcomes


def test_alpr_dashboards_serves_the_folder(probe, demo_store, tmp_path):
    """``alpr dashboards`` is the same Voila (one listing, each dashboard under /voila/render/)."""
    import os
    import sys
    import urllib.request

    from tests.jupyterlab import _free_port, served

    port = _free_port()
    alpr_cli = Path(sys.executable).with_name("alpr")
    env = {**os.environ, "HOME": str(demo_store.home), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    command = [str(alpr_cli), "dashboards", "--store", str(demo_store.path), "--port", str(port),
               "--dashboards", str(probe.parent)]
    with served(command, port=port, cwd=tmp_path, env=env, log_path=tmp_path / "dash.log", what="alpr dashboards"):
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).status == 200  # the listing
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/render/probe.ipynb", timeout=60).read().decode()
        assert "cdn.jsdelivr.net" not in page  # the offline template


def test_alpr_dashboards_refuses_a_missing_store(tmp_path):
    from click.testing import CliRunner

    from alpr_lib.cli.main import cli

    result = CliRunner().invoke(cli, ["dashboards", "--store", str(tmp_path / "nowhere")])
    assert result.exit_code != 0 and "Traceback" not in result.output
