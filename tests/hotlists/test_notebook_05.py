"""Notebook 05 runs headless as the demo supervisor, twice (re-runnable), audited; it finds the planted suspect
of the partial-plate scenario by re-running the new entry over history."""

from __future__ import annotations

from pathlib import Path

import pytest

from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.analysis.test_notebooks import assert_readable_outputs, executed_with_checks

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05_hotlists_and_alerts.ipynb"

CHECK = '''
from alpr_lib.samples import planted_scenarios

key = planted_scenarios()["partial_plate"]
assert key["suspect_plate"] in set(hits["plate"]), hits
assert set(key["confusable_plates_in_window"]) <= set(hits["plate"]), hits
assert report.rejected == 0 and report.imported == 1
assert alerts.height >= 1 and {"5SAM781", "8DPR224"} & set(alerts["plate"])  # planted reads after listing
assert figures["hits"] >= alerts.height
print("planted answers found")
'''


@pytest.mark.notebook
def test_notebook_05_as_the_demo_supervisor(demo_env, demo_store, tmp_path):
    demo_env("supervisor")
    for run in range(2):
        executed = executed_with_checks(NOTEBOOK, CHECK, tmp_path / str(run))
        assert_readable_outputs(executed)
    store = Store.open(demo_store.path)
    try:
        reruns = store.audit.rows(AuditFilter(action="hotlists.rerun", outcome="allowed"))
        imports = store.audit.rows(AuditFilter(action="hotlists.import", outcome="allowed"))
    finally:
        store.close()
    assert len(reruns) >= 2 and all(r["case_number"] == "26-005120" for r in reruns[-2:])
    assert [r["username"] for r in imports[-2:]] == ["supervisor", "supervisor"]
