"""Misreads: a read's corrected plate is recorded beside its original, audited, and both texts find the read."""

from __future__ import annotations

import json

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.search.plates import RESULT_COLUMNS
from alpr_lib.store.store import Store
from tests.conftest import random_reads

PURPOSE = {"purpose": "stolen plates"}


def _audit(kit) -> list[dict]:
    store = Store.open(kit.path)
    try:
        return store.audit.rows()
    finally:
        store.close()


def _stored_reads(kit) -> pl.DataFrame:
    return pl.read_parquet(kit.path / "reads" / "**" / "*.parquet").sort("read_id")


@pytest.fixture
def misread(any_kit):
    """A store with reads of two plates; one read of 5XYZ789 is the one the analyst corrects."""
    kit = any_kit
    kit.login("ingest").ingest_reads(random_reads(40, plates=["7ABK123", "5XYZ789"]), progress=False)
    analyst = kit.login("analyst")
    read_id = analyst.plate_history("5XYZ789", **PURPOSE)["read_id"][0]
    return kit, analyst, read_id


def test_a_corrected_read_is_found_by_both_texts_and_the_store_is_unchanged(misread):
    kit, analyst, read_id = misread
    before = _stored_reads(kit)
    row = analyst.correct_read(read_id, "6qrs-456", note="OCR read Q as X", **PURPOSE)
    assert (row["original_plate"], row["corrected_plate"], row["corrected_by"]) == ("5XYZ789", "6QRS456", "analyst")
    assert _stored_reads(kit).equals(before)  # the Parquet read keeps its original plate

    for pattern in ("6QRS456", "6QRS*", "6ORS456"):  # exact, a wildcard, an OCR confusion (O for Q)
        hits = analyst.search_plates(pattern, **PURPOSE)
        assert hits.columns == [*RESULT_COLUMNS, "hold"]  # hold: additive (issue 13)
        assert hits["read_id"].to_list() == [read_id], pattern
        assert (hits["plate"][0], hits["match"][0]) == ("5XYZ789", "corrected")
    assert analyst.search_plates("6ORS456", exact=True, **PURPOSE).height == 0

    original = analyst.search_plates("5XYZ789", **PURPOSE)
    assert read_id in original["read_id"].to_list()
    assert original.filter(pl.col("read_id") == read_id)["match"][0] == "exact"
    assert original["read_id"].n_unique() == original.height  # no read twice

    history = analyst.plate_history("6QRS456", **PURPOSE)
    assert history["read_id"].to_list() == [read_id]
    assert read_id in analyst.plate_history("5XYZ789", **PURPOSE)["read_id"].to_list()

    # the filters apply to reads found through their correction too
    region = analyst.read_details(read_id, **PURPOSE)["region"]
    other = "NV" if region != "NV" else "CA"
    assert analyst.search_plates("6QRS456", region=other, **PURPOSE).height == 0
    assert analyst.search_plates("6QRS456", region=region, **PURPOSE).height == 1
    assert analyst.search_plates("6QRS456", cameras=("NOCAM",), **PURPOSE).height == 0
    assert analyst.search_plates("6QRS456", end="2026-01-01", **PURPOSE).height == 0


def test_the_correction_is_audited_and_a_second_one_replaces_the_text(misread):
    kit, analyst, read_id = misread
    analyst.correct_read(read_id, "6QRS456", **PURPOSE)
    analyst.correct_read(read_id, "6QRS457", **PURPOSE)
    records = [r for r in _audit(kit) if r["action"] == "reads.correct"]
    assert [r["outcome"] for r in records] == ["allowed", "allowed"]
    first, second = (json.loads(r["query"]) for r in records)
    assert (first["read_id"], first["original_plate"], first["corrected_plate"]) == (read_id, "5XYZ789", "6QRS456")
    assert "replaced_corrected_plate" not in first
    assert (second["original_plate"], second["corrected_plate"], second["replaced_corrected_plate"]) == \
        ("5XYZ789", "6QRS457", "6QRS456")
    assert records[0]["purpose"] == "stolen plates"
    assert analyst.search_plates("6QRS456", exact=True, **PURPOSE).height == 0
    assert analyst.search_plates("6QRS457", exact=True, **PURPOSE)["read_id"].to_list() == [read_id]


def test_refused_corrections_are_audited(misread):
    kit, analyst, read_id = misread
    with pytest.raises(alpr.NotFound):
        analyst.correct_read("NO-SUCH-READ", "6QRS456", **PURPOSE)
    with pytest.raises(alpr.ValidationError):
        analyst.correct_read(read_id, "5xyz 789", **PURPOSE)  # the plate it already reads
    with pytest.raises(alpr.ValidationError):
        analyst.correct_read(read_id, "6QRS*", **PURPOSE)  # a pattern is not a plate
    with pytest.raises(alpr.AccessDenied):
        analyst.correct_read(read_id, "6QRS456")  # no purpose
    records = [r for r in _audit(kit) if r["action"] == "reads.correct"]
    assert [r["outcome"] for r in records] == ["error", "error", "error", "denied"]
    assert json.loads(records[0]["query"])["read_id"] == "NO-SUCH-READ"
    assert analyst.search_plates("6QRS456", **PURPOSE).height == 0
