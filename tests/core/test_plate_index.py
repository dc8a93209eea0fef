"""The plate index: bucket arithmetic that never changes, dictionary levels that always add up to the truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.store import plate_index
from alpr_lib.store.ingest import _first_of_each_id
from alpr_lib.store.store import Store
from alpr_lib.stores import upgrade_store
from tests.conftest import bucket_files_by_tier, random_reads


def test_buckets_are_fixed_arithmetic_of_the_plate():
    """Stores written by one version are read by the next: these values must never change."""
    plates = pl.DataFrame({"plate": ["7ABC123", "ZZ", "00", "99999999", "8XYZ12B"]})
    got = plates.select(plate_index.bucket_expr()).to_series().to_list()
    by_hand = []
    for plate in plates["plate"]:
        key = int.from_bytes(plate.encode().ljust(8, b"\0"), "big")
        by_hand.append(key % 65_521 % plate_index.N_BUCKETS)
    assert got == by_hand


def test_the_packed_key_sorts_like_bucket_then_plate():
    plates = pl.DataFrame({"plate": ["A", "AB", "A0", "Z9Z9Z9Z9", "00000000", "7ABC123", "7ABC12", "7ABC1234",
                                     *random_reads(400, seed=3)["plate"].to_list()]})
    keyed = plate_index.with_bucket_sort_key(plates, "k").with_columns(plate_index.bucket_expr().alias("b"))
    assert (keyed["k"] // plate_index.BUCKET_STRIDE == keyed["b"].cast(pl.UInt64)).all()
    assert keyed.sort("k")["plate"].to_list() == keyed.sort("b", "plate")["plate"].to_list()


def test_first_of_each_id_is_exact():
    ids = pl.Series(["a", "b", "a", "c", "b", "d"])
    assert _first_of_each_id(ids).to_list() == [True, True, False, True, False, True]
    assert _first_of_each_id(pl.Series(["x", "y"])).all()


def _truth(reads: pl.DataFrame) -> pl.DataFrame:
    return (reads.group_by("plate").agg(pl.len().cast(pl.Int64).alias("n_reads"),
                                        pl.col("captured_at").min().alias("first_seen"),
                                        pl.col("captured_at").max().alias("last_seen")).sort("plate"))


def test_dictionary_levels_fold_and_always_match_the_reads(kit):
    """Each ingest adds a delta level; at DELTA_LIMIT deltas the next ingest folds all into a new main
    level; compaction folds the rest. Combined, the levels always equal counts from the reads themselves,
    and searches across levels find exactly what a brute-force scan finds."""
    svc = kit.login("ingest")
    analyst = kit.login("analyst")
    store = Store.open(kit.path)
    plates = [f"7AB{n:03d}X" for n in range(60)] + ["8XYZ123", "8XYZ12B", "7ABK123"]
    batches = []
    deltas_seen = []
    for i in range(plate_index.DELTA_LIMIT + 3):
        batch = random_reads(400, seed=100 + i, plates=plates[: 20 + 4 * i], days=5, prefix=f"L{i}-",
                             start=datetime(2026, 4, 1 + i, tzinfo=UTC))
        svc.ingest_reads(batch, progress=False)
        batches.append(batch)
        levels = plate_index.dictionary_levels(store)
        deltas_seen.append(sum(kind == "plates_delta" for kind, _ in levels))
        assert levels[0][0] == "plates"
        combined = plate_index.combine_levels(plate_index.load_dictionaries(store))
        assert combined.equals(_truth(pl.concat(batches)).cast(plate_index.DICT_SCHEMA)), i
        everything = pl.concat(batches)
        for pattern, regex in (("*Z12[3B]", "Z12[3B]$"), ("7AB00?X", "^7AB00.X$"), ("7AB01*", "^7AB01")):
            got = analyst.search_plates(pattern, purpose="stolen plates", exact=True)
            expected = everything.filter(pl.col("plate").str.contains(regex))["read_id"]
            assert sorted(got["read_id"]) == sorted(expected), (i, pattern)
    assert deltas_seen[0] == 0  # the first batch becomes the main level
    assert max(deltas_seen) == plate_index.DELTA_LIMIT
    assert 0 in deltas_seen[1:]  # a fold happened
    kit.login("admin").compact_store(progress=False)
    levels = plate_index.dictionary_levels(store)
    assert [kind for kind, _ in levels] == ["plates"]
    assert plate_index.load_dictionaries(store)[0].equals(_truth(pl.concat(batches)).cast(plate_index.DICT_SCHEMA))
    live = {row["path"] for row in store.db.query("SELECT path FROM store_files WHERE live=1")}
    on_disk = {p.relative_to(kit.path).as_posix() for p in (kit.path / "index").glob("plates-*.parquet")}
    assert on_disk <= live  # replaced levels were deleted


@pytest.mark.parametrize("chunk_rows", [1, 7, 50, 10_000])
def test_levels_combined_in_plate_ranges_equal_the_reads(chunk_rows):
    """The fold combines the levels one plate range at a time (to bound its memory): whatever the range
    size, a plate's rows from every level must meet in the same range, and the ranges must come out in order."""
    batches = [random_reads(300, seed=200 + i, plates=[f"{c}{n:02d}XY" for c in "7AB8" for n in range(9 * i + 3)],
                            days=4, prefix=f"R{i}-") for i in range(5)]
    levels = [plate_index.batch_dictionary(b.sort("plate", "captured_at")) for b in batches]
    levels[2] = levels[2].sample(fraction=1.0, shuffle=True, seed=1)  # a level read back unsorted is sorted first
    combined = plate_index.combine_levels(levels, chunk_rows=chunk_rows)
    assert combined.equals(_truth(pl.concat(batches)).cast(plate_index.DICT_SCHEMA))


