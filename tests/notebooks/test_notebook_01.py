"""The partial-plate search notebook runs top to bottom on the demo store, twice, and is audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.conftest import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_partial_plate_search.ipynb"


@pytest.mark.notebook
def test_partial_plate_notebook_finds_the_planted_suspect(demo_env, demo_store):
    demo_env("analyst")
    before = Store.open(demo_store.path).audit.rows(AuditFilter(action='reads.search'))
    for _ in range(2):  # re-runnable on the same store
        executed = run_notebook(NOTEBOOK)
        text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
        assert "found the planted suspect 7ABK123 first" in text
    after = Store.open(demo_store.path).audit.rows(AuditFilter(action='reads.search'))
    new = after[len(before):]
    assert len(new) == 2 and all(r["client"] == "notebook" and r["case_number"] == "26-005120" for r in new)


@pytest.mark.notebook
def test_notebook_is_committed_without_outputs():
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in notebook.cells if c.cell_type == "code")


@pytest.mark.notebook
def test_uncertified_trainee_is_refused_in_the_notebook(demo_env):
    demo_env("trainee")
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError, match="AccessDenied"):
        run_notebook(NOTEBOOK)
