"""Every analyst notebook runs unchanged against the API service (``ALPR_SERVER`` set, no store in the kernel's
environment), finds the same planted answers as embedded, and is audited as ``api:notebook``."""

from __future__ import annotations

import pytest

from alpr_lib.store.store import Store
from tests.analysis.test_notebooks import ACTIONS, CHECKS, NOTEBOOKS, assert_readable_outputs, executed_with_checks
from tests.notebooks.test_notebook_01 import CHECK as CHECK_01

ALL = {**CHECKS, "01_partial_plate_search": CHECK_01}
EXPECTED = {**ACTIONS, "01_partial_plate_search": {"incidents.list", "reads.search", "reads.history"}}


@pytest.fixture(scope="module")
def remote_demo(demo_store, tmp_path_factory):
    """The service on the demo store, for the module's notebooks."""
    from tests.server.conftest import api_service

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(demo_store.home))
        with api_service(demo_store.path, tmp_path_factory.mktemp("serve") / "serve.log") as url:
            yield url


@pytest.mark.notebook
@pytest.mark.parametrize("name", sorted(ALL))
def test_notebook_runs_unchanged_against_the_service(remote_demo, demo_env, demo_store, monkeypatch, name,
                                                     tmp_path):
    demo_env("analyst")
    monkeypatch.delenv("ALPR_STORE")  # the kernel knows only the service's address
    monkeypatch.setenv("ALPR_SERVER", remote_demo)
    audit = Store.open(demo_store.path).audit
    before = len(audit.rows())
    executed = executed_with_checks(NOTEBOOKS / f"{name}.ipynb", ALL[name], tmp_path)
    assert_readable_outputs(executed)
    mine = [r for r in audit.rows()[before:] if r["username"] == "analyst"]
    assert mine[0]["action"] == "login" and mine[0]["client"] == "api:notebook"
    assert EXPECTED[name] <= {r["action"] for r in mine}
    assert all(r["client"] == "api:notebook" and r["outcome"] == "allowed" for r in mine)


@pytest.mark.notebook
def test_uncertified_trainee_is_refused_in_one_line_through_the_service(remote_demo, demo_env, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    from tests.conftest import run_notebook

    demo_env("trainee")
    monkeypatch.delenv("ALPR_STORE")
    monkeypatch.setenv("ALPR_SERVER", remote_demo)
    with pytest.raises(CellExecutionError, match="AccessDenied") as refused:
        run_notebook(NOTEBOOKS / "02_incident_canvass.ipynb")
    assert "Traceback" not in str(refused.value) and "certif" in str(refused.value)
