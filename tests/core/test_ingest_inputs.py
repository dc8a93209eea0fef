"""Ingest input validation (issue 10, item 7): empty batches, read ids reused on another day, and text that
case-folds, hides characters or floods. Every refusal names its row and its reason, nothing refused is
stored, and the good rows of the same batch are."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.normalise import full_plate, normalise_plate_expr
from alpr_lib.records import manifest
from alpr_lib.store.schema import READ_SCHEMA
from alpr_lib.store.store import Store
from alpr_lib.store.validate import REPORT_VALUE_MAX_CHARS, TEXT_MAX_CHARS, validate_reads
from tests.conftest import random_reads

DAY1 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
DAY3 = DAY1 + timedelta(days=2)
DAY5 = DAY1 + timedelta(days=4)
COLUMNS = ["read_id", "plate", "plate_raw", "plate_confidence", "region", "captured_at", "camera_id", "unit",
           "source", "lat", "lon", "image_ref"]
BASE = {"read_id": None, "plate": "7ABC123", "plate_raw": None, "plate_confidence": 90.0, "region": "CA",
        "captured_at": DAY1, "camera_id": "CAM1", "unit": "U1", "source": "TEST", "lat": 37.43, "lon": -121.9,
        "image_ref": None}


def _reads(*rows: dict) -> pl.DataFrame:
    """A typed batch: each row is BASE with the given fields replaced."""
    return pl.DataFrame([{**BASE, **row} for row in rows], schema={c: READ_SCHEMA[c] for c in COLUMNS})


def _stored(kit) -> pl.DataFrame:
    """Every live stored read (straight from the day files the manifest lists), by read id."""
    store = Store.open(kit.path)
    try:
        paths = manifest.live_paths(store.db, "reads")
    finally:
        store.close()
    if not paths:
        return pl.DataFrame(schema=READ_SCHEMA)
    return pl.read_parquet([kit.path / p for p in paths]).sort("read_id", "captured_at")


def _files(kit) -> set[str]:
    return {p.relative_to(kit.path).as_posix() for sub in ("reads", "index", "images")
            for p in (kit.path / sub).rglob("*") if p.is_file()}


def _reasons(report_or_frame) -> dict[int, list[tuple[str, str]]]:
    """row -> [(column, reason), ...] of a rejection report."""
    frame = getattr(report_or_frame, "rejected", report_or_frame)
    out: dict[int, list[tuple[str, str]]] = {}
    for row, column, _value, reason in frame.iter_rows():
        out.setdefault(row, []).append((column, reason))
    return out


@pytest.fixture
def kit(any_kit):
    """Every store test here runs on SQLite and on PostgreSQL."""
    return any_kit


# --- empty batches ---------------------------------------------------------------------------------------


def test_empty_batches_return_the_row_report_and_change_nothing(kit, tmp_path):
    svc = kit.login("ingest")
    svc.ingest_reads(random_reads(40, seed=3), progress=False)
    before, files_before = _stored(kit), _files(kit)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(COLUMNS) + "\n")
    no_rows = tmp_path / "empty.parquet"
    random_reads(5, seed=4).head(0).write_parquet(no_rows)
    all_bad = _reads({"read_id": "B1", "plate": "$$"}, {"read_id": "B2", "lat": 123.0},
                     {"read_id": "B3", "camera_id": ""})
    cases = [(header_only, 0), (no_rows, 0), (random_reads(5, seed=4).head(0), 0),
             (pl.DataFrame(schema=dict.fromkeys(COLUMNS, pl.String)), 0), (all_bad, 3)]
    for source, rows in cases:
        report = svc.ingest_reads(source, progress=False)
        assert (report.rows_in, report.ingested, report.duplicates) == (rows, 0, 0), source
        assert not report.already_ingested
        assert report.rejected_rows == rows
        assert "0 ingested" in report.summary()
    assert _reasons(report) == {1: [("plate", "plate has characters other than A-Z and 0-9")],
                                2: [("lat", "latitude must be between -90 and 90")],
                                3: [("camera_id", "camera_id is missing")]}
    assert _stored(kit).equals(before)
    assert _files(kit) == files_before
    assert kit.login("admin").store_summary()["reads"] == 40
    # and the next real batch goes in as usual
    assert svc.ingest_reads(random_reads(10, seed=5, prefix="N"), progress=False).ingested == 10


def test_a_batch_with_no_valid_row_is_a_report_at_library_level():
    checked = validate_reads(_reads().head(0))
    assert checked.good.height == 0 and checked.rejected.height == 0
    assert checked.rejected.columns == ["row", "column", "value", "reason"]


# --- one read id, one read -------------------------------------------------------------------------------


def test_a_read_id_reused_on_another_day_in_one_batch_is_refused(kit):
    batch = _reads(
        {"read_id": "R1", "plate": "7ABC123", "captured_at": DAY1},
        {"read_id": "R2", "plate": "5DEF456", "captured_at": DAY1},
        {"read_id": "R1", "plate": "8XYZ999", "captured_at": DAY3},  # another read under R1's id: refused
        {"read_id": "R1", "plate": "7ABC123", "captured_at": DAY1 + timedelta(seconds=1)},  # same day: resent
        {"read_id": "R3", "plate": "6GHI789", "captured_at": DAY3},
    )
    report = kit.login("ingest").ingest_reads(batch, progress=False)
    assert (report.ingested, report.duplicates, report.rejected_rows) == (3, 1, 1)
    assert _reasons(report) == {3: [("read_id", "read id already used on 2026-06-01 in row 1")]}
    assert report.rejected["value"].to_list() == ["R1"]
    stored = _stored(kit)
    assert stored["read_id"].to_list() == ["R1", "R2", "R3"]
    assert stored.filter(pl.col("read_id") == "R1")["plate"].to_list() == ["7ABC123"]
    assert "8XYZ999" not in stored["plate"].to_list()


def test_a_read_id_stored_on_another_day_is_refused_in_a_later_batch(kit):
    svc = kit.login("ingest")
    first = svc.ingest_reads(_reads({"read_id": "R1", "plate": "7ABC123", "captured_at": DAY1},
                                    {"read_id": "R2", "plate": "5DEF456", "captured_at": DAY5}), progress=False)
    assert first.ingested == 2
    later = _reads(
        {"read_id": "R9", "plate": "6GHI789", "captured_at": DAY3},
        {"read_id": "R1", "plate": "8XYZ999", "captured_at": DAY3},  # stored on day 1: refused
        {"read_id": "R2", "plate": "5DEF456", "captured_at": DAY5},  # stored on this day: a duplicate
        {"read_id": "R2", "plate": "4JKL012", "captured_at": DAY1},  # same id in the batch, another day
    )
    report = svc.ingest_reads(later, progress=False)
    assert (report.ingested, report.duplicates, report.rejected_rows) == (1, 1, 2)
    assert _reasons(report) == {2: [("read_id", "read id already stored for a read captured on 2026-06-01")],
                                4: [("read_id", "read id already used on 2026-06-05 in row 3")]}
    stored = _stored(kit)
    assert stored["read_id"].to_list() == ["R1", "R2", "R9"]
    assert stored["plate"].to_list() == ["7ABC123", "5DEF456", "6GHI789"]
    assert kit.login("admin").store_summary()["reads"] == 3


def test_an_id_in_the_derived_form_must_be_the_one_derived_from_the_read(kit):
    """Derived ids hash the capture time, so ingest looks for them in their own day only: a supplied id that
    copies the form for another read is refused (it could otherwise be stored twice, on two days)."""
    svc = kit.login("ingest")
    svc.ingest_reads(_reads({"plate": "7ABC123", "captured_at": DAY1}), progress=False)
    (derived,) = _stored(kit)["read_id"].to_list()
    assert derived.startswith("D") and len(derived) == 25
    forged = _reads({"read_id": derived, "plate": "8XYZ999", "captured_at": DAY3},
                    {"plate": "5DEF456", "captured_at": DAY3})
    report = svc.ingest_reads(forged, progress=False)
    assert (report.ingested, report.rejected_rows) == (1, 1)
    ((column, reason),) = _reasons(report)[1]
    assert column == "read_id" and "derived at ingest" in reason
    # an honest copy (reads exported from a store and ingested again) is a duplicate, not a refusal
    again = svc.ingest_reads(_stored(kit).drop("batch_id", "ingested_at"), progress=False)
    assert (again.ingested, again.duplicates, again.rejected_rows) == (0, 2, 0)
    assert _stored(kit).height == 2
    # an id that only looks alike (not 24 lower-case hex digits) is an ordinary supplied id
    look_alike = "D" + "X" * 24
    assert svc.ingest_reads(_reads({"read_id": look_alike, "captured_at": DAY5}), progress=False).ingested == 1


# --- plates: no case folding into ASCII ------------------------------------------------------------------

FOLDING = {
    "7ABß12": "ß",  # sharp s: upper-cases to SS
    "\ufb01X1234": "ﬁ",  # ligature: upper-cases to FI
    "7ABſ123": "ſ",  # long s: upper-cases to S
    "7ABCı23": "ı",  # dotless i: upper-cases to I
    "７ＡＢＣ１２３": "full-width",
    "7ABC\u0085123": "NEL, a C1 control that \\s used to strip",
    "7ABC\u200b123": "zero-width space",
}


def test_plates_with_non_ascii_letters_are_refused_not_folded():
    plates = [*FOLDING, "7ABC\t123", "7abc-123", "7ABC\u00b7123", "7ABC\u00a0123"]
    checked = validate_reads(_reads(*[{"read_id": f"P{i}", "plate": p} for i, p in enumerate(plates)]))
    reasons = _reasons(checked.rejected)
    for row in range(1, len(FOLDING) + 1):
        assert reasons[row][0][0] == "plate"
        assert "non-ASCII" in reasons[row][0][1], (plates[row - 1], reasons[row])
    assert reasons[len(FOLDING) + 1] == [("plate", "plate has characters other than A-Z and 0-9")]  # a tab
    assert set(reasons) == set(range(1, len(FOLDING) + 2))
    assert checked.good["plate"].to_list() == ["7ABC123"] * 3  # separators: dash, middle dot, no-break space
    assert checked.good["plate_raw"].to_list() == plates[-3:]


def test_the_plate_normalisation_upper_cases_ascii_only():
    out = pl.DataFrame({"plate": ["7abc-123", "7abß12", "\ufb01x1"]}).select(normalise_plate_expr())
    assert out["plate"].to_list() == ["7ABC123", "7abß12", "\ufb01x1"]
    assert full_plate("7abc 123") == "7ABC123"
    for text in ("7ABß12", "\ufb01X1234", "7ABſ123", "７ＡＢＣ１２３", "7ABC\t123", "7ABC\u0085123"):
        with pytest.raises(alpr.ValidationError, match="not a plate"):
            full_plate(text)


# --- invisible characters and lengths in text columns ----------------------------------------------------

INVISIBLE = ["\x00", "\x1b", "\t", "\n", "\x7f", "\x85", "\x9b", "\u200e", "\u200f", "\u202a", "\u202b",
             "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\u200c",
             "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2028", "\u2029"]
TEXT_COLUMNS = ["read_id", "camera_id", "unit", "source", "plate_raw", "image_ref"]


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_control_bidi_and_zero_width_characters_are_refused_in_every_text_column(column):
    rows = [{"read_id": f"X{i}", column: f"AB{ch}CD" if column != "read_id" else f"X{i}{ch}"}
            for i, ch in enumerate(INVISIBLE)]
    checked = validate_reads(_reads(*rows, {"read_id": "GOOD", column: "OK-1" if column != "read_id" else "GOOD"}))
    reasons = _reasons(checked.rejected)
    assert set(reasons) == set(range(1, len(INVISIBLE) + 1))
    for row, found in reasons.items():
        assert found == [(column, f"{column} holds a control, bidirectional or zero-width character "
                                  "(shown as \\u....)")], (row, found)
    shown = checked.rejected["value"].to_list()
    for value, ch in zip(shown, INVISIBLE, strict=True):
        assert f"\\u{ord(ch):04x}" in value
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value)
    assert checked.good["read_id"].to_list() == ["GOOD"]


@pytest.mark.parametrize("column", TEXT_COLUMNS)
def test_text_columns_have_maximum_lengths(column):
    limit = TEXT_MAX_CHARS[column]
    at_limit, over = "é" * limit, "A" * (limit + 1)  # counted in characters, not bytes
    if column == "read_id":
        at_limit = "R" + "é" * (limit - 1)
    checked = validate_reads(_reads({"read_id": "A", column: at_limit}, {"read_id": "B", column: over}))
    assert _reasons(checked.rejected) == {2: [(column, f"{column} is longer than {limit:,} characters")]}
    assert checked.good[column].to_list() == [at_limit]


def test_a_multi_megabyte_value_is_refused_and_not_copied_into_the_report():
    huge = "U" * 3_000_000
    checked = validate_reads(_reads({"read_id": "A", "unit": huge}, {"read_id": "B", "source": huge},
                                    {"read_id": "C", "plate": "7ABC123" + " " * 100}, {"read_id": "D"}))
    assert _reasons(checked.rejected) == {1: [("unit", "unit is longer than 256 characters")],
                                          2: [("source", "source is longer than 256 characters")],
                                          3: [("plate", "plate is longer than 64 characters")]}
    values = checked.rejected["value"].to_list()
    assert all(len(v) < REPORT_VALUE_MAX_CHARS + 40 for v in values)
    assert values[0].endswith("(3000000 characters)")
    assert checked.good["read_id"].to_list() == ["D"]


def test_refused_text_from_a_csv_is_reported_by_row_and_never_stored(kit, tmp_path):
    header = "read_id,plate,plate_confidence,region,captured_at,camera_id,lat,lon,unit,source"
    good = "{id},7ABC123,91.5,CA,2026-06-01T10:00:00Z,CAM1,37.43,-121.90,U1,MPD"
    lines = [header,
             good.format(id="G1"),
             good.format(id="EVIL\u202eGNP").replace("7ABC123", "5DEF456"),  # a right-to-left override
             good.format(id="G3").replace("CAM1", "CAM\u200b1"),  # zero-width space in the camera id
             good.format(id="G4").replace("U1", "U" * 3_000_000),  # 3 MB unit
             good.format(id="G5").replace("MPD", "S" * 257),
             good.format(id="G6").replace("7ABC123", "7ABß12"),
             good.format(id="G7").replace("7ABC123", "8XYZ999")]
    path = tmp_path / "batch.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = kit.login("ingest").ingest_reads(path, progress=False)
    assert (report.rows_in, report.ingested, report.rejected_rows) == (7, 2, 5)
    got = {row: found[0][0] for row, found in _reasons(report).items()}
    assert got == {2: "read_id", 3: "camera_id", 4: "unit", 5: "source", 6: "plate"}
    assert "\\u202e" in report.rejected.filter(pl.col("row") == 2)["value"][0]
    stored = _stored(kit)
    assert stored["read_id"].to_list() == ["G1", "G7"]
    assert stored["unit"].str.len_chars().max() <= TEXT_MAX_CHARS["unit"]
    assert kit.login("admin").store_summary()["reads"] == 2


def test_a_plate_of_a_csv_is_never_folded_into_a_stored_plate(kit, tmp_path):
    path = Path(tmp_path / "plates.csv")
    path.write_text("read_id,plate,plate_confidence,captured_at,camera_id,lat,lon\n"
                    "A,7ABß12,90,2026-06-01T10:00:00Z,CAM1,37.4,-121.9\n"
                    "B,7ABSS12,90,2026-06-01T10:00:01Z,CAM1,37.4,-121.9\n", encoding="utf-8")
    report = kit.login("ingest").ingest_reads(path, progress=False)
    assert (report.ingested, list(_reasons(report))) == (1, [1])
    history = kit.login("analyst").plate_history("7ABSS12", purpose="stolen plates")
    assert history["read_id"].to_list() == ["B"]


def test_a_batch_mixing_derived_and_supplied_ids_checks_each_kind(kit):
    """Derived-form ids are looked up in their own day, other ids in every day: both in one batch."""
    svc = kit.login("ingest")
    svc.ingest_reads(_reads({"read_id": "R1", "plate": "7ABC123", "captured_at": DAY1},
                            {"plate": "5DEF456", "captured_at": DAY1}), progress=False)
    derived = _stored(kit).filter(pl.col("read_id") != "R1")
    mixed = pl.concat([
        _reads({"read_id": "R1", "plate": "8XYZ999", "captured_at": DAY3},  # stored on day 1: refused
               {"plate": "6GHI789", "captured_at": DAY3}),  # new, id derived here
        derived.select(COLUMNS),  # the derived read again, as exported: a duplicate
    ])
    report = svc.ingest_reads(mixed, progress=False)
    assert (report.ingested, report.duplicates) == (1, 1)
    assert _reasons(report) == {1: [("read_id", "read id already stored for a read captured on 2026-06-01")]}
    assert sorted(_stored(kit)["plate"].to_list()) == ["5DEF456", "6GHI789", "7ABC123"]


def test_a_batch_that_stored_nothing_reports_its_refusals_again_on_retry(any_kit, tmp_path):
    bad = random_reads(5, seed=3).with_columns(pl.lit("not a plate!").alias("plate"))
    path = tmp_path / "bad.parquet"
    bad.write_parquet(path)
    svc = any_kit.login("ingest")
    first = svc.ingest_reads(path, progress=False)
    again = svc.ingest_reads(path, progress=False)
    assert first.ingested == again.ingested == 0 and not again.already_ingested
    assert first.rejected_rows == again.rejected_rows == 5
