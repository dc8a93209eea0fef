"""A purge killed at every named point (issue 13, part 7): no held or young read is lost, every search sees
the store either before or after the purge, the audit log is never "tampered", and re-running the purge
completes it: afterwards nothing of a purged read remains in any Parquet or image file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import polars as pl
import pytest

from alpr_lib.records import manifest
from alpr_lib.store.faults import POINTS
from alpr_lib.store.schema import READ_SCHEMA
from alpr_lib.store.store import Store
from tests.records_mgmt.helpers import (
    HELD_PLATE,
    INVESTIGATION,
    PNG,
    dictionary_plates,
    image_names,
    old,
    parquet_read_ids,
    straddling_reads,
    young,
)


def _live(kit) -> pl.DataFrame:
    store = Store.open(kit.path)
    try:
        return pl.read_parquet([store.path / p for p in manifest.live_paths(store.db, "reads")]) \
            .select(list(READ_SCHEMA)).sort("read_id")
    finally:
        store.close()


def _searches_agree(kit, live: pl.DataFrame, plates: list[str]) -> None:
    """Plate history (dictionary + bucket copy) returns exactly the live day files' reads of each plate."""
    analyst = kit.login("analyst")
    for plate in plates:
        found = set(analyst.plate_history(plate, purpose="stolen plates")["read_id"])
        assert found == set(live.filter(pl.col("plate") == plate)["read_id"]), plate


@pytest.mark.parametrize("point", [p for p in POINTS if p.startswith("purge:")])
def test_a_killed_purge_loses_nothing_and_completes_when_run_again(kit, point):
    reads = straddling_reads()
    images = {rid: PNG for rid in reads["read_id"].to_list()[::2]}
    kit.login("ingest").ingest_reads(reads, images=images, progress=False)
    kit.login("analyst").holds.add("plate of interest", plate=HELD_PLATE, **INVESTIGATION)
    held = set(reads.filter(pl.col("plate") == HELD_PLATE)["read_id"])
    must_stay = set(young(reads)["read_id"]) | held
    gone = set(old(reads)["read_id"]) - held
    plates = [*sorted(set(reads["plate"].to_list()))[:40], HELD_PLATE]

    script = textwrap.dedent(f"""
        import alpr_lib as alpr
        s = alpr.login("admin", {kit.passwords['admin']!r}, {str(kit.path)!r})
        s.retention.purge(progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, ALPR_FAULT_INJECT=point),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 70, f"the purge did not reach {point}: {proc.stderr[-2000:]}"

    live = _live(kit)
    assert must_stay <= set(live["read_id"]), "a held or young read was lost"
    committed = point in ("purge:after-commit", "purge:after-files-deleted")
    assert set(live["read_id"]).isdisjoint(gone) if committed else gone <= set(live["read_id"])
    _searches_agree(kit, live, plates)
    store = Store.open(kit.path)
    assert not store.audit.verify().tampered
    store.close()

    again = kit.login("admin").retention.purge(progress=False)
    assert again.reads_deleted == (0 if committed else len(gone))
    live = _live(kit)
    assert must_stay <= set(live["read_id"]) and set(live["read_id"]).isdisjoint(gone)
    assert parquet_read_ids(kit.path).isdisjoint(gone)
    assert image_names(kit.path).isdisjoint(gone)
    assert dictionary_plates(kit.path) == {r["plate"]: r["len"] for r in live.group_by("plate").len().iter_rows(
        named=True)}
    _searches_agree(kit, live, plates)
    store = Store.open(kit.path)
    try:
        assert store.audit.verify().ok, str(store.audit.verify())
    finally:
        store.close()
