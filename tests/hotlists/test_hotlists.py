"""Hotlist import (layouts, row report, duplicates and look-alikes, idempotence, expiry, staleness) and source
grants (policy 462.3(e))."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.store.store import Store
from tests.hotlists.conftest import add_operator, sleep_past, write_list

REPO = Path(__file__).resolve().parents[2]


def _records(kit, action: str) -> list[dict]:
    store = Store.open(kit.path)
    try:
        return [r for r in store.audit.rows() if r["action"] == action]
    finally:
        store.close()


def test_standard_layout_with_a_row_numbered_report(kit, tmp_path):
    add_operator(kit)
    listed = write_list(tmp_path / "l.csv", [
        "7ABC123,CA,stolen vehicle,2026-01-05,,grey Civic",   # 1 ok
        "7abc-123,CA,Stolen Vehicle,,,again",                  # 2 duplicate of 1
        "7A8C123,CA,stolen vehicle,,,O/0-style",               # 3 look-alike of 1 (B/8)
        "7A8C123,NV,stolen vehicle,,,",                        # 4 another state: kept
        "BAD!,CA,stolen vehicle,,,",                           # 5 bad plate
        "4XYZ999,,stolen plate,,,",                            # 6 no state
        "4XYZ998,XX,stolen plate,,,",                          # 7 not a state
        "4XYZ997,CA,parking,,,",                               # 8 unknown category
        "4XYZ996,CA,warrant,yesterday,,",                      # 9 bad date
        "4XYZ995,CA,warrant,2026-01-01,2026-01-02,",           # 10 already expired
        "6TR?98*,,wanted person,,,witness",                    # 11 partial plate, major crime
        "6TR?98*,,stolen vehicle,,,",                          # 12 partial plate, not a major crime
        "6?,,AMBER,,,",                                        # 13 too few known characters
        "1AMB001,CA,amber alert,,2099-01-01,",                 # 14 ok
        "7AMB001,CA,amber alert,,2099-01-01,",                 # 15 ok: 7 and 1 are not one confusion group
    ])
    report = kit.login("supervisor").hotlists.import_list(listed, "dept", "department")
    assert report.layout == "standard" and report.rows_in == 15
    assert report.imported == 5 and report.rejected == 10
    reasons = {r["row"]: r["reason"] for r in report.report.iter_rows(named=True)}
    assert set(reasons) == {2, 3, 5, 6, 7, 8, 9, 10, 12, 13}
    assert reasons[2].startswith("duplicate of row 1")
    assert "look-alike duplicate of row 1" in reasons[3] and "position 3: 8 read for B" in reasons[3]
    assert "state" in reasons[6] and "US state" in reasons[7] and "category" in reasons[8]
    assert "ISO" in reasons[9] and "expired" in reasons[10] and "major crimes" in reasons[12]
    shown = kit.login("supervisor").hotlists.show("dept")
    entries = shown["entries"]
    assert entries["plate"].to_list() == ["7ABC123", "7A8C123", "6TR?98*", "1AMB001", "7AMB001"]
    assert entries.filter(pl.col("plate") == "1AMB001")["category"][0] == "AMBER"
    assert shown["list"]["owner"] == "supervisor" and shown["list"]["source"] == "department"


def test_the_sample_file_layout_is_accepted(kit):
    add_operator(kit)
    report = kit.login("supervisor").hotlists.import_list(REPO / "data_samples" / "hotlists.csv", "sample", "state")
    assert report.layout == "sample" and report.rejected == 0 and report.imported == report.rows_in == 25
    entries = kit.login("supervisor").hotlists.show("sample")["entries"]
    row = entries.filter(pl.col("plate") == "7LUX450").row(0, named=True)
    assert row["category"] == "warrant" and row["state"] == "CA" and "department BOLO" in row["notes"]
    assert set(entries["category"]) >= {"stolen vehicle", "stolen plate", "missing person", "BOLO"}


def test_an_ncic_style_extract_is_accepted(kit, tmp_path):
    add_operator(kit)
    path = tmp_path / "svs.csv"
    path.write_text("LIC,LIS,DOT,VMA,VMO,VCO,OCA,NIC\n6ABC123,CA,20260301,HOND,CIV,GRY,26-000123,V123456789\n")
    report = kit.login("supervisor").hotlists.import_list(path, "svs", "state")
    assert report.layout == "ncic" and report.imported == 1
    row = kit.login("supervisor").hotlists.show("svs")["entries"].row(0, named=True)
    assert row["category"] == "stolen vehicle" and row["entered_at"].startswith("2026-03-01")
    assert "HOND CIV" in row["notes"] and "NIC V123456789" in row["notes"]


def test_an_unknown_layout_is_refused_naming_the_header(kit, tmp_path):
    add_operator(kit)
    path = tmp_path / "x.csv"
    path.write_text("tag,when\n7ABC123,2026-01-01\n")
    with pytest.raises(alpr.ValidationError, match="plate,state,category,entered_at,expires_at,notes"):
        kit.login("supervisor").hotlists.import_list(path, "x", "department")


def test_importing_the_same_list_again_is_idempotent_and_refreshes_it(kit, tmp_path):
    add_operator(kit)
    listed = write_list(tmp_path / "l.csv", ["7ABC123,CA,stolen vehicle,2026-01-05,,", "8DPR224,CA,stolen plate,,,"])
    sup = kit.login("supervisor")
    first = sup.hotlists.import_list(listed, "dept", "department")
    ids = sup.hotlists.show("dept")["entries"]["entry_id"].to_list()
    again = sup.hotlists.import_list(listed, "dept", "department")
    assert not first.unchanged and again.unchanged
    assert sup.hotlists.show("dept")["entries"]["entry_id"].to_list() == ids
    assert again.refreshed_at > first.refreshed_at
    assert sup.hotlists.lists().height == 1
    smaller = write_list(tmp_path / "m.csv", ["8DPR224,CA,stolen plate,,,"])
    sup.hotlists.import_list(smaller, "dept", "department")
    assert sup.hotlists.show("dept")["entries"]["entry_id"].to_list() == ids[1:]  # a snapshot: the rest go


def test_a_list_keeps_its_source(kit, tmp_path):
    add_operator(kit)
    listed = write_list(tmp_path / "l.csv", ["7ABC123,CA,stolen vehicle,,,"])
    sup = kit.login("supervisor")
    sup.hotlists.import_list(listed, "dept", "department")
    with pytest.raises(alpr.ValidationError, match="holds department data"):
        sup.hotlists.import_list(listed, "dept", "state")


def test_a_list_not_refreshed_in_its_period_is_stale(kit, tmp_path):
    add_operator(kit)
    listed = write_list(tmp_path / "l.csv", ["7ABC123,CA,stolen vehicle,,,"])
    sup = kit.login("supervisor")
    sup.hotlists.import_list(listed, "dept", "department", refresh_days=1)
    assert not sup.hotlists.lists()["stale"][0]
    store = Store.open(kit.path)  # a day and more later: the list was refreshed two days ago
    from alpr_lib.records import hotlists as rows
    row = dict(rows.get_list(store.db, "dept"))
    row["refreshed_at"] = (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="microseconds")
    rows.put_list(store.db, row)
    store.close()
    assert sup.hotlists.lists()["stale"][0]
    assert sup.hotlists.show("dept")["list"]["stale"]


def test_entries_expire_automatically(kit, tmp_path):
    add_operator(kit)
    sup = kit.login("supervisor")
    soon = datetime.now(UTC) + timedelta(seconds=2)  # after the login, so that a slow one cannot expire it first
    listed = write_list(tmp_path / "l.csv", [f"7ABC123,CA,stolen vehicle,,{soon.isoformat()},",
                                             "8DPR224,CA,stolen plate,,,"])
    sup.hotlists.import_list(listed, "dept", "department")
    sleep_past(soon)
    entries = sup.hotlists.show("dept")["entries"]
    assert entries.filter(pl.col("plate") == "7ABC123")["active"][0] is False
    assert entries.filter(pl.col("plate") == "8DPR224")["active"][0] is True


def test_sources_are_granted_and_other_attempts_refused_and_audited(kit, tmp_path):
    add_operator(kit, grant=("department",))
    sup = kit.login("supervisor")
    listed = write_list(tmp_path / "l.csv", ["7ABC123,CA,stolen vehicle,,,"])
    sup.hotlists.import_list(listed, "dept", "department")
    with pytest.raises(alpr.AccessDenied, match=r"462\.3\(e\)"):
        sup.hotlists.import_list(listed, "fed", "federal")
    kit.login("admin").hotlists.grant("supervisor", ["federal"])
    sup = kit.login("supervisor")
    sup.hotlists.import_list(listed, "fed", "federal")
    operator = kit.login("operator")  # department only
    assert operator.hotlists.lists()["name"].to_list() == ["dept"]
    with pytest.raises(alpr.AccessDenied, match="not authorised for federal"):
        operator.hotlists.show("fed")
    denied = [r for r in _records(kit, "hotlists.show") if r["outcome"] == "denied"]
    assert len(denied) == 1 and denied[0]["username"] == "operator"
    assert json.loads(denied[0]["query"])["source_refused"] == "federal"
    kit.login("admin").hotlists.revoke("operator", ["department"])
    assert kit.login("operator").hotlists.lists().height == 0
    grants = kit.login("admin").hotlists.grants()
    assert set(grants.filter(pl.col("username") == "supervisor")["source"]) == {"department", "federal"}
    assert [r["outcome"] for r in _records(kit, "hotlists.grant")][-1] == "allowed"


def test_an_analyst_may_not_import_or_see_lists(kit, tmp_path):
    add_operator(kit)
    listed = write_list(tmp_path / "l.csv", ["7ABC123,CA,stolen vehicle,,,"])
    analyst = kit.login("analyst")
    with pytest.raises(alpr.AccessDenied):
        analyst.hotlists.import_list(listed, "dept", "department")
    with pytest.raises(alpr.AccessDenied):
        analyst.hotlists.lists()
