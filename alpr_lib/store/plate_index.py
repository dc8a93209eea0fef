"""The plate index: a dictionary of distinct plates and a plate-sorted copy of the reads.

Searches by plate would otherwise scan every day of reads. Instead:

* the *dictionary*, one row per distinct plate: reads, first and last sighting. A pattern is matched against
  it (a few million rows at most). It has two levels, like a log-structured merge tree, so that an ingest
  never rewrites it whole: ``index/plates-<batch>.parquet`` (the main level, kind ``plates``) and one small
  ``index/plates-delta-<batch>.parquet`` per recent batch (kind ``plates_delta``). When
  :data:`DELTA_LIMIT` deltas have piled up, the next ingest folds them into a new main level (one
  numeric sort). Readers combine the levels (:func:`load_dictionaries`, :func:`combine_levels`).
* ``index/by_plate/b=NN/part-<batch>-mFIRST-LAST.parquet`` — every read again, split into :data:`N_BUCKETS`
  buckets and sorted by plate inside each file, so one plate's reads are a few adjacent row groups of one
  bucket (1,024-row groups, min/max statistics on ``plate`` only, LZ4; see ``files.write_parquet_atomic``).
  The name says the first and last UTC capture month the file holds. Files are kept in two tiers
  (:func:`purge_edge`): the *purge tier*, the reads the retention purges of the coming weeks reach (a month or
  two), and the *live tier*, every younger read; compaction never merges the tiers and splits a file the edge
  has moved into. A day's purge then rewrites only the purge tier, and a search still finds a plate's reads in
  one file per tier.

A plate's bucket is a fixed arithmetic function of its text (:func:`bucket_expr`), the same in every
version of this library and of Polars, so neither ingest nor search needs a lookup to find it. All these
files are made live by the same records transaction as the day files (see :mod:`alpr_lib.store.ingest`).
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from alpr_lib.records import manifest
from alpr_lib.store.files import write_parquet_atomic
from alpr_lib.store.path_cache import PathCache
from alpr_lib.store.store import Store

__all__ = [
    "BUCKET_STRIDE",
    "BY_PLATE_ROW_GROUP",
    "DELTA_LIMIT",
    "DICT_SCHEMA",
    "FOLD_CHUNK_ROWS",
    "N_BUCKETS",
    "PURGE_TIER_DAYS",
    "batch_dictionary",
    "bucket_expr",
    "bucket_file",
    "bucket_slices",
    "combine_levels",
    "dictionary_levels",
    "forget_dictionaries",
    "load_dictionaries",
    "merge_levels",
    "month_after",
    "plate_key_expr",
    "plate_reads",
    "plates_with_prefixes",
    "plates_with_suffixes",
    "purge_edge",
    "read_plate_times",
    "span_of",
    "tier",
    "tier_parts",
    "with_bucket_sort_key",
    "write_dictionary",
]

N_BUCKETS = 64
#: Small row groups: a plate's reads sit in one or two groups, and only those are decoded (measured at 100M
#: reads: 1,024 rows per group reads ~4x less than 4,096 for a leading-wildcard search).
BY_PLATE_ROW_GROUP = 1_024
#: Dictionary deltas kept before an ingest folds them into the main level: more makes ingest cheaper
#: (the main level is rewritten once per this many batches) and searches slightly dearer (each level is
#: matched; a delta holds one batch's plates).
DELTA_LIMIT = 8
_BUCKET_PRIME = 65_521  # largest prime below 2**16: every character moves the remainder
DICT_SCHEMA = {"plate": pl.String, "n_reads": pl.Int64, "first_seen": pl.Datetime("us", "UTC"),
               "last_seen": pl.Datetime("us", "UTC")}


def plate_key_expr(column: str = "plate") -> pl.Expr:
    """A plate's text as a big-endian unsigned 64-bit number (NUL-padded to 8 characters).

    Stored plates are 2-8 characters of A-Z/0-9, so the numbers sort exactly as the texts do; sorting
    numbers is ~4x faster than sorting strings, which is why ingest sorts by this key."""
    return (pl.col(column).str.pad_end(8, "\x00").cast(pl.Binary)
            .bin.reinterpret(dtype=pl.UInt64, endianness="big"))


def bucket_expr(column: str = "plate") -> pl.Expr:
    """The bucket of each plate: its 64-bit key modulo a prime, modulo :data:`N_BUCKETS`.

    Plain integer arithmetic, so it never changes with a library version (unlike a hash function)."""
    return _bucket_of_key(plate_key_expr(column))


def _bucket_of_key(key: pl.Expr) -> pl.Expr:
    return ((key % _BUCKET_PRIME) % N_BUCKETS).cast(pl.Int16)


#: ``sort key // BUCKET_STRIDE`` is the bucket (see :func:`with_bucket_sort_key`).
BUCKET_STRIDE = 128**8


def with_bucket_sort_key(frame: pl.DataFrame, name: str = "_k") -> pl.DataFrame:
    """``frame`` plus a column ``name`` holding one number that sorts like (bucket, plate): the bucket
    times :data:`BUCKET_STRIDE` plus the plate's eight characters at 7 bits each (every stored character
    is below 128, so the order is kept).

    Ingest sorts a batch by it once and cuts the bucket files as contiguous slices. Two steps, so that the
    plate's 64-bit key is computed once (one expression would evaluate it nine times: 0.26 s vs 0.05 s
    for 2M reads)."""
    keyed = frame.with_columns(plate_key_expr().alias(name))
    key = pl.col(name)
    packed = sum(((key // 256**(7 - i)) % 256) * 128**(7 - i) for i in range(8))
    return keyed.with_columns((_bucket_of_key(key).cast(pl.UInt64) * BUCKET_STRIDE + packed).alias(name))


def bucket_slices(frame: pl.DataFrame) -> list[tuple[int, pl.DataFrame]]:
    """Zero-copy slices of a frame sorted by the key of :func:`with_bucket_sort_key` (column ``_k``, which
    the slices drop), one per bucket."""
    buckets = frame.get_column("_k").cast(pl.Int64) // BUCKET_STRIDE
    starts = (buckets != buckets.shift()).fill_null(True).arg_true().to_list()
    ends = [*starts[1:], frame.height]
    return [(int(buckets[lo]), frame.slice(lo, hi - lo).drop("_k")) for lo, hi in zip(starts, ends, strict=True)]


_SPAN = re.compile(r"-m(\d{4}-\d{2})-(\d{4}-\d{2})\.parquet$")

#: Days past the retention cutoff that the purge tier reaches: a bucket file holds either reads captured up to
#: the end of the month of ``now - retention + PURGE_TIER_DAYS`` (those the purges of the coming weeks reach) or
#: only younger ones (see :func:`purge_edge`).
PURGE_TIER_DAYS = 14


def bucket_file(bucket: int | str, tag: str, first: str, last: str) -> str:
    """The store path of a bucket file holding reads of the UTC capture months ``first`` to ``last``
    (``YYYY-MM``)."""
    return f"index/by_plate/b={int(bucket):02d}/part-{tag}-m{first}-{last}.parquet"


def span_of(path: str) -> tuple[str, str] | None:
    """The first and last capture month a bucket file holds, or None for a file from before files said so."""
    found = _SPAN.search(path)
    return (found.group(1), found.group(2)) if found else None


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=UTC)


def month_after(moment: datetime) -> datetime:
    """The start of the UTC month after the one ``moment`` falls in."""
    utc = moment.astimezone(UTC)
    return _month_start(utc.year, utc.month + 1)


def purge_edge(now: datetime, retention_days: int) -> datetime:
    """Where the purge tier ends: reads captured before this instant are kept in bucket files apart from younger
    ones, so that the purges of the coming weeks rewrite those files only (a month or two of the copy) and
    never open the rest, where every plate's reads stay in one file for searches."""
    return month_after(now - timedelta(days=retention_days) + timedelta(days=PURGE_TIER_DAYS))


