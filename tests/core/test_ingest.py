"""Ingest: row-numbered rejections, idempotence, atomicity under a killed process, kinds never mixing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.store.store import Store
from tests.conftest import bucket_files_by_tier, make_kit, random_reads

GOOD = "R1,7ABC123,91.5,CA,2026-06-01T10:00:00Z,CAM1,37.43,-121.90"
BAD_ROWS = {
    2: ("plate", "7AB$123"),
    3: ("plate", "TOOLONGPLATE"),
    4: ("lat", "123.4"),
    5: ("lon", "-200"),
    6: ("plate_confidence", "140"),
    7: ("captured_at", "yesterday"),
    8: ("camera_id", ""),
    9: ("captured_at", "2026-06-01 10:00:00"),
    10: ("lat", "north"),
}


def _csv(tmp_path: Path) -> Path:
    header = "read_id,plate,plate_confidence,region,captured_at,camera_id,lat,lon"
    lines = [header, GOOD]
    for row, (column, value) in BAD_ROWS.items():
        fields = dict(zip(header.split(","), GOOD.split(","), strict=True))
        fields["read_id"] = f"R{row}"
        fields[column] = value
        lines.append(",".join(fields.values()))
    lines.append("R11,8xyz-999,55,nv,2026-06-02T10:00:00-07:00,CAM2,37.44,-121.91")
    path = tmp_path / "batch.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def kit(any_kit):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_kit


def test_bad_rows_are_rejected_with_row_numbers_and_reasons(kit, tmp_path):
    report = kit.login("ingest").ingest_reads(_csv(tmp_path), progress=False)
    assert report.ingested == 2 and report.rows_in == 11
    got = {row: (col, reason) for row, col, _value, reason in report.rejected.iter_rows()}
    assert set(got) == set(BAD_ROWS)
    for row, (column, _value) in BAD_ROWS.items():
        assert got[row][0] == column, (row, got[row])
    assert "UTC offset" in got[9][1] and "0-100" in got[6][1]
    reads = kit.login("analyst").plate_history("8XYZ999", purpose="stolen plates")
    assert reads["plate_raw"].to_list() == ["8xyz-999"] and reads["region"].to_list() == ["NV"]
    assert str(reads["captured_at"][0]) == "2026-06-02 17:00:00+00:00"


def test_missing_columns_and_unreadable_files_are_clear_errors(kit, tmp_path):
    svc = kit.login("ingest")
    with pytest.raises(alpr.IngestError, match=r"lacks required column\(s\) \['captured_at'"):
        svc.ingest_reads(pl.DataFrame({"plate": ["7ABC123"], "plate_confidence": [90.0], "camera_id": ["C"],
                                       "lat": [37.4], "lon": [-121.9]}), progress=False)
    garbage = tmp_path / "x.parquet"
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(alpr.IngestError, match="cannot read the file"):
        svc.ingest_reads(garbage, progress=False)
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(alpr.IngestError, match="unsupported file type"):
        svc.ingest_reads(tmp_path / "x.txt", progress=False)
    with pytest.raises(alpr.IngestError, match="no such file"):
        svc.ingest_reads(tmp_path / "missing.csv", progress=False)
    errors = kit.login("auditor").audit_records(action="reads.ingest", outcome="error")
    assert errors.height == 4


def test_ingest_is_idempotent(kit, tmp_path):
    reads = random_reads(500, seed=5)
    svc = kit.login("ingest")
    first = svc.ingest_reads(reads, progress=False)
    again = svc.ingest_reads(reads, progress=False)
    assert first.ingested == 500 and again.already_ingested and again.ingested == 0
    # same reads in a different batch (different content, overlapping ids): only new ids are added
    mixed = pl.concat([reads.head(200), random_reads(100, seed=6, prefix="N")])
    third = svc.ingest_reads(mixed, progress=False)
    assert (third.ingested, third.duplicates) == (100, 200)
    assert kit.login("admin").store_summary()["reads"] == 600
    # duplicate ids within one batch count once
    dup = pl.concat([random_reads(10, seed=9, prefix="D"), random_reads(10, seed=9, prefix="D")])
    assert svc.ingest_reads(dup, progress=False).ingested == 10


def test_reads_without_ids_get_stable_derived_ids(kit):
    reads = random_reads(50, seed=11).drop("read_id")
    svc = kit.login("ingest")
    assert svc.ingest_reads(reads, progress=False).ingested == 50
    again = svc.ingest_reads(pl.concat([reads, reads.head(1)]), progress=False)
    assert again.ingested == 0 and again.duplicates == 51


@pytest.mark.parametrize("point", ["after-first-file", "before-commit"])
def test_a_killed_ingest_leaves_the_store_consistent(kit, tmp_path, point):
    svc = kit.login("ingest")
    svc.ingest_reads(random_reads(300, seed=1), progress=False)
    batch = tmp_path / "batch.parquet"
    random_reads(400, seed=2, prefix="K").write_parquet(batch)
    script = textwrap.dedent(f"""
        import alpr_lib as alpr
        s = alpr.login("ingest", {kit.passwords['ingest']!r}, {str(kit.path)!r})
        s.ingest_reads({str(batch)!r}, progress=False)
    """)
    env = dict(os.environ, ALPR_FAULT_INJECT=f"ingest:{point}")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 70, proc.stderr
    orphans = [p for p in (kit.path / "reads").rglob("*.parquet") if "part-" in p.name]
    assert orphans  # the crash left files behind...
    assert kit.login("admin").store_summary()["reads"] == 300  # ...which no reader sees
    analyst = kit.login("analyst")
    before = analyst.search_plates("*ABK*", purpose="stolen plates")
    report = svc.ingest_reads(batch, progress=False)  # the retry cleans up and commits everything
    assert report.ingested == 400
    assert kit.login("admin").store_summary()["reads"] == 700
    store = Store.open(kit.path)
    live = {r["path"] for r in store.db.query("SELECT path FROM store_files WHERE live=1")}
    on_disk = {p.relative_to(kit.path).as_posix() for sub in ("reads", "index")
               for p in (kit.path / sub).rglob("*") if p.is_file()}
    assert on_disk == live
    assert analyst.search_plates("*ABK*", purpose="stolen plates").height >= before.height


def test_training_reads_never_enter_an_operational_store(kit, tmp_path):
    training = make_kit(tmp_path / "training", kind="training")
    training.login("ingest").ingest_reads(random_reads(20), progress=False)
    exported = next((tmp_path / "training" / "reads").rglob("*.parquet"))
    with pytest.raises(alpr.IngestError, match="training store"):
        kit.login("ingest").ingest_reads(exported, progress=False)
    marked = random_reads(5).with_columns(pl.lit("training").alias("store_kind"))
    with pytest.raises(alpr.IngestError, match="never mix"):
        kit.login("ingest").ingest_reads(marked, progress=False)


def test_store_kind_cannot_change_behind_the_records(kit):
    meta = kit.path / "store.toml"
    meta.write_text(meta.read_text().replace('kind = "operational"', 'kind = "training"'))
    with pytest.raises(alpr.StoreError, match="never change"):
        kit.login("analyst")


def test_compaction_merges_day_files_and_keeps_every_read(kit):
    from alpr_lib.store.compact import SMALL_FILES_MERGE_AT

    svc = kit.login("ingest")
    batches = SMALL_FILES_MERGE_AT - 1  # one more and ingest would merge the small files itself
    for seed in range(batches):
        svc.ingest_reads(random_reads(300, seed=seed, prefix=f"C{seed}"), progress=False)
    analyst = kit.login("analyst")
    before = analyst.search_plates("*ABK*", purpose="stolen plates").sort("read_id")
    store = Store.open(kit.path)
    files_before = store.db.query("SELECT count(*) AS n FROM store_files WHERE kind='reads' AND live=1")[0]["n"]
    result = svc.compact_store(progress=False)
    files_after = store.db.query("SELECT count(*) AS n FROM store_files WHERE kind='reads' AND live=1")[0]["n"]
    assert files_after < files_before and result["files_merged"] > files_before - files_after
    days = store.db.query("SELECT partition, count(*) AS n FROM store_files WHERE kind='reads' AND live=1 "
                          "GROUP BY partition HAVING count(*) > 1")
    assert days == []
    after = analyst.search_plates("*ABK*", purpose="stolen plates").sort("read_id")
    assert after.equals(before)
    assert kit.login("admin").store_summary()["reads"] == 300 * batches
    on_disk = sum(1 for _ in (kit.path / "reads").rglob("*.parquet"))
    assert on_disk == files_after
    assert all(len(rows) == 1 for rows in bucket_files_by_tier(store).values())


def test_images_are_kept_with_their_reads_and_returned_by_read_details(kit, tmp_path):
    reads = random_reads(3, seed=21, prefix="IMG")
    crop = tmp_path / "crop.jpg"
    crop.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg-bytes")
    png = b"\x89PNG\r\n\x1a\n" + b"rest"
    report = kit.login("ingest").ingest_reads(reads, progress=False, images={"IMG0000000": crop, "IMG0000001": png})
    assert report.ingested == 3
    analyst = kit.login("analyst")
    first = analyst.read_details("IMG0000000", purpose="stolen plates")
    assert first["image"] == crop.read_bytes() and first["image_ref"].startswith("store:batch=")
    assert analyst.read_details("IMG0000001", purpose="stolen plates")["image"] == png
    assert analyst.read_details("IMG0000002", purpose="stolen plates")["image"] is None
    plate = reads.filter(pl.col("read_id") == "IMG0000000")["plate"][0]
    found = analyst.search_plates(plate, purpose="stolen plates", exact=True)  # served by the bucket copy
    assert found.filter(pl.col("read_id") == "IMG0000000")["image_ref"][0] == first["image_ref"]
    # a crashed ingest's image folder is removed by the next ingest; committed folders stay
    orphan = kit.path / "images" / "batch=crashed"
    orphan.mkdir()
    (orphan / "x.jpg").write_bytes(b"x")
    kit.login("ingest").ingest_reads(random_reads(2, seed=22, prefix="NEXT"), progress=False)
    assert not orphan.exists()
    assert analyst.read_details("IMG0000000", purpose="stolen plates")["image"] == crop.read_bytes()


def test_capture_times_in_every_accepted_form_parse_to_the_same_instant():
    """The one-pass parse takes the usual forms; the rest fall back to the normalising parse."""
    from datetime import UTC, datetime

    from alpr_lib.store.validate import _parsed_times

    instant = datetime(2026, 6, 1, 17, 30, tzinfo=UTC)
    usual = ["2026-06-01T17:30:00Z", "2026-06-01T17:30:00+00:00", "2026-06-01T17:30:00.000+0000",
             "2026-06-01T10:30:00-07:00", "2026-06-01T10:30:00-0700"]
    unusual = ["2026-06-01 17:30:00Z", "2026-06-01T17:30:00z", " 2026-06-01 10:30:00-07:00 "]
    assert _parsed_times(pl.Series(usual)).to_list() == [instant] * len(usual)
    mixed = _parsed_times(pl.Series([*usual, *unusual, "2026-06-01T17:30:00", "yesterday", None]))
    assert mixed.to_list() == [instant] * (len(usual) + len(unusual)) + [None, None, None]