def test_levels_folded_away_leave_the_cache(kit):
    """A 5-12M-plate main level holds 0.3-0.6 GB: once a fold replaced it, no process keeps it in memory."""
    svc = kit.login("ingest")
    store = Store.open(kit.path)
    for i in range(plate_index.DELTA_LIMIT + 2):  # a main level, DELTA_LIMIT deltas, then a fold
        svc.ingest_reads(random_reads(100, seed=300 + i, prefix=f"F{i}-"), progress=False)
        live = [str(path) for _, path in plate_index.dictionary_levels(store)]
        cached = [p for p in plate_index._DICTIONARIES if p.startswith(str(kit.path))]
        assert set(cached) <= set(live), i  # the ingesting process forgets what it folded away
    assert len(live) == 1  # the last ingest folded
    # levels another process folded away are dropped the next time this one loads the dictionary
    gone = str(kit.path / "index" / "plates-folded-elsewhere.parquet")
    plate_index._DICTIONARIES.put(gone, plate_index.load_dictionaries(store)[0])
    plate_index.load_dictionaries(store)
    assert gone not in plate_index._DICTIONARIES


def test_footers_of_files_a_compaction_replaced_leave_the_cache(kit):
    """A parsed bucket footer holds ~11 KB per row group; a long-running service searching every night would
    keep every replaced file's footer unless a search drops those of files no longer live."""
    from alpr_lib.store.compact import compact_days

    svc = kit.login("ingest")
    for i in range(3):
        svc.ingest_reads(random_reads(300, seed=700 + i, prefix=f"C{i}-"), progress=False)
    store = Store.open(kit.path)
    analyst = kit.login("analyst")

    def cached() -> set[str]:
        return {p for p in plate_index._FOOTERS if p.startswith(str(kit.path) + "/")}

    def live() -> set[str]:
        rows = store.db.query("SELECT path FROM store_files WHERE kind='by_plate' AND live=1")
        return {str(kit.path / row["path"]) for row in rows}

    before = analyst.search_plates("7ABK12*", purpose="stolen plates", exact=True)
    first = cached()
    assert first and first <= live()
    compact_days(store)
    assert not first <= live()  # the compaction replaced files whose footers are cached
    after = analyst.search_plates("7ABK12*", purpose="stolen plates", exact=True)
    assert cached() <= live() and cached()
    assert sorted(after["read_id"]) == sorted(before["read_id"])


def test_day_files_are_in_capture_time_order(kit):
    """Time order inside a day file lets time-window scans (canvass, convoy) skip row groups."""
    kit.login("ingest").ingest_reads(random_reads(3000, seed=8, days=3), progress=False)
    store = Store.open(kit.path)
    for row in store.db.query("SELECT path FROM store_files WHERE kind='reads' AND live=1"):
        assert pl.read_parquet(kit.path / row["path"])["captured_at"].is_sorted(), row["path"]