def tier(path: str, edge: datetime) -> str:
    """``purge`` (every read before ``edge``), ``live`` (every read after it), ``straddling`` (both: the edge
    moved past its first month since it was written; compaction splits it) or ``unsplit`` (a file from before)."""
    span = span_of(path)
    if span is None:
        return "unsplit"
    last_old = f"{edge - timedelta(days=1):%Y-%m}"
    if span[1] <= last_old:
        return "purge"
    return "live" if span[0] > last_old else "straddling"


def tier_parts(frame: pl.DataFrame, edge: datetime) -> list[tuple[str, str, pl.DataFrame]]:
    """The rows of ``frame`` before and after ``edge`` (order kept), each with its first and last capture
    month: the frame itself when it lies on one side (a live feed's batch), else two filters."""
    times = frame.get_column("captured_at")
    lo, hi = times.min(), times.max()
    if lo is None or hi is None:
        return []
    assert isinstance(lo, datetime) and isinstance(hi, datetime)
    if lo >= edge or hi < edge:
        return [(f"{lo.astimezone(UTC):%Y-%m}", f"{hi.astimezone(UTC):%Y-%m}", frame)]
    out = []
    for part in (frame.filter(pl.col("captured_at") < edge), frame.filter(pl.col("captured_at") >= edge)):
        first, last = part.get_column("captured_at").min(), part.get_column("captured_at").max()
        assert isinstance(first, datetime) and isinstance(last, datetime)
        out.append((f"{first.astimezone(UTC):%Y-%m}", f"{last.astimezone(UTC):%Y-%m}", part))
    return out


