"""Compaction: merge the small per-batch files of each day (and of each plate bucket) into one file, and
the plate dictionary's levels into one.

Every ingest adds a file to each day it touches and to each plate bucket, and searches open every live file
of a bucket, so search time grows with the number of batches. Two remedies, both swapping old files for new
in one records transaction (the manifest mechanism of ingest: a crash leaves either the old files or the
new one live, never both):

* :func:`merge_small_files`, run by every ingest: once a partition holds :data:`SMALL_FILES_MERGE_AT` small
  files, they become one. A steady feed of small batches then keeps a handful of files per partition, at a
  cost proportional to the small files only; the large files of bulk loads are left alone.
* :func:`compact_days` (``alpr compact``, nightly): a partition's files are merged into files of up to
  :data:`COMPACT_MAX_ROWS` rows, so compaction needs the same memory whatever the store's size (a store of
  100M reads has one file per partition afterwards).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import polars as pl
from tqdm.auto import tqdm

from alpr_lib.records import manifest
from alpr_lib.records.manifest import FileEntry
from alpr_lib.store import plate_index
from alpr_lib.store.faults import fault
from alpr_lib.store.files import write_parquet_atomic, writer_lock
from alpr_lib.store.schema import DAY_ROW_GROUP
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["COMPACT_MAX_ROWS", "SMALL_FILES_MERGE_AT", "SMALL_FILE_ROWS", "compact_days", "compact_locked",
           "merge_small_files", "rewrite_partition"]


_KINDS = {  # kind -> (path template, sort keys, row group size, key column for the manifest range, lookup column)
    "reads": ("reads/day={part}/part-{tag}.parquet", ("captured_at", "read_id"), DAY_ROW_GROUP, "read_id", None),
    "by_plate": ("index/by_plate/b={part}/part-{tag}.parquet", ("plate", "captured_at"),
                 plate_index.BY_PLATE_ROW_GROUP, "plate", "plate"),
}
#: A file with fewer rows than this counts as small (a 2M-read bulk batch writes ~31k rows per bucket and
#: ~270k per day: never small; a 5-minute feed batch writes a few hundred: small).
SMALL_FILE_ROWS = {"reads": 65_536, "by_plate": 16_384}
#: Small files a partition may hold before ingest merges them.
SMALL_FILES_MERGE_AT = 4
#: Rows of the largest file compaction writes. A file is read, sorted and written whole, so this bounds the
#: memory of compaction: 1.3 GB at 100M reads (whose largest partitions, the plate buckets, hold 1.56M rows),
#: at most ~1.45 GB for a full 2M-row file. Files of at least half this size are full and stay as they are.
COMPACT_MAX_ROWS = 2_000_000


def _new_tag() -> str:
    return f"c{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def rewrite_partition(store: Store, kind: str, part: str, paths: list[str], tag: str, *,
                      stage: str = "compact") -> None:
    """Replace ``paths`` (live files of one partition) by one sorted file, atomically (bucket files by one file
    per tier, split at the purge edge: :func:`plate_index.purge_edge`). ``stage`` (merge or compact) names its
    crash-injection points (:mod:`alpr_lib.store.faults`)."""
    template, keys, row_group, key_column, lookup_column = _KINDS[kind]
    metadata = {"alpr.store_kind": store.kind, "alpr.store_id": store.store_id, "alpr.batch_id": tag}
    frame = pl.read_parquet([store.path / p for p in paths]).sort(*keys)
    if kind == "by_plate":
        edge = plate_index.purge_edge(utc_now(), int(store.config.retention_days))
        parts = [(plate_index.bucket_file(part, tag, first, last), rows)
                 for first, last, rows in plate_index.tier_parts(frame, edge)]
    else:
        parts = [(template.format(part=part, tag=tag), frame)]
    entries = []
    for rel, rows in parts:
        write_parquet_atomic(rows, store.path / rel, row_group_size=row_group, metadata=metadata,
                             lookup_column=lookup_column)
        key = rows.get_column(key_column)
        entries.append(FileEntry(rel, kind, part, rows.height, key.min(), key.max()))
    fault(f"{stage}:before-commit")
    with store.db.transaction() as tx:
        manifest.retire(tx, paths)
        manifest.add_files(tx, tag, entries, iso(utc_now()))
    fault(f"{stage}:after-commit")
    for p in paths:
        (store.path / p).unlink(missing_ok=True)


def _live_by_partition(store: Store, kind: str, *, max_rows: int | None = None
                       ) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """Live files of ``kind`` by (partition, tier of a bucket file), as (path, rows) in the order they were
    written: files of the purge tier and of the live tier are never merged."""
    edge = plate_index.purge_edge(utc_now(), int(store.config.retention_days))
    by_part: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for entry in manifest.live_with_rows(store.db, kind, max_rows=max_rows):
        group = plate_index.tier(entry.path, edge) if kind == "by_plate" else ""
        by_part[(entry.partition or "", group)].append((entry.path, entry.rows))
    return by_part


def _merge_groups(files: list[tuple[str, int]], *, rewrite: bool) -> list[list[str]]:
    """Groups of one partition's files to merge, each into one file of at most :data:`COMPACT_MAX_ROWS`
    rows (a file bigger than that on its own stays whole). Full files stay as they are; the others are
    grouped in order, so a group closes only when the next file would not fit, and after compaction a
    partition holds at most one file that is not full. ``rewrite`` rewrites every file, alone or grouped."""
    groups: list[list[str]] = []
    group: list[str] = []
    rows_in_group = 0
    for path, rows in files:
        if rows >= COMPACT_MAX_ROWS // 2:  # full
            if rewrite:
                groups.append([path])
            continue
        if group and rows_in_group + rows > COMPACT_MAX_ROWS:
            groups.append(group)
            group, rows_in_group = [], 0
        group.append(path)
        rows_in_group += rows
    if group:
        groups.append(group)
    return [g for g in groups if len(g) > 1 or rewrite]


def merge_small_files(store: Store) -> int:
    """Merge the small files of every partition holding at least :data:`SMALL_FILES_MERGE_AT` of them;
    returns the number of files merged. The caller holds the writer lock (ingest does)."""
    merged = 0
    tag = _new_tag()
    for kind in _KINDS:
        for (part, _), files in sorted(_live_by_partition(store, kind, max_rows=SMALL_FILE_ROWS[kind]).items()):
            if len(files) >= SMALL_FILES_MERGE_AT:
                rewrite_partition(store, kind, part, [path for path, _ in files], tag, stage="merge")
                merged += len(files)
    return merged


def compact_days(store: Store, *, progress: bool = False, rewrite: bool = False,
                 kinds: tuple[str, ...] = tuple(_KINDS)) -> dict[str, int]:
    """Merge each partition's files into as few as :data:`COMPACT_MAX_ROWS` allows, and the dictionary
    levels into one; returns counts of files written and files merged.

    ``rewrite=True`` rewrites every file, even alone (after a change of layout, e.g. row-group size)."""
    with writer_lock(store.path):
        return compact_locked(store, progress=progress, rewrite=rewrite, kinds=kinds)


def compact_locked(store: Store, *, progress: bool = False, rewrite: bool = False,
                   kinds: tuple[str, ...] = tuple(_KINDS)) -> dict[str, int]:
    """:func:`compact_days` for a caller that holds the writer lock already (a layout upgrade)."""
    tag = _new_tag()
    merged_files = files_written = 0
    for kind in _KINDS:
        if kind not in kinds:
            continue
        todo = []
        for (part, group), files in sorted(_live_by_partition(store, kind).items()):
            # a file the purge edge has moved into (once a month) is split whatever its size, so that the
            # purge never rewrites the live tier
            split = group in ("straddling", "unsplit")
            todo += [(part, paths) for paths in _merge_groups(files, rewrite=rewrite or split)]
        for i, (part, paths) in enumerate(tqdm(todo, desc=f"compact {kind}", unit="file", disable=not progress)):
            rewrite_partition(store, kind, part, paths, f"{tag}-{i}")
            merged_files += len(paths)
            files_written += 1
    if "by_plate" in kinds and len(plate_index.dictionary_levels(store)) > 1:
        rel, replaced = plate_index.merge_levels(store, tag)
        with store.db.transaction() as tx:
            manifest.retire(tx, replaced)
            manifest.add_files(tx, tag, [FileEntry(rel, "plates")], iso(utc_now()))
        for p in replaced:
            (store.path / p).unlink(missing_ok=True)
        merged_files += len(replaced)
        files_written += 1
    return {"files_written": files_written, "files_merged": merged_files}