def test_a_frame_changed_in_one_value_is_a_new_batch(kit):
    svc = kit.login("ingest")
    reads = random_reads(50, seed=4)
    assert svc.ingest_reads(reads, progress=False).ingested == 50
    assert svc.ingest_reads(reads.clone(), progress=False).already_ingested
    changed = reads.with_columns(pl.when(pl.col("read_id") == "T0000007").then(pl.lit("NEW0007"))
                                 .otherwise(pl.col("read_id")).alias("read_id"))
    report = svc.ingest_reads(changed, progress=False)
    assert not report.already_ingested and report.ingested == 1 and report.duplicates == 49


def test_a_steady_feed_of_small_batches_keeps_few_files_per_partition(kit):
    """Each small ingest adds a file per day and per bucket; ingest merges a partition's small files once
    there are SMALL_FILES_MERGE_AT of them, so searches never open hundreds of files between compactions."""
    from alpr_lib.store.compact import SMALL_FILES_MERGE_AT

    svc = kit.login("ingest")
    analyst = kit.login("analyst")
    store = Store.open(kit.path)
    plates = ["7ABK123", "7ABK12B", "8XYZ123", "5SAM001", "7A8K123"]
    batches = []
    for i in range(2 * SMALL_FILES_MERGE_AT + 3):
        batch = random_reads(40, seed=300 + i, plates=plates, days=1, prefix=f"F{i}-",
                             start=datetime(2026, 5, 1, tzinfo=UTC))
        svc.ingest_reads(batch, progress=False)
        batches.append(batch)
        counts = store.db.query("SELECT kind, partition, count(*) AS n FROM store_files WHERE live=1 AND "
                                "kind IN ('reads', 'by_plate') GROUP BY kind, partition")
        assert max(row["n"] for row in counts) < SMALL_FILES_MERGE_AT, i
        got = analyst.search_plates("7ABK12*", purpose="stolen plates", exact=True)
        expected = pl.concat(batches).filter(pl.col("plate").str.starts_with("7ABK12"))
        assert sorted(got["read_id"]) == sorted(expected["read_id"]), i
    merged_files = {p.name for p in (kit.path / "reads").rglob("part-c*.parquet")}
    assert merged_files, "no merge happened"
    for row in store.db.query("SELECT path FROM store_files WHERE kind='by_plate' AND live=1"):
        assert pl.read_parquet(kit.path / row["path"])["plate"].is_sorted(), row["path"]
    for row in store.db.query("SELECT path FROM store_files WHERE kind='reads' AND live=1"):
        assert pl.read_parquet(kit.path / row["path"])["captured_at"].is_sorted(), row["path"]
    assert kit.login("admin").store_summary()["reads"] == 40 * len(batches)
    on_disk = {p.relative_to(kit.path).as_posix() for p in (kit.path / "index" / "by_plate").rglob("*.parquet")}
    live = {r["path"] for r in store.db.query("SELECT path FROM store_files WHERE kind='by_plate' AND live=1")}
    assert on_disk == live


def test_a_search_racing_a_merge_reruns_and_is_audited_once(kit, monkeypatch):
    """A search lists the live bucket files, then opens them; here a compaction deletes them in between
    (as a concurrent ingest's small-file merge can). The search must re-list and still find every read."""
    import threading

    from alpr_lib.store.compact import compact_days

    svc = kit.login("ingest")
    batches = [random_reads(300, seed=500 + i, prefix=f"R{i}-") for i in range(3)]
    for batch in batches:
        svc.ingest_reads(batch, progress=False)
    store = Store.open(kit.path)
    original = plate_index._read_plates
    raced = threading.Event()
    lock = threading.Lock()

    def racing_read(path: str, wanted: list[str]):
        with lock:
            if not raced.is_set():
                raced.set()
                compact_days(store)  # the files this search listed are replaced and deleted now
        return original(path, wanted)

    monkeypatch.setattr(plate_index, "_read_plates", racing_read)
    analyst = kit.login("analyst")
    got = analyst.search_plates("7ABK12*", purpose="stolen plates", exact=True)
    assert raced.is_set()
    expected = pl.concat(batches).filter(pl.col("plate").str.starts_with("7ABK12"))
    assert sorted(got["read_id"]) == sorted(expected["read_id"])
    log = kit.login("auditor").audit_records(action="reads.search", username="analyst")
    assert log.height == 1 and log["outcome"].to_list() == ["allowed"]


