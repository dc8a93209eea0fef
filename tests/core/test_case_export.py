"""Case-file exports (issue 11 item 6): a result as CSV and a printable HTML summary, itself audited."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.store.store import Store
from tests.conftest import ORG, StoreKit, make_kit, random_reads

CASE = "24-001234"
INVESTIGATION = {"purpose": "criminal investigation", "case_number": CASE}
ZONE = ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def store_kit(tmp_path_factory: pytest.TempPathFactory) -> StoreKit:
    from tests.conftest import use_home

    base = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as mp:
        use_home(base, mp)
        kit = make_kit(base / "store")
        kit.login("ingest").ingest_reads(random_reads(300, seed=3), progress=False)
        kit.home = base  # type: ignore[attr-defined]
    return kit


@pytest.fixture
def kit(store_kit: StoreKit, monkeypatch: pytest.MonkeyPatch) -> StoreKit:
    from tests.conftest import use_home

    use_home(store_kit.home, monkeypatch)  # type: ignore[attr-defined]
    return store_kit


def _records(kit: StoreKit, action: str) -> list[dict]:
    store = Store.open(kit.path)
    try:
        return [r for r in store.audit.rows() if r["action"] == action]
    finally:
        store.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_search_result_exports_to_csv_and_a_printable_html_summary(kit: StoreKit, tmp_path: Path) -> None:
    analyst = kit.login("analyst")
    query = {"pattern": "7AB*", "start": "2026-05-25", "end": "2026-06-15"}
    hits = analyst.search_plates("7AB*", start="2026-05-25", end="2026-06-15", **INVESTIGATION)
    assert hits.height > 0
    before = len(_records(kit, "exports.case_file"))

    out = analyst.exports.case_file(hits, tmp_path / "case-24-001234.csv", title="Partial plate 7AB*",
                                    query=query, **INVESTIGATION)

    assert out.csv == tmp_path / "case-24-001234.csv" and out.html == tmp_path / "case-24-001234.html"
    assert out.rows == hits.height
    assert _mode(out.csv) == 0o600 and _mode(out.html) == 0o600
    csv = pl.read_csv(out.csv)
    assert csv.height == hits.height
    assert csv["read_id"].to_list() == hits["read_id"].to_list()
    assert csv["plate"].to_list() == hits["plate"].to_list()

    page = out.html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert "Analyst User" in page and "Analyst" in page and ORG in page
    assert "criminal investigation" in page and CASE in page
    assert "7AB*" in page and "Partial plate 7AB*" in page
    assert f"{hits.height:,} row" in page
    assert "America/Los_Angeles" in page
    first = hits["captured_at"][0].astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S")
    utc = hits["captured_at"][0].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert first in page and (first == utc or utc not in page)  # local times, not UTC
    assert not re.search(r"https?://", page) and "<script" not in page.lower() and "<link" not in page.lower()

    rows = _records(kit, "exports.case_file")[before:]
    assert len(rows) == 1
    record = rows[0]
    assert (record["outcome"], record["username"], record["result_count"]) == ("allowed", "analyst", hits.height)
    assert (record["purpose"], record["case_number"]) == ("criminal investigation", CASE)
    elements = json.loads(record["query"])
    assert elements["files"] == [str(out.csv), str(out.html)]
    assert elements["rows"] == hits.height
    assert elements["read_ids_count"] == hits["read_id"].n_unique()
    assert elements["read_ids"] == sorted(set(hits["read_id"].to_list()))
    assert elements["query"] == query


def test_every_value_is_escaped_and_lists_and_numbers_are_readable(kit: StoreKit, tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "read_id": ["X1", "X2"], "plate": ["<script>alert(1)</script>", "7ABK123"],
        "captured_at": [datetime(2026, 6, 1, 19, 30, tzinfo=UTC), datetime(2026, 6, 2, 8, 0, tzinfo=UTC)],
        "plate_confidence": [94.599998, 80.04], "cameras": [["MPD-F003", "MPD-F007"], ["<b>"]],
        "read_ids": [["X1", "X9"], ["X2"]]})
    out = kit.login("analyst").exports.case_file(frame, tmp_path, title="Hand <made> & odd",
                                                 query="plate <script>", purpose="stolen plates")
    assert out.csv.name == "hand-made-odd.csv"
    page = out.html.read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Hand &lt;made&gt; &amp; odd" in page and "<b>" not in page
    assert "2026-06-01 12:30:00" in page  # 19:30 UTC in Los Angeles (PDT)
    assert "94.6" in page and "94.599998" not in page
    assert "MPD-F003, MPD-F007" in page
    assert "(none given)" in page  # no case number under this purpose
    csv = pl.read_csv(out.csv)
    assert csv["cameras"].to_list() == ["MPD-F003; MPD-F007", "<b>"]
    record = _records(kit, "exports.case_file")[-1]
    assert json.loads(record["query"])["read_ids"] == ["X1", "X2", "X9"]


def test_an_empty_result_and_a_geodataframe_export(kit: StoreKit, tmp_path: Path) -> None:
    analyst = kit.login("analyst")
    empty = analyst.search_plates("QQQ9Q9Q", exact=True, purpose="stolen plates")
    assert empty.height == 0
    out = analyst.exports.case_file(empty, tmp_path / "empty", purpose="stolen plates")
    assert out.rows == 0 and "No rows" in out.html.read_text()
    assert pl.read_csv(out.csv).height == 0

    gdf = analyst.canvass((37.43, -121.9), 3000, 600, 600, at="2026-06-01 12:00", offense_type="homicide",
                          **INVESTIGATION)
    out = analyst.exports.case_file(gdf, tmp_path / "canvass", title="Canvass", **INVESTIGATION)
    assert out.rows == len(gdf) and pl.read_csv(out.csv).height == len(gdf)
    assert "radius_m" in out.html.read_text()  # the canvass's own description is the query
    assert _records(kit, "exports.case_file")[-1]["result_count"] == len(gdf)


def test_wrong_inputs_are_refused_and_audited(kit: StoreKit, tmp_path: Path) -> None:
    analyst = kit.login("analyst")
    frame = pl.DataFrame({"read_id": ["X1"]})
    cases = [
        (("not a frame", tmp_path / "a"), {"purpose": "stolen plates"}),
        ((frame, tmp_path / "missing" / "a"), {"purpose": "stolen plates"}),
        ((frame, tmp_path / "a"), {"purpose": "stolen plates", "query": object()}),
        ((frame, tmp_path / "a"), {"purpose": "stolen plates", "title": " "}),
        ((pl.DataFrame({"o": [object()]}, schema={"o": pl.Object}), tmp_path / "a"), {"purpose": "stolen plates"}),
    ]
    for args, kwargs in cases:
        before = len(_records(kit, "exports.case_file"))
        with pytest.raises(alpr.ValidationError):
            analyst.exports.case_file(*args, **kwargs)
        rows = _records(kit, "exports.case_file")[before:]
        assert [r["outcome"] for r in rows] == ["error"], kwargs
    with pytest.raises(alpr.AlprError):  # purpose needed
        analyst.exports.case_file(frame, tmp_path / "a")
    assert not list(tmp_path.iterdir())


def test_a_user_without_the_permission_is_refused_and_audited(kit: StoreKit, tmp_path: Path) -> None:
    auditor = kit.login("auditor")
    before = len(_records(kit, "exports.case_file"))
    with pytest.raises(alpr.AccessDenied):
        auditor.exports.case_file(pl.DataFrame({"read_id": ["X1"]}), tmp_path / "x", purpose="stolen plates")
    rows = _records(kit, "exports.case_file")[before:]
    assert [(r["outcome"], r["username"]) for r in rows] == [("denied", "auditor")]
    assert not list(tmp_path.iterdir())