def dictionary_levels(store: Store) -> list[tuple[str, Path]]:
    """The live dictionary files as (kind, path): the main level first, then the deltas oldest first."""
    return [(kind, store.path / path) for kind, path in manifest.dictionary_levels(store.db)]


#: Dictionary levels by path (the writer puts its own too: the next fold then reads nothing).
_DICTIONARIES: PathCache[pl.DataFrame] = PathCache(kept=2 * DELTA_LIMIT + 4)


def _read_dictionary(path: str) -> pl.DataFrame:
    frame = _DICTIONARIES.get(path)
    if frame is None:
        frame = pl.read_parquet(path).select(list(DICT_SCHEMA)).cast(DICT_SCHEMA)
        _DICTIONARIES.put(path, frame)
    return frame


def write_dictionary(frame: pl.DataFrame, path: Path) -> None:
    """Write a dictionary level (atomically) and keep it in memory for this process."""
    write_parquet_atomic(frame, path, row_group_size=65_536)
    _DICTIONARIES.put(str(path), frame)


def load_dictionaries(store: Store) -> list[pl.DataFrame]:
    """Every dictionary level, each sorted by plate. Cached in memory: a dictionary file is written once
    and never changed (a merge writes a new one under a new name), so a cached copy is never stale; levels
    another process has since folded away are dropped from the cache here."""
    paths = [str(path) for _, path in dictionary_levels(store)]
    index_dir = str(store.path / "index") + os.sep
    _DICTIONARIES.forget_where(lambda p: p.startswith(index_dir) and p not in paths)
    return [_read_dictionary(path) for path in paths]


def forget_dictionaries(paths: list[str]) -> None:
    """Drop levels from the in-memory cache (after a fold replaced them: a 5-12M-plate main level holds
    0.3-0.6 GB)."""
    _DICTIONARIES.forget(paths)


#: Rows of all levels combined per plate range in :func:`combine_levels` (bounds its working memory).
FOLD_CHUNK_ROWS = 1_000_000