def test_a_store_of_the_older_layout_is_refused_until_alpr_upgrade(kit, monkeypatch):
    """Layout 1 chose buckets by a Polars hash. Opening such a store does no heavy work: it is refused with a
    message naming `alpr upgrade`, which rebuilds the plate index from the day files (never touched)."""
    from alpr_lib.store import layout

    svc = kit.login("ingest")
    batches = [random_reads(700, seed=600 + i, prefix=f"U{i}-") for i in range(3)]
    for batch in batches:
        svc.ingest_reads(batch, progress=False)
    store = Store.open(kit.path)
    day_files = {r["path"] for r in store.db.query("SELECT path FROM store_files WHERE kind='reads' AND live=1")}
    with store.db.transaction() as tx:  # what an older library left: its own bucket numbering, no layout key
        tx.execute("UPDATE store_files SET partition = '00' WHERE kind = 'by_plate'")
        tx.execute("DELETE FROM meta WHERE key = 'layout'")
    assert layout.layout_version(store) == 1
    monkeypatch.setattr(layout, "_CHUNK_ROWS", 500)  # several chunks, merged per bucket afterwards

    with pytest.raises(alpr.StoreError, match="alpr upgrade --store"):
        kit.login("analyst")
    assert upgrade_store(kit.path) is True
    assert upgrade_store(kit.path) is False  # a second run finds nothing to do
    analyst = kit.login("analyst")
    assert layout.layout_version(Store.open(kit.path)) == layout.LAYOUT_VERSION
    everything = pl.concat(batches)
    for pattern, regex in (("7ABK12*", "^7ABK12"), ("*Z12[3B]", "Z12[3B]$")):
        got = analyst.search_plates(pattern, purpose="stolen plates", exact=True)
        assert sorted(got["read_id"]) == sorted(everything.filter(pl.col("plate").str.contains(regex))["read_id"])
    live = store.db.query("SELECT kind, partition, count(*) AS n FROM store_files WHERE live=1 "
                          "GROUP BY kind, partition")
    assert all(len(rows) == 1 for rows in bucket_files_by_tier(store).values())
    assert {tier for _, tier in bucket_files_by_tier(store)} <= {"purge", "live"}  # none straddles the edge
    assert [r["n"] for r in live if r["kind"] == "plates"] == [1]
    assert not [r for r in live if r["kind"] == "plates_delta"]
    now_days = {r["path"] for r in store.db.query("SELECT path FROM store_files WHERE kind='reads' AND live=1")}
    assert now_days == day_files  # the primary copy was not rewritten
    on_disk = {p.relative_to(kit.path).as_posix() for p in (kit.path / "index").rglob("*.parquet")}
    assert on_disk == {r["path"] for r in store.db.query("SELECT path FROM store_files WHERE live=1 AND "
                                                         "kind IN ('by_plate', 'plates', 'plates_delta')")}
    assert not layout.upgrade_layout(store)  # nothing left to do


def test_a_store_of_layout_2_is_split_at_the_purge_edge_on_upgrade(kit):
    """Layout 2 kept each bucket in files of any capture months; `alpr upgrade` splits them at the purge edge
    (the day files stay): a purge tier (the reads the purges of the coming weeks reach) and a live tier, and
    every search finds the same reads."""
    import pyarrow.parquet as pq

    from alpr_lib.records import manifest, meta
    from alpr_lib.records.manifest import FileEntry
    from alpr_lib.store import layout
    from alpr_lib.store.files import write_parquet_atomic
    from alpr_lib.timeutil import utc_now

    svc = kit.login("ingest")
    reads = random_reads(3_000, seed=808, start=utc_now() - timedelta(days=400), days=399,
                         plates=["7ABK123", "8XYZ123"])
    svc.ingest_reads(reads, progress=False)
    analyst = kit.login("analyst")
    before = analyst.search_plates("7ABK12*", purpose="stolen plates", exact=True).sort("read_id")
    store = Store.open(kit.path)
    by_bucket: dict[str, list[str]] = {}
    for entry in manifest.live_with_rows(store.db, "by_plate"):
        by_bucket.setdefault(entry.partition, []).append(entry.path)
    with store.db.transaction() as tx:  # as layout 2 left them: one file per bucket, all months in it
        for bucket, paths in by_bucket.items():
            frame = pl.read_parquet([kit.path / p for p in paths]).sort("plate", "captured_at")
            rel = f"index/by_plate/b={bucket}/part-legacy.parquet"
            write_parquet_atomic(frame, kit.path / rel, row_group_size=plate_index.BY_PLATE_ROW_GROUP,
                                 lookup_column="plate")
            manifest.retire(tx, paths)
            manifest.add_files(tx, "legacy", [FileEntry(rel, "by_plate", bucket, frame.height,
                                                        frame["plate"].min(), frame["plate"].max())], "2026-06-01")
        meta.put(tx, "layout", "2")
    assert layout.layout_version(store) == 2
    with pytest.raises(alpr.StoreError, match="alpr upgrade --store"):
        kit.login("analyst")
    assert upgrade_store(kit.path) is True
    assert layout.layout_version(Store.open(kit.path)) == layout.LAYOUT_VERSION == 3
    per_tier = bucket_files_by_tier(Store.open(kit.path))
    assert {tier for _, tier in per_tier} == {"purge", "live"}
    assert all(len(rows) == 1 for rows in per_tier.values())
    edge = plate_index.purge_edge(utc_now(), 365)
    for path in (kit.path / "index" / "by_plate").rglob("*.parquet"):
        times = pq.read_table(path, columns=["captured_at"])["captured_at"].to_pylist()
        first, last = plate_index.span_of(path.name)
        assert (f"{min(times):%Y-%m}", f"{max(times):%Y-%m}") == (first, last)
        assert max(times) < edge or min(times) >= edge, path  # no file straddles the edge
    after = kit.login("analyst").search_plates("7ABK12*", purpose="stolen plates", exact=True).sort("read_id")
    assert after.drop("hold", strict=False).equals(before.drop("hold", strict=False))


