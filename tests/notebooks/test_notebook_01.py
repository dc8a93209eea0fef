"""The partial-plate search notebook runs top to bottom on the demo store, twice, is audited, and finds the planted
suspect (checked here, by a cell appended to the test's copy: the notebook itself holds no checks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.analysis.test_notebooks import assert_analyst_notebook, assert_readable_outputs, executed_with_checks
from tests.conftest import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_partial_plate_search.ipynb"

CHECK = '''
import polars as pl
from alpr_lib.samples import planted_scenarios

key = planted_scenarios()["partial_plate"]
assert (case_number, pattern) == (key["case_number"], key["pattern"]), (case_number, pattern)
assert case["offense_type"][0] == "hit and run" and pattern.rstrip("*") in case["summary"][0]  # what the witness saw
assert candidates["plate"][0] == key["suspect_plate"] == best, candidates  # the suspect first
assert set(history["read_id"]) >= set(hits.filter(pl.col("plate") == best)["read_id"])
found = set(candidates.filter(pl.col("match") == "confusable")["plate"])
assert set(key["confusable_plates_in_window"]) <= found, found  # the OCR-confused reads of it
assert not set(key["exact_plates_outside_window"]) & set(candidates["plate"]), "a plate outside the dates"
assert not set(key["non_matching_plates"]) & set(candidates["plate"]), "a plate that does not match"
print("planted answers found")
'''


@pytest.mark.notebook
def test_partial_plate_notebook_finds_the_planted_suspect(demo_env, demo_store, tmp_path):
    demo_env("analyst")
    before = Store.open(demo_store.path).audit.rows(AuditFilter(action='reads.search'))
    for run in range(2):  # re-runnable on the same store
        executed = executed_with_checks(NOTEBOOK, CHECK, tmp_path / str(run))
        assert_readable_outputs(executed)
    after = Store.open(demo_store.path).audit.rows(AuditFilter(action='reads.search'))
    new = after[len(before):]
    assert len(new) == 2 and all(r["client"] == "notebook" and r["case_number"] == "26-005120" for r in new)


@pytest.mark.notebook
def test_notebook_is_an_analysts_notebook():
    assert_analyst_notebook(NOTEBOOK)


@pytest.mark.notebook
def test_uncertified_trainee_is_refused_in_the_notebook(demo_env):
    from nbclient.exceptions import CellExecutionError

    demo_env("trainee")
    with pytest.raises(CellExecutionError, match="AccessDenied") as refused:
        run_notebook(NOTEBOOK)
    assert "Traceback" not in str(refused.value)
