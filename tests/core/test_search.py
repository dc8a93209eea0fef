"""Partial-plate search against a brute-force reference; time bounds, filters and ranking."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.search.patterns import confusion_groups, parse_pattern
from alpr_lib.store.store import Store
from tests.conftest import random_reads, use_home

PATTERNS = ["7AB?12*", "*K123", "7[AB]BK1*", "ABK", "*ABK*", "1AB?234", "7?BK12?", "[0-9]ABK*", "*K12[34]", "7ABK123"]


def _group(c: str) -> set[str]:
    out = {c}
    for g in confusion_groups():
        if c in g:
            out |= set(g)
    return out


def _reference_match(pattern: str, plate: str, confusions: bool) -> bool:
    """Independent matcher: expand the pattern by hand into a Python regex."""
    parts, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "?":
            parts.append(".")
        elif c == "*":
            parts.append(".*")
        elif c == "[":
            j = pattern.index("]", i)
            body = pattern[i + 1:j]
            chars = set()
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    chars |= {chr(x) for x in range(ord(body[k]), ord(body[k + 2]) + 1)}
                    k += 3
                else:
                    chars.add(body[k])
                    k += 1
            if confusions:
                chars = set().union(*(_group(x) for x in chars))
            parts.append("[" + "".join(sorted(chars)) + "]")
            i = j
        else:
            chars = _group(c) if confusions else {c}
            parts.append("[" + "".join(sorted(chars)) + "]")
        i += 1
    return re.fullmatch("".join(parts), plate) is not None


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    base = tmp_path_factory.mktemp("search")
    from tests.conftest import make_kit

    with pytest.MonkeyPatch.context() as mp:
        use_home(base, mp)
        kit = make_kit(base / "store")
        reads = random_reads(3000, seed=7)
        kit.login("ingest").ingest_reads(reads, progress=False)
    yield kit, reads, base


@pytest.fixture
def session(loaded, monkeypatch):
    kit, reads, base = loaded
    use_home(base, monkeypatch)
    return kit.login("analyst"), reads


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("exact", [True, False])
def test_search_equals_brute_force(session, pattern, exact):
    s, reads = session
    got = s.search_plates(pattern, purpose="stolen plates", exact=exact)
    expected = {r for r, p in zip(reads["read_id"], reads["plate"], strict=True)
                if _reference_match(pattern, p, confusions=not exact)}
    assert set(got["read_id"].to_list()) == expected
    assert (got["match"] == "exact").all() if exact else True


def test_exact_matches_rank_before_confusable_then_newest_first(session):
    s, _ = session
    got = s.search_plates("7ABK123", purpose="stolen plates")
    kinds = got["match"].to_list()
    assert "confusable" in kinds and kinds == sorted(kinds, key=lambda k: k != "exact")
    exact = got.filter(pl.col("match") == "exact")
    assert set(exact["plate"]) == {"7ABK123"}
    assert exact["captured_at"].is_sorted(descending=True)
    subs = got["substitutions"].to_list()
    assert subs == sorted(subs)
    assert got.filter(pl.col("plate") == "7A8K123")["substitutions"].unique().to_list() == [1]


def test_time_window_end_date_includes_the_whole_local_day(session):
    s, reads = session
    got = s.search_plates("*ABK*", purpose="stolen plates", start="2026-06-01", end="2026-06-09")
    lo = datetime(2026, 6, 1, 7, tzinfo=UTC)  # midnight in Los Angeles (PDT, UTC-7)
    hi = datetime(2026, 6, 10, 7, tzinfo=UTC)
    expected = {r for r, p, t in zip(reads["read_id"], reads["plate"], reads["captured_at"], strict=True)
                if _reference_match("*ABK*", p, True) and lo <= t < hi}
    assert set(got["read_id"]) == expected and expected
    aware = s.search_plates("*ABK*", purpose="stolen plates", start=datetime(2026, 6, 1, 7, tzinfo=UTC),
                            end=datetime(2026, 6, 10, 7, tzinfo=UTC))
    assert set(aware["read_id"]) == expected


def test_window_edges_in_the_department_zone(kit):
    times = ["2026-06-01T06:59:59Z", "2026-06-01T07:00:00Z", "2026-06-03T06:59:59Z", "2026-06-03T07:00:00Z"]
    frame = pl.DataFrame({"read_id": ["a", "b", "c", "d"], "plate": ["7ABK123"] * 4, "plate_confidence": [90.0] * 4,
                          "captured_at": times, "camera_id": ["C"] * 4, "lat": [37.4] * 4, "lon": [-121.9] * 4})
    kit.login("ingest").ingest_reads(frame, progress=False)
    s = kit.login("analyst")
    assert sorted(s.search_plates("7ABK123", purpose="stolen plates", start="2026-06-01",
                                  end="2026-06-02")["read_id"]) == ["b", "c"]
    assert sorted(s.search_plates("7ABK123", purpose="stolen plates", start="2026-06-01 00:00",
                                  end="2026-06-03 00:00")["read_id"]) == ["b", "c"]
    assert sorted(s.search_plates("7ABK123", purpose="stolen plates", end="2026-05-31")["read_id"]) == ["a"]
    assert sorted(s.search_plates("7ABK123", purpose="stolen plates", start=None, end=None)["read_id"]) == list("abcd")


def test_none_bounds_are_unbounded_and_there_is_no_row_cap(kit):
    reads = random_reads(6000, seed=3, plates=["7ABK123", "7ABK124"], days=300, start=datetime(2025, 12, 1, tzinfo=UTC))
    kit.login("ingest").ingest_reads(reads, progress=False)
    everything = kit.login("analyst").search_plates("7ABK12?", purpose="stolen plates", exact=True)
    assert everything.height == 6000


def test_region_and_camera_filters(session):
    s, reads = session
    got = s.search_plates("*ABK*", purpose="stolen plates", region="nv", cameras=["CAM1", "CAM2"])
    assert set(got["region"]) <= {"NV"} and set(got["camera_id"]) <= {"CAM1", "CAM2"}
    expected = reads.filter(pl.col("plate").map_elements(lambda p: _reference_match("*ABK*", p, True),
                                                         return_dtype=pl.Boolean)
                            & (pl.col("region") == "NV") & pl.col("camera_id").is_in(["CAM1", "CAM2"]))
    assert set(got["read_id"]) == set(expected["read_id"])


@pytest.mark.parametrize("pattern, message", [
    ("7*", "at least 3"), ("??", "at least 3"), ("7A!B12", "not allowed"), ("7A[B", "closing"),
    ("7AB]", "opening"), ("7A[]B1", "letters or digits"), ("ABCDEFGHI", "longer than a plate"), ("", "empty"),
])
def test_bad_patterns_are_clear_errors(session, pattern, message):
    s, _ = session
    with pytest.raises(alpr.ValidationError, match=message):
        s.search_plates(pattern, purpose="stolen plates")


def test_bad_times_are_clear_errors(session):
    s, _ = session
    with pytest.raises(alpr.ValidationError, match="cannot read the time"):
        s.search_plates("7ABK123", purpose="stolen plates", start="June 1st")
    with pytest.raises(alpr.ValidationError, match="not after the start"):
        s.search_plates("7ABK123", purpose="stolen plates", start="2026-06-05", end="2026-06-01")


def test_pattern_normalises_spaces_dashes_and_case():
    assert parse_pattern(" 7ab-k 12* ").text == "7ABK12*"


def test_plate_history_and_read_details(session):
    s, reads = session
    history = s.plate_history("7abk-123", purpose="stolen plates")
    assert set(history["read_id"]) == set(reads.filter(pl.col("plate") == "7ABK123")["read_id"])
    assert history["captured_at"].is_sorted(descending=True)
    one = s.read_details(history["read_id"][0], purpose="stolen plates")
    assert one["plate"] == "7ABK123" and one["image"] is None
    with pytest.raises(alpr.NotFound):
        s.read_details("no-such-read", purpose="stolen plates")


def test_prefixes_jump_into_the_sorted_dictionary():
    assert parse_pattern("7AB?12*").prefixes(confusions=False) == ["7AB"]
    widened = parse_pattern("7AB?12*").prefixes(confusions=True)
    assert "7AB" in widened and "T48" in widened and len(widened) == 2 * 2 * 2
    assert parse_pattern("*K123").prefixes(confusions=False) is None
    assert len(parse_pattern("[0-9]ABK*").prefixes(confusions=False)) == 10
    capped = parse_pattern("[0-9][0-9]ABK").prefixes(confusions=False, limit=64)
    assert capped == list("0123456789")  # 100 two-character prefixes exceed the limit: stop at one
    assert parse_pattern("*K123").suffixes(confusions=False) == ["23"]
    assert sorted(parse_pattern("*K123").suffixes(confusions=True)) == ["23", "Z3"]
    assert parse_pattern("7AB*").suffixes(confusions=False) is None


def test_multi_day_batches_larger_than_a_row_group_are_found_whole(kit):
    """Bucket files span several row groups holding several plates; every read must come back, after
    multi-day batches (which ingest splits by day) and after compaction."""
    plates = [f"7AB{n:03d}X" for n in range(300)] + ["8XYZ123", "8XYZ12B"]
    svc = kit.login("ingest")
    batches = [random_reads(60_000, seed=s, plates=plates, days=60, prefix=f"B{s}",
                            start=datetime(2026, 3, 1, tzinfo=UTC)) for s in range(2)]
    for batch in batches:
        svc.ingest_reads(batch, progress=False)
    store = Store.open(kit.path)
    bucket_files = store.db.query("SELECT path, rows FROM store_files WHERE kind='by_plate' AND live=1")
    assert max(r["rows"] for r in bucket_files) > 1024
    for row in bucket_files:  # the invariant row-group selection relies on
        assert pl.read_parquet(kit.path / row["path"], columns=["plate"])["plate"].is_sorted(), row["path"]
    everything = pl.concat(batches)
    analyst = kit.login("analyst")

    def check() -> None:
        for pattern in ("7AB0*", "*Z12[3B]", "8XYZ123", "7AB01?X", "*15X"):
            got = analyst.search_plates(pattern, purpose="stolen plates", exact=True)
            expected = everything.filter(pl.col("plate").map_elements(
                lambda p, q=pattern: _reference_match(q, p, False), return_dtype=pl.Boolean))
            assert sorted(got["read_id"]) == sorted(expected["read_id"]), pattern

    check()
    kit.login("admin").compact_store(progress=False)
    check()


def test_row_group_selection_is_correct_on_an_unsorted_file(tmp_path):
    """A bucket file whose row groups are not in plate order (never written so, but possible from another
    writer) must still return every read: the selection falls back to testing each range."""
    from alpr_lib.store import plate_index

    plates = ["M5"] * 1024 + ["A1"] * 1024 + ["Z9"] * 1024 + ["A1"] * 1024  # one plate per row group
    path = tmp_path / "b.parquet"
    pl.DataFrame({"plate": plates, "n": range(len(plates))}).write_parquet(path, row_group_size=1024)
    for wanted, count in ((["A1"], 2048), (["M5"], 1024), (["A1", "Z9"], 3072), (["B2"], 0)):
        found = plate_index._read_plates(str(path), wanted)
        assert (0 if found is None else found.height) == count, wanted


@pytest.mark.parametrize("call, message", [
    (lambda s: s.search_plates("7AB*", purpose=["x"]), "purpose must be text"),
    (lambda s: s.search_plates("7AB*", purpose="stolen plates", region=5), "region must be"),
    (lambda s: s.search_plates("7AB*", purpose="stolen plates", cameras=[1, 2]), "cameras must be a list of text"),
    (lambda s: s.search_plates("7AB*", purpose="stolen plates", cameras="CAM1"), "cameras must be a list"),
    (lambda s: s.search_plates("7AB*", purpose="stolen plates", end="9999-12-31"), "out of range"),
    (lambda s: s.plate_history(None, purpose="stolen plates"), "plate must be text"),
    (lambda s: s.canvass("POLYGON((junk))", 100, 10, 10, purpose="criminal investigation", case_number="24-001234",
                         offense_type="burglary", at="2026-06-01 10:00"), "cannot read the place"),
    (lambda s: s.search_plates("7AB*", purpose="criminal investigation", case_number="２４-００１２３４"),
     "does not match the department format"),
])
def test_inputs_that_escaped_the_door_are_clear_audited_errors(kit, call, message):
    """Issue 10 (6): wrong types and out-of-range values are AlprErrors with a message, each audited once."""
    analyst = kit.login("analyst")
    before = kit.login("auditor").audit_records().height
    with pytest.raises(alpr.AlprError, match=message):
        call(analyst)
    log = kit.login("auditor").audit_records()
    new = log.slice(before)
    mine = new.filter(new["username"] == "analyst")
    assert mine.height == 1 and mine["outcome"][0] in ("error", "denied")