def test_compaction_splits_a_file_the_purge_edge_has_moved_into(kit, monkeypatch):
    """Once a month the purge edge moves into the live tier's files: the next compaction splits them, however
    large, so that the purge never rewrites the live tier."""
    from alpr_lib.timeutil import utc_now

    svc = kit.login("ingest")
    reads = random_reads(2_000, seed=909, start=utc_now() - timedelta(days=400), days=399)
    with monkeypatch.context() as patch:  # written when the edge was far back: all of it in the live tier
        patch.setattr(plate_index, "PURGE_TIER_DAYS", -800)
        svc.ingest_reads(reads, progress=False)
    assert "straddling" in {tier for _, tier in bucket_files_by_tier(Store.open(kit.path))}
    analyst = kit.login("analyst")
    before = analyst.search_plates("7AB*", purpose="stolen plates").sort("read_id")
    assert kit.login("admin").store_summary()["compaction_advised"]  # before the purge reaches the live tier
    kit.login("admin").compact_store(progress=False)
    assert not kit.login("admin").store_summary()["compaction_advised"]
    per_tier = bucket_files_by_tier(Store.open(kit.path))
    assert {tier for _, tier in per_tier} == {"purge", "live"}  # nothing straddles any more
    assert all(len(rows) == 1 for rows in per_tier.values())
    after = kit.login("analyst").search_plates("7AB*", purpose="stolen plates").sort("read_id")
    assert after.equals(before) and after.height


def test_the_store_summary_says_when_compaction_is_due(kit, monkeypatch):
    from alpr_lib.store import compact

    monkeypatch.setattr(compact, "SMALL_FILE_ROWS", {"reads": 0, "by_plate": 0})  # like bulk batches: never small
    svc = kit.login("ingest")
    admin = kit.login("admin")
    for i in range(compact.SMALL_FILES_MERGE_AT + 1):
        svc.ingest_reads(random_reads(300, seed=700 + i, prefix=f"S{i}-", start=datetime(2026, 5, 2, tzinfo=UTC),
                                      days=20), progress=False)  # one capture month: one file per bucket
        summary = admin.store_summary()
        assert summary["most_files_in_a_plate_bucket"] == i + 1
        assert summary["compaction_advised"] == (i + 1 > compact.SMALL_FILES_MERGE_AT)
    admin.compact_store(progress=False)
    summary = admin.store_summary()
    assert summary["most_files_in_a_plate_bucket"] == 1 and not summary["compaction_advised"]


