"""A writer killed at every fault point of ingest, merges and compaction leaves data and audit records that
agree: every stored read was stored by an ingest the audit log records, and no record claims reads the store
does not hold (issue 10, item 5). Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.faults import POINTS
from alpr_lib.store.store import Store
from tests.conftest import random_reads


@pytest.fixture
def kit(any_kit):
    return any_kit


def _run_killed(kit, point: str, body: str) -> None:
    """Run ``body`` (with ``s``, the ingest service's session) in a child process that dies at ``point``."""
    script = textwrap.dedent(f"""
        import alpr_lib as alpr
        s = alpr.login("ingest", {kit.passwords['ingest']!r}, {str(kit.path)!r})
    """) + textwrap.dedent(body)
    env = dict(os.environ, ALPR_FAULT_INJECT=point)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 70, f"the writer did not reach {point}: {proc.stderr[-2000:]}"


def _agreement(kit) -> tuple[int, int]:
    """(reads the store holds, reads the audit log says were ingested)."""
    store = Store.open(kit.path)
    try:
        records = store.audit.rows(AuditFilter(action="reads.ingest", outcome="allowed"))
        claimed = sum(r["result_count"] or 0 for r in records)
    finally:
        store.close()
    return kit.login("admin").store_summary()["reads"], claimed


def _check_after_crash(kit) -> None:
    store = Store.open(kit.path)
    result = store.audit.verify()
    store.close()
    assert not result.tampered, str(result)  # a crash may leave the last record unvouched, never "tampered"
    held, claimed = _agreement(kit)
    assert held == claimed, f"the store holds {held} reads but the audit log records {claimed} ingested"
    kit.login("analyst").search_plates("*ABK*", purpose="stolen plates")  # the next action heals the tail
    store = Store.open(kit.path)
    assert store.audit.verify().ok, str(store.audit.verify())
    store.close()


@pytest.mark.parametrize("point", [p for p in POINTS if p.startswith("ingest:")])
def test_a_killed_ingest_leaves_data_and_audit_agreeing(kit, tmp_path, point):
    kit.login("ingest").ingest_reads(random_reads(300, seed=1), progress=False)
    batch = tmp_path / "batch.parquet"
    random_reads(400, seed=2, prefix="K").write_parquet(batch)
    _run_killed(kit, point, f"s.ingest_reads({str(batch)!r}, progress=False)")
    held, _ = _agreement(kit)
    assert held in (300, 700)
    assert held == (700 if point in ("ingest:after-commit",) else 300)  # in the transaction: all or nothing
    _check_after_crash(kit)
    again = kit.login("ingest").ingest_reads(batch, progress=False)  # a retry adds exactly what is missing
    assert kit.login("admin").store_summary()["reads"] == 700
    assert again.ingested + again.duplicates in (400, 0)
    assert _agreement(kit)[0] == _agreement(kit)[1]


@pytest.mark.parametrize("point", [p for p in POINTS if p.startswith("merge:")])
def test_a_writer_killed_while_merging_small_files_loses_nothing(kit, tmp_path, point):
    svc = kit.login("ingest")
    for seed in (1, 2, 3):  # three small files in each day partition; the fourth ingest merges them
        svc.ingest_reads(random_reads(100, seed=seed, prefix=f"M{seed}"), progress=False)
    batch = tmp_path / "fourth.parquet"
    random_reads(100, seed=4, prefix="M4").write_parquet(batch)
    _run_killed(kit, point, f"s.ingest_reads({str(batch)!r}, progress=False)")
    assert _agreement(kit)[0] == 400  # the batch committed before the merge began
    _check_after_crash(kit)


@pytest.mark.parametrize("point", [p for p in POINTS if p.startswith("compact:")])
def test_a_killed_compaction_changes_no_read(kit, point):
    svc = kit.login("ingest")
    for seed in (1, 2):
        svc.ingest_reads(random_reads(150, seed=seed, prefix=f"C{seed}"), progress=False)
    analyst = kit.login("analyst")
    held_before = _agreement(kit)[0]
    sample = analyst.search_plates("*ABK*", purpose="stolen plates").sort("read_id")
    admin_password = kit.passwords["admin"]
    _run_killed(kit, point, f"""
        a = alpr.login("admin", {admin_password!r}, {str(kit.path)!r})
        a.compact_store(progress=False)
    """)
    assert _agreement(kit)[0] == held_before
    analyst = kit.login("analyst")
    assert analyst.search_plates("*ABK*", purpose="stolen plates").sort("read_id").equals(sample)
    _check_after_crash(kit)
    store = Store.open(kit.path)
    compactions = store.audit.rows(AuditFilter(action="store.compact"))
    store.close()
    assert compactions == []  # killed before it finished: no record claims a compaction took place
