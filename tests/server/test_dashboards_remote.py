"""Every Voila dashboard runs unchanged against the API service (``ALPR_SERVER`` set; the kernel's
``ALPR_STORE`` names no store at all): the right role logs in and gets the view, nothing shows a traceback,
the page asks no other host, and the service audits the view's calls as ``api:dashboard``."""

from __future__ import annotations

import time

import pytest

from alpr_lib.store.store import Store
from tests.dashboards import DASHBOARDS, assert_no_traceback, log_in, voila_dashboard
from tests.jupyterlab import needs_chromium, watched_page

pytestmark = [pytest.mark.browser, needs_chromium]

#: who sees each dashboard's view (a dashboard added later is opened by the administrator)
VIEWER = {"alerts": "operator", "audit_review": "auditor", "command_overview": "command", "compliance": "auditor",
          "training": "trainer"}
NAMES = sorted(p.stem for p in DASHBOARDS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def remote_demo(demo_store, tmp_path_factory):
    from tests.server.conftest import api_service

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(demo_store.home))
        with api_service(demo_store.path, tmp_path_factory.mktemp("serve") / "serve.log") as url:
            yield url


@pytest.mark.parametrize("name", NAMES)
def test_dashboard_runs_unchanged_against_the_service(remote_demo, demo_store, name, tmp_path):
    user = VIEWER.get(name, "admin")
    env = {"ALPR_STORE": str(tmp_path / "no-store-here"), "HOME": str(tmp_path), "ALPR_SERVER": remote_demo}
    audit = Store.open(demo_store.path).audit
    before = len(audit.rows())
    with voila_dashboard(f"{name}.ipynb", env, tmp_path) as url, watched_page(url) as (page, outside, _console):
        assert log_in(page, user, demo_store.passwords[user]) == "view"
        time.sleep(3)  # the view's first refresh
        assert_no_traceback(page)
        errors = " ".join(t.strip() for t in page.locator(".alpr-error").all_inner_texts() if t.strip())
        assert not errors, errors
        assert outside == [], outside
    mine = [r for r in audit.rows()[before:] if r["username"] == user]
    assert mine and mine[0]["action"] == "login" and all(r["client"] == "api:dashboard" for r in mine), mine[:3]
    assert all(r["outcome"] == "allowed" for r in mine), [(r["action"], r["reason"]) for r in mine]