def test_compaction_writes_files_of_bounded_size_and_a_second_run_merges_nothing(kit, monkeypatch):
    """Compaction reads, sorts and writes each new file whole: capping its rows bounds the memory whatever
    the store's size. Full files (half the cap or more) stay as they are, so compacting again merges nothing,
    and searches see every read throughout; a store of full files is not flagged for compaction."""
    from alpr_lib.areas import store_info as session_module
    from alpr_lib.store import compact

    cap = 20  # a 600-read batch over 3 days writes ~200-row day files (full) and ~9-row bucket files
    monkeypatch.setattr(compact, "COMPACT_MAX_ROWS", cap)
    monkeypatch.setattr(session_module, "COMPACT_MAX_ROWS", cap)
    svc, analyst, admin = kit.login("ingest"), kit.login("analyst"), kit.login("admin")
    batches = [random_reads(600, seed=400 + i, prefix=f"M{i}-", days=3) for i in range(3)]
    for batch in batches:
        svc.ingest_reads(batch, progress=False)
    store = Store.open(kit.path)

    def live() -> list[dict]:
        return store.db.query("SELECT kind, partition, rows, batch_id FROM store_files "
                              "WHERE kind IN ('reads', 'by_plate') AND live=1")

    day_files_before = sorted(f["rows"] for f in live() if f["kind"] == "reads")
    result = admin.compact_store(progress=False)
    assert result["files_merged"] > result["files_written"] > 0
    files = live()
    assert sorted(f["rows"] for f in files if f["kind"] == "reads") == day_files_before  # full: untouched
    written = [f for f in files if f["batch_id"].startswith("c")]
    assert written and all(f["rows"] <= cap for f in written)
    per_partition: dict[tuple[str, str, str | None], list[int]] = {}
    for f in files:
        if f["kind"] == "reads":
            per_partition.setdefault(("reads", f["partition"], None), []).append(f["rows"])
    for (bucket, tier), rows in bucket_files_by_tier(store).items():
        per_partition[("by_plate", bucket, tier)] = rows
    assert all(sum(rows < cap // 2 for rows in sizes) <= 1 for sizes in per_partition.values())
    assert any(len(sizes) > 1 for (kind, _, _), sizes in per_partition.items() if kind == "by_plate")
    everything = pl.concat(batches)
    for pattern, regex in (("*BK12*", "BK12"), ("7AB*", "^7AB")):
        got = analyst.search_plates(pattern, purpose="stolen plates", exact=True)
        assert sorted(got["read_id"]) == sorted(everything.filter(pl.col("plate").str.contains(regex))["read_id"])
    assert admin.compact_store(progress=False)["files_merged"] == 0
    assert not admin.store_summary()["compaction_advised"]


def test_a_written_dictionary_level_is_kept_in_memory(tmp_path):
    """The ingesting process folds levels it wrote itself: it must not read them back from disk."""
    level = pl.DataFrame({"plate": ["7ABC123"], "n_reads": [1],
                          "first_seen": [datetime(2026, 5, 1, tzinfo=UTC)],
                          "last_seen": [datetime(2026, 5, 1, tzinfo=UTC)]}).cast(plate_index.DICT_SCHEMA)
    path = tmp_path / "plates-delta-x.parquet"
    plate_index.write_dictionary(level, path)
    assert plate_index._read_dictionary(str(path)) is level
    assert pl.read_parquet(path).equals(level)  # and it is on disk all the same


def test_only_vanished_data_files_are_retried(tmp_path):
    """A missing file the user named (an export path, an image) fails at once: re-running a call with side
    effects is only safe for the store's own data files."""
    from alpr_lib.access.door import _rerun_if_files_move

    data = tmp_path / "store" / "index"
    calls = []

    def missing(path: str):
        def run():
            calls.append(path)
            if len(calls) < 3:
                raise FileNotFoundError(2, "No such file or directory", path)
            return "ok", 1
        return run

    assert _rerun_if_files_move(missing(str(data / "by_plate" / "x.parquet")), (data,)) == ("ok", 1)
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(FileNotFoundError):
        _rerun_if_files_move(missing(str(tmp_path / "exports" / "out.csv")), (data,))
    assert len(calls) == 1


def test_a_demo_loaded_in_several_batches_ends_compacted(tmp_path, monkeypatch):
    """`alpr demo --reads 100_000_000` ingests 50 batches: the demo must end as the README says a bulk load
    does, with compaction, or its first searches open 50 files per plate bucket."""
    from alpr_lib import demo

    monkeypatch.setattr(demo, "DEMO_BATCH_ROWS", 10_000)
    result = demo.build_demo_store(tmp_path / "store", n_reads=30_000)
    store = Store.open(tmp_path / "store")
    per_bucket = bucket_files_by_tier(store)
    assert {bucket for bucket, _ in per_bucket} == {f"{b:02d}" for b in range(plate_index.N_BUCKETS)}
    assert all(len(rows) == 1 for rows in per_bucket.values())  # one file per bucket and tier
    assert [kind for kind, _ in plate_index.dictionary_levels(store)] == ["plates"]
    batches = store.db.query("SELECT count(*) AS n, sum(rows_ingested) AS reads FROM ingest_batches")[0]
    assert batches["n"] >= 3 and batches["reads"] == result.reads_ingested