def combine_levels(frames: list[pl.DataFrame], *, chunk_rows: int = FOLD_CHUNK_ROWS) -> pl.DataFrame:
    """Rows of several levels merged into one row per plate (sorted): counts add up, first and last
    sightings widen.

    Every level is sorted by plate, so the plates split into ranges that hold about ``chunk_rows`` rows of
    all levels together, each range is combined on its own and the results follow each other. At 100M reads
    (a 12M-plate main level and eight deltas) that takes 1.1 s and 0.7 GB above the levels themselves, where
    combining everything at once took 2.3 s and 1.5 GB."""
    frames = [f if f.get_column("plate").is_sorted() else f.sort("plate") for f in frames if f.height]
    if not frames:
        return pl.DataFrame(schema=DICT_SCHEMA)
    if len(frames) == 1:
        return frames[0]
    total = sum(f.height for f in frames)
    largest = max(frames, key=lambda f: f.height).get_column("plate")
    n_ranges = -(-total // chunk_rows)
    bounds = pl.Series([largest[i * largest.len() // n_ranges] for i in range(1, n_ranges)], dtype=pl.String)
    cuts = [[0, *f.get_column("plate").search_sorted(bounds, side="left").to_list(), f.height] for f in frames]
    ranges = []
    for r in range(n_ranges):  # a plate equal to a bound starts the next range in every level alike
        parts = [f.slice(cut[r], cut[r + 1] - cut[r]) for f, cut in zip(frames, cuts, strict=True)]
        parts = [part for part in parts if part.height]
        if parts:
            ranges.append(_combine_range(parts))
    return pl.concat(ranges) if ranges else pl.DataFrame(schema=DICT_SCHEMA)


def _combine_range(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """:func:`combine_levels` for level slices of one plate range."""
    if len(frames) == 1:
        return frames[0]
    if len(frames) == 2:  # one sorted merge
        return _sum_sorted(frames[0].merge_sorted(frames[1], key="plate"))
    # a chain of merges would copy the first slice once per level; one numeric sort is ~3x faster
    merged = pl.concat(frames).with_columns(plate_key_expr().alias("_k")).sort("_k", maintain_order=True)
    return _sum_sorted(merged.drop("_k"))


def _sum_sorted(levels: pl.DataFrame) -> pl.DataFrame:
    """One row per plate of rows sorted by plate: counts add up, first and last sightings widen."""
    return (levels.lazy().with_columns(pl.col("plate").set_sorted())
            .group_by("plate", maintain_order=True)
            .agg(pl.col("n_reads").sum(), pl.col("first_seen").min(), pl.col("last_seen").max())
            .collect())


def batch_dictionary(batch: pl.DataFrame) -> pl.DataFrame:
    """The dictionary rows of one batch, sorted by plate.

    ``batch`` must hold each plate's reads together and in time order (ingest's (bucket, plate) sort
    leaves it so): then a plate's rows are one run, and its count, first and last sighting are read off the
    run's ends instead of grouping by hash (~0.05 s rather than ~0.2 s for 2M reads)."""
    plates = batch.get_column("plate")
    starts = (plates != plates.shift()).fill_null(True).arg_true()
    ends = pl.concat([starts.slice(1), pl.Series([batch.height], dtype=starts.dtype)])
    times = batch.get_column("captured_at")
    stats = pl.DataFrame({"plate": plates.gather(starts), "n_reads": (ends - starts).cast(pl.Int64),
                          "first_seen": times.gather(starts), "last_seen": times.gather(ends - 1)})
    return stats.sort(plate_key_expr()).cast(DICT_SCHEMA)


def merge_levels(store: Store, tag: str, pending: pl.DataFrame | None = None) -> tuple[str, list[str]]:
    """Write every live level (plus ``pending``, not yet live) as one new main dictionary.

    Returns the new file (relative to the store) and the files it replaces; the caller swaps them in
    its records transaction. The replaced levels leave this process's cache at once (should the swap
    fail, they are read from disk again when next needed)."""
    levels = dictionary_levels(store)
    frames = [_read_dictionary(str(path)) for _, path in levels]
    if pending is not None:
        frames.append(pending)
    rel = f"index/plates-{tag}.parquet"
    write_dictionary(combine_levels(frames), store.path / rel)
    del frames
    forget_dictionaries([str(path) for _, path in levels])
    return rel, [path.relative_to(store.path).as_posix() for _, path in levels]


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


_Footer = tuple[pq.FileMetaData, list[str], list[str], bool]
#: Parsed bucket-file footers by path (~11 KB per 1,024-row group: ~1 GB for every bucket of a 100M store).
_FOOTERS: PathCache[_Footer] = PathCache(kept=4096)


def _row_groups(path: str) -> _Footer:
    """A bucket file's footer, cached: files are immutable (a rewrite gets a new name), so repeated
    searches skip parsing it. Footers of files a compaction replaced are dropped by :func:`plate_reads`."""
    footer = _FOOTERS.get(path)
    if footer is None:
        footer = _parse_footer(path)
        _FOOTERS.put(path, footer)
    return footer


def _forget_replaced_footers(live_by_dir: dict[str, set[str]]) -> None:
    """Drop the cached footers of files no longer live in the bucket folders just listed (a long-running
    API service would otherwise keep every night's replaced files: ~1 GB a day on a 100M store). One pass
    over the cache, whatever the number of buckets."""
    _FOOTERS.forget_where(lambda p: p not in live_by_dir.get(p.rpartition(os.sep)[0], (p,)))


def _parse_footer(path: str) -> _Footer:
    """The footer, the plate range of each row group, and whether the ranges are in order."""
    metadata = pq.read_metadata(path)
    column = next(i for i in range(metadata.num_columns) if metadata.schema.column(i).name == "plate")
    stats = [metadata.row_group(g).column(column).statistics for g in range(metadata.num_row_groups)]
    mins, maxs = [st.min for st in stats], [st.max for st in stats]
    ordered = all(maxs[g] <= mins[g + 1] for g in range(len(mins) - 1))
    return metadata, mins, maxs, ordered


def _groups_for(mins: list[str], maxs: list[str], ordered: bool, wanted: list[str]) -> list[int]:
    """The row groups whose plate range can hold one of ``wanted``: by binary search when the file is sorted
    by plate (as ingest and compaction write it), else by testing every range."""
    groups: set[int] = set()
    for plate in wanted:
        if not ordered:
            groups.update(g for g in range(len(mins)) if mins[g] <= plate <= maxs[g])
            continue
        g = bisect_left(maxs, plate)  # first row group whose largest plate is >= plate
        while g < len(mins) and mins[g] <= plate:
            groups.add(g)
            g += 1
    return sorted(groups)


def _read_plates(path: str, wanted: list[str]) -> pl.DataFrame | None:
    """Only the row groups whose plate range can hold one of ``wanted``: by binary search when the file is
    sorted by plate (as ingest and compaction write it), else by testing every range."""
    metadata, mins, maxs, ordered = _row_groups(path)
    groups = _groups_for(mins, maxs, ordered, wanted)
    if not groups:
        return None
    table = pq.ParquetFile(path, metadata=metadata).read_row_groups(groups)
    return pl.from_arrow(table).filter(pl.col("plate").is_in(wanted))


def read_plate_times(path: str, wanted: list[str]) -> pl.DataFrame | None:
    """(plate, captured_at) of ``wanted`` (sorted) in one bucket file: only the row groups that can hold them,
    and only those two columns. For a one-off pass over many files (the purge): the footer is not kept (a
    parsed footer takes ~1.3 MB per 120 row groups; every footer of a 100M-read store, ~1 GB)."""
    metadata, mins, maxs, ordered = _parse_footer(path)
    groups = _groups_for(mins, maxs, ordered, wanted)
    if not groups:
        return None
    table = pq.ParquetFile(path, metadata=metadata).read_row_groups(groups, columns=["plate", "captured_at"])
    table = table.filter(pc.is_in(table.column("plate"), value_set=pa.array(wanted, pa.string())))
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def plate_reads(store: Store, plates: pl.DataFrame) -> list[pl.DataFrame]:
    """The reads of ``plates`` (a frame with a plate column), one frame per bucket file read."""
    jobs = []
    live_by_dir: dict[str, set[str]] = {}
    by_bucket = plates.select("plate").unique().with_columns(bucket_expr().alias("bucket"))
    for bucket, wanted in by_bucket.group_by("bucket").agg(pl.col("plate").sort()).iter_rows():
        live = [str(store.path / path) for path in manifest.live_paths(store.db, "by_plate",
                                                                       partition=f"{bucket:02d}")]
        live_by_dir[str(store.path / "index" / "by_plate" / f"b={bucket:02d}")] = set(live)
        jobs.extend((path, wanted) for path in live)
    _forget_replaced_footers(live_by_dir)
    if len(jobs) == 1:
        found = [_read_plates(*jobs[0])]
    else:  # Parquet decoding releases the GIL: read the buckets side by side
        with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
            found = list(pool.map(lambda job: _read_plates(*job), jobs))
    return [f for f in found if f is not None and f.height]
