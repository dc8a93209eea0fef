"""The plate index: a dictionary of distinct plates and a plate-sorted copy of the reads.

Searches by plate would otherwise scan every day of reads. Instead:

* ``index/plates-<batch>.parquet`` — one row per distinct plate: reads, first and last sighting, and the
  *bucket* holding its reads. A pattern is matched against this dictionary (a few million rows at most).
* ``index/by_plate/b=NN/part-<batch>.parquet`` — every read again, split into :data:`N_BUCKETS` buckets and
  sorted by plate inside each file, so one plate's reads are a few adjacent row groups of one bucket.

A plate's bucket is chosen once, when the plate is first seen, and kept in the dictionary, so lookups never
depend on a hash function staying the same across library versions. Both kinds of file are made live by the
same records transaction as the day files (see :mod:`alpr_lib.store.ingest`).
"""

from __future__ import annotations

import os
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from alpr_lib.store.files import live_files, write_parquet_atomic, write_parquet_many
from alpr_lib.store.store import Store

__all__ = ["BY_PLATE_ROW_GROUP", "DICT_SCHEMA", "N_BUCKETS", "dictionary_path", "load_dictionary",
           "plate_reads", "plates_with_prefixes", "plates_with_suffixes", "write_index"]

N_BUCKETS = 64
#: Small row groups: a plate's reads sit in one or two groups, and only those are decoded (measured at 100M
#: reads: 1,024 rows per group reads ~4x less than 4,096 for a leading-wildcard search).
BY_PLATE_ROW_GROUP = 1_024
_HASH_SEED = 462
DICT_SCHEMA = {"plate": pl.String, "n_reads": pl.Int64, "first_seen": pl.Datetime("us", "UTC"),
               "last_seen": pl.Datetime("us", "UTC"), "bucket": pl.Int16}


def dictionary_path(store: Store) -> Path | None:
    files = live_files(store.db, store.path, "plates")
    return files[0] if files else None


@lru_cache(maxsize=2)
def _read_dictionary(path: str) -> pl.DataFrame:
    return pl.read_parquet(path)


def load_dictionary(store: Store) -> pl.DataFrame | None:
    """The plate dictionary, sorted by plate. Cached in memory: each dictionary file is written once and
    replaced (under a new name) by the next ingest, so a cached copy is never stale."""
    path = dictionary_path(store)
    return None if path is None else _read_dictionary(str(path))


def _ranges(sorted_keys: pl.Series, prefixes: list[str]) -> list[tuple[int, int]]:
    """[lo, hi) row ranges of a sorted key column holding each prefix (``~`` sorts after A-Z and 0-9)."""
    lows = sorted_keys.search_sorted(pl.Series(prefixes, dtype=pl.String), side="left")
    highs = sorted_keys.search_sorted(pl.Series([p + "~" for p in prefixes], dtype=pl.String), side="left")
    return [(lo, hi) for lo, hi in zip(lows, highs, strict=True) if hi > lo]


def plates_with_prefixes(dictionary: pl.DataFrame, prefixes: list[str]) -> pl.DataFrame:
    """The dictionary rows whose plate starts with one of ``prefixes``, by binary search on the sorted plates."""
    slices = [dictionary.slice(lo, hi - lo) for lo, hi in _ranges(dictionary.get_column("plate"), prefixes)]
    return pl.concat(slices) if slices else dictionary.clear()


def plates_with_suffixes(dictionary: pl.DataFrame, suffixes: list[str]) -> pl.DataFrame:
    """The dictionary rows whose plate ends with one of ``suffixes`` (a vectorised pre-filter)."""
    plate = pl.col("plate")
    return dictionary.filter(pl.any_horizontal([plate.str.ends_with(s) for s in suffixes]))


def _batch_entries(batch: pl.DataFrame, old: pl.DataFrame | None) -> pl.DataFrame:
    """Dictionary rows for the batch's plates, merged with what the dictionary knew (sorted by plate).

    A plate keeps the bucket it got when first seen; a new plate gets one from a hash of its text."""
    stats = batch.group_by("plate").agg(
        pl.len().cast(pl.Int64).alias("n_reads"), pl.col("captured_at").min().alias("first_seen"),
        pl.col("captured_at").max().alias("last_seen")).sort("plate")
    fresh = (pl.col("plate").hash(_HASH_SEED) % N_BUCKETS).cast(pl.Int16)
    if old is None:
        return stats.with_columns(fresh.alias("bucket"))
    joined = stats.join(old, on="plate", how="left", suffix="_old", maintain_order="left")
    return joined.select(
        "plate",
        (pl.col("n_reads") + pl.col("n_reads_old").fill_null(0)).alias("n_reads"),
        pl.min_horizontal("first_seen", "first_seen_old").alias("first_seen"),
        pl.max_horizontal("last_seen", "last_seen_old").alias("last_seen"),
        pl.coalesce(pl.col("bucket"), fresh).alias("bucket"),
    )


