"""Notebook 06 (issue 13, part 8) runs headless on the demo store: it holds a case's reads, exports them and
the package verifies; it is an analyst's notebook (one login, no checks, no store internals)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_lib.evidence import verify_package
from alpr_lib.store.store import Store
from tests.analysis.test_notebooks import assert_analyst_notebook, assert_readable_outputs, output_texts
from tests.conftest import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "06_case_evidence.ipynb"


@pytest.mark.notebook
def test_notebook_06_holds_exports_and_verifies(demo_env, demo_store, tmp_path):
    demo_env("analyst")
    copy = tmp_path / NOTEBOOK.name
    copy.write_bytes(NOTEBOOK.read_bytes())
    audit = Store.open(demo_store.path).audit
    before = len(audit.rows())
    executed = run_notebook(copy)
    assert_readable_outputs(executed)
    text = "".join("".join(output_texts(c)) for c in executed.cells if c.cell_type == "code")
    assert "intact" in text and "NOT INTACT" not in text
    packages = [p for p in (tmp_path / "evidence").iterdir()]
    assert len(packages) == 1 and verify_package(packages[0]).ok
    actions = {r["action"] for r in audit.rows()[before:] if r["username"] == "analyst"}
    assert {"holds.add", "evidence.export", "evidence.verify"} <= actions


def test_notebook_06_is_an_analysts_notebook():
    assert_analyst_notebook(NOTEBOOK)
