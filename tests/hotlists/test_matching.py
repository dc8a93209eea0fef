"""Matching at ingest (policy 462.2, 462.3(c)): exact, look-alike, wildcard, state flags, expiry; alerts commit
with the reads (a writer killed in the commit leaves neither); a re-run over history is audited as a search."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.hotlists.matcher import Matcher, canonical, confusable
from alpr_lib.store.store import Store
from tests.hotlists.conftest import reads, recent, sleep_past, write_list


def _alerts(kit) -> pl.DataFrame:
    return kit.login("operator").alerts.list(limit=1000)


def test_exact_lookalike_wildcard_and_state_flags(hot):
    hot.login("ingest").ingest_reads(reads([
        ("7ABC123", "CA", "CAM1", recent(0)),    # exact
        ("7A8C123", "CA", "CAM2", recent(1)),    # approximate: 8 for B
        ("7ABC123", "NV", "CAM3", recent(2)),    # exact, state mismatch
        ("8DPR224", None, "CAM1", recent(3)),    # exact, read without state
        ("6TRX981", "CA", "CAM1", recent(4)),    # wildcard 6TR?98*
        ("GTRX98", "CA", "CAM2", recent(5)),     # wildcard through a look-alike (G for 6)
        ("7ABC124", "CA", "CAM1", recent(6)),    # no match: 4 is not 3
        ("7ABC12", "CA", "CAM1", recent(7)),     # no match: shorter
    ]), progress=False)
    found = {(r["plate"], r["camera_id"]): r for r in _alerts(hot).iter_rows(named=True)}
    assert set(found) == {("7ABC123", "CAM1"), ("7A8C123", "CAM2"), ("7ABC123", "CAM3"), ("8DPR224", "CAM1"),
                          ("6TRX981", "CAM1"), ("GTRX98", "CAM2")}
    assert found[("7ABC123", "CAM1")]["match_kind"] == "exact" and found[("7ABC123", "CAM1")]["state_flag"] is None
    approx = found[("7A8C123", "CAM2")]
    assert approx["match_kind"] == "approximate" and approx["differing"] == "position 3: 8 read for B"
    assert approx["entry_plate"] == "7ABC123"
    assert found[("7ABC123", "CAM3")]["state_flag"] == "state mismatch"
    assert found[("8DPR224", "CAM1")]["state_flag"] == "read without state"
    assert found[("6TRX981", "CAM1")]["match_kind"] == "wildcard"
    assert found[("6TRX981", "CAM1")]["differing"] is None and found[("6TRX981", "CAM1")]["entry_plate"] == "6TR?98*"
    assert found[("GTRX98", "CAM2")]["differing"] == "1 look-alike character"


def test_matching_agrees_with_a_brute_force_comparison():
    entries = [{"entry_id": f"E{i}", "plate": p, "is_pattern": 0, "state": "CA", "category": "stolen vehicle",
                "notes": None, "list_id": "L", "list_name": "l", "source": "state", "entered_at": None,
                "expires_at": None, "refreshed_at": datetime.now(UTC).isoformat(), "refresh_days": 7}
               for i, p in enumerate(["7ABC123", "10DQ77", "TTT111", "8B8B8B", "MNKX45", "UV4A22", "7T1ILT"])]
    probes = ["7ABC123", "7A8C123", "1ODQ77", "IODQ77", "TTT111", "777111", "1T1111", "B8B8B8", "NMXK45", "VU4A22",
              "VUA422", "1T7ILT", "7T1IL7", "TABC123", "ZZZZZZ", "7ABC12"]
    now = datetime.now(UTC)
    batch = reads([(p, "CA", "C", now - timedelta(hours=1)) for p in probes])
    hits = Matcher(entries).match(batch, now)
    got = {(r["plate"], r["entry_plate"]) for r in hits.iter_rows(named=True)}
    want = {(p, e["plate"]) for p in probes for e in entries if confusable(p, e["plate"])}
    assert got == want and len(want) > 8
    assert canonical("7OBK") == canonical("1" + "0" + "8" + "K")  # classes join groups that share a character
    assert not confusable("7", "1")  # ... but only characters of one group are confusable


def test_expired_entries_and_entries_listed_after_the_read_do_not_match(kit, tmp_path):
    from tests.hotlists.conftest import add_operator
    add_operator(kit)
    past = datetime.now(UTC) - timedelta(days=3)
    sup = kit.login("supervisor")
    later = datetime.now(UTC) + timedelta(seconds=3)  # after the login, so that a slow one cannot expire it first
    entered = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    listed = write_list(tmp_path / "l.csv", [f"7ABC123,CA,stolen vehicle,,{later.isoformat()},",
                                             f"8DPR224,CA,stolen plate,{entered},,"])
    sup.hotlists.import_list(listed, "dept", "department")
    sleep_past(later)
    kit.login("ingest").ingest_reads(reads([("7ABC123", "CA", "CAM1", recent()), ("8DPR224", "CA", "CAM1", past),
                                             ("8DPR224", "CA", "CAM2", recent())]), progress=False)
    got = _alerts(kit)
    # 7ABC123 expired; the 8DPR224 read of three days ago predates its entry (entered yesterday)
    assert got.select("plate", "camera_id").rows() == [("8DPR224", "CAM2")]


def test_one_alert_per_encounter_across_batches(hot):
    ingest = hot.login("ingest")
    ingest.ingest_reads(reads([("7ABC123", "CA", "CAM1", recent(0)), ("7ABC123", "CA", "CAM1", recent(3)),
                               ("7ABC123", "CA", "CAM2", recent(4))], prefix="A"), progress=False)
    ingest.ingest_reads(reads([("7ABC123", "CA", "CAM1", recent(9)),      # within 10 minutes of the last: same
                               ("7ABC123", "CA", "CAM1", recent(40))], prefix="B"), progress=False)  # a new one
    got = _alerts(hot).sort("captured_at")
    assert got.select("camera_id", "reads").rows() == [("CAM1", 3), ("CAM2", 1), ("CAM1", 1)]
    first = hot.login("operator").alerts.get(got["alert_id"][0])
    assert [r["read_id"] for r in first["encounter_reads"]] == ["A00000", "A00001", "B00000"]
    assert first["last_read_id"] == "B00000"


def test_alerts_are_ordered_by_priority(hot):
    hot.login("ingest").ingest_reads(reads([("8DPR224", "CA", "CAM1", recent(0)), ("5SAM781", "NV", "CAM1", recent(1)),
                                            ("6TRX981", "CA", "CAM1", recent(2))]), progress=False)
    assert _alerts(hot)["category"].to_list() == ["AMBER", "wanted person", "stolen plate"]


def test_ingest_with_no_hit_raises_nothing_and_reports_counts(hot):
    report = hot.login("ingest").ingest_reads(reads([("9ZZZ999", "CA", "CAM1", recent())]), progress=False)
    assert report.alerts_raised == 0 and _alerts(hot).height == 0
    report = hot.login("ingest").ingest_reads(reads([("7ABC123", "CA", "CAM1", recent())], prefix="X"), progress=False)
    assert report.alerts_raised == 1
    store = Store.open(hot.path)
    record = [r for r in store.audit.rows() if r["action"] == "reads.ingest"][-1]
    store.close()
    assert json.loads(record["query"])["alerts_raised"] == 1


def _killed_ingest(kit, point: str, frame_path) -> None:
    script = textwrap.dedent(f"""
        import polars as pl, alpr_lib as alpr
        s = alpr.login("ingest", {kit.passwords['ingest']!r}, {str(kit.path)!r})
        s.ingest_reads(pl.read_parquet({str(frame_path)!r}), progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, ALPR_FAULT_INJECT=point),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 70, proc.stderr[-2000:]