def write_index(store: Store, batch: pl.DataFrame, batch_id: str,
                metadata: dict[str, str]) -> tuple[list[tuple[str, str, int, str, str]], str]:
    """Write the batch's by-plate bucket files and the merged dictionary; return them for the manifest.

    ``batch`` must be sorted by plate (and capture time), as ingest leaves it: the bucket files inherit that
    order, which :func:`plate_reads` relies on to pick row groups. The dictionary is merged
    without re-sorting it: untouched plates and the batch's plates are two sorted runs, merged in one pass."""
    old_dict = dictionary_path(store)
    old = _read_dictionary(str(old_dict)) if old_dict is not None else None
    entries = _batch_entries(batch, old).cast(DICT_SCHEMA)
    bucket_of = pl.col("plate").replace_strict(entries.get_column("plate"), entries.get_column("bucket"))
    if not batch.get_column("plate").is_sorted():
        raise ValueError("write_index needs the batch sorted by plate")  # a programming error, not user input
    rows = batch.with_columns(bucket_of.alias("_bucket"))
    parts = sorted(rows.partition_by("_bucket", maintain_order=True, include_key=False, as_dict=True).items())
    written = [(f"index/by_plate/b={bucket:02d}/part-{batch_id}.parquet", f"{bucket:02d}", part.height,
                part.get_column("plate").min(), part.get_column("plate").max()) for (bucket,), part in parts]
    write_parquet_many([(part, store.path / rel) for (_, part), (rel, *_) in zip(parts, written, strict=True)],
                       row_group_size=BY_PLATE_ROW_GROUP, metadata=metadata)
    if old is None:
        merged = entries
    else:
        untouched = old.join(entries.select("plate"), on="plate", how="anti", maintain_order="left")
        merged = untouched.cast(DICT_SCHEMA).merge_sorted(entries, key="plate")
    dict_rel = f"index/plates-{batch_id}.parquet"
    write_parquet_atomic(merged, store.path / dict_rel, row_group_size=65_536)
    return written, dict_rel


@lru_cache(maxsize=4096)
def _row_groups(path: str) -> tuple[pq.FileMetaData, list[str], list[str], bool]:
    """A bucket file's footer, the plate range of each row group, and whether the ranges are in order.
    Files are immutable (a rewrite gets a new name), so the parsed footer is cached for the life of the
    process: repeated searches skip it."""
    metadata = pq.read_metadata(path)
    column = next(i for i in range(metadata.num_columns) if metadata.schema.column(i).name == "plate")
    stats = [metadata.row_group(g).column(column).statistics for g in range(metadata.num_row_groups)]
    mins, maxs = [st.min for st in stats], [st.max for st in stats]
    ordered = all(maxs[g] <= mins[g + 1] for g in range(len(mins) - 1))
    return metadata, mins, maxs, ordered


def _read_plates(path: str, wanted: list[str]) -> pl.DataFrame | None:
    """Only the row groups whose plate range can hold one of ``wanted``: by binary search when the file is
    sorted by plate (as ingest and compaction write it), else by testing every range."""
    metadata, mins, maxs, ordered = _row_groups(path)
    groups: set[int] = set()
    for plate in wanted:
        if not ordered:
            groups.update(g for g in range(len(mins)) if mins[g] <= plate <= maxs[g])
            continue
        g = bisect_left(maxs, plate)  # first row group whose largest plate is >= plate
        while g < len(mins) and mins[g] <= plate:
            groups.add(g)
            g += 1
    if not groups:
        return None
    table = pq.ParquetFile(path, metadata=metadata).read_row_groups(sorted(groups))
    return pl.from_arrow(table).filter(pl.col("plate").is_in(wanted))


def plate_reads(store: Store, plates: pl.DataFrame) -> list[pl.DataFrame]:
    """The reads of ``plates`` (a frame with plate and bucket columns), one frame per bucket file read."""
    jobs = []
    for bucket, wanted in plates.group_by("bucket").agg(pl.col("plate").sort()).iter_rows():
        for row in store.db.query("SELECT path FROM store_files WHERE kind='by_plate' AND live=1 AND partition=?",
                                  (f"{bucket:02d}",)):
            jobs.append((str(store.path / row["path"]), wanted))
    if len(jobs) == 1:
        found = [_read_plates(*jobs[0])]
    else:  # Parquet decoding releases the GIL: read the buckets side by side
        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
            found = list(pool.map(lambda job: _read_plates(*job), jobs))
    return [f for f in found if f is not None and f.height]