@pytest.mark.parametrize("point,committed", [("ingest:before-commit", False), ("ingest:in-commit", False),
                                             ("ingest:after-commit", True)])
def test_alerts_commit_with_their_reads(hot, tmp_path, point, committed):
    batch = reads([("7ABC123", "CA", "CAM1", recent()), ("9ZZZ999", "CA", "CAM1", recent(1))])
    batch.write_parquet(tmp_path / "b.parquet")
    _killed_ingest(hot, point, tmp_path / "b.parquet")
    held = hot.login("admin").store_summary()["reads"]
    assert held == (2 if committed else 0)
    assert _alerts(hot).height == (1 if committed else 0)  # no read without its match, no alert without its read
    report = hot.login("ingest").ingest_reads(batch, progress=False)  # the retry
    assert report.ingested == (0 if committed else 2)
    assert _alerts(hot).height == 1


def test_rerun_over_history_is_audited_as_a_search(hot):
    hot.login("ingest").ingest_reads(reads([("6TRX981", "CA", "CAM1", datetime(2025, 6, 1, tzinfo=UTC)),
                                            ("6TRK98", "CA", "CAM2", datetime(2025, 6, 2, tzinfo=UTC)),
                                            ("7ABC123", "CA", "CAM1", datetime(2025, 6, 3, tzinfo=UTC))]),
                                     progress=False)
    assert _alerts(hot).height == 0  # read before the entries were listed: not live hits
    sup = hot.login("supervisor")
    with pytest.raises(alpr.AccessDenied, match="purpose"):
        sup.hotlists.rerun("stolen", "6TR?98*")
    hits = sup.hotlists.rerun("stolen", "6TR?98*", purpose="criminal investigation", case_number="26-001871")
    assert sorted(hits["plate"]) == ["6TRK98", "6TRX981"] and set(hits["match_kind"]) == {"wildcard"}
    store = Store.open(hot.path)
    record = [r for r in store.audit.rows() if r["action"] == "hotlists.rerun"][-1]
    store.close()
    assert record["purpose"] == "criminal investigation" and record["case_number"] == "26-001871"
    assert json.loads(record["query"])["plates_returned"] == ["6TRK98", "6TRX981"]
    with pytest.raises(alpr.NotFound):
        sup.hotlists.rerun("stolen", "1NOPE11", purpose="stolen plates")


def test_hits_of_a_stale_list_say_so(hot):
    from alpr_lib.records import hotlists as rows

    store = Store.open(hot.path)
    row = dict(rows.get_list(store.db, "stolen"))
    row["refreshed_at"] = (datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="microseconds")
    rows.put_list(store.db, row)  # last refreshed a month ago; its period is 7 days
    store.close()
    hot.login("ingest").ingest_reads(reads([("7ABC123", "CA", "CAM1", recent())]), progress=False)
    alert = _alerts(hot).row(0, named=True)
    assert alert["stale"] is True
    assert hot.login("supervisor").alerts.figures()["stale_hits"] == 1
