"""The on-disk layout version of a store, and the upgrade of older stores when they are opened.

Like the records database's migrations, an upgrade runs by itself the first time a newer library opens an
older store, under the writer lock (other processes opening the store wait, then find it upgraded). Day
files, the primary copy, are never rewritten; only what is derived from them (the plate index) is rebuilt.

Versions:

1. (no ``layout`` key) plate buckets chosen by a Polars hash and kept in a one-file dictionary.
2. buckets are fixed arithmetic of the plate (:func:`plate_index.bucket_expr`); the dictionary has a main
   level and per-batch deltas; the bucket copy holds no batch columns and is written by Arrow.
3. bucket files are kept in a purge tier and a live tier (``part-<tag>-mFIRST-LAST.parquet``,
   :func:`plate_index.purge_edge`), so that the retention purge rewrites only the purge tier. From version 2
   only the bucket files are rewritten, one at a time, each split at the edge (a crash leaves some files split
   and some not, both correct; a re-run goes on).
"""

from __future__ import annotations

import sys
import uuid

import polars as pl
from tqdm.auto import tqdm

from alpr_lib.errors import StoreError
from alpr_lib.records import Backend, manifest, meta
from alpr_lib.records.manifest import FileEntry
from alpr_lib.store import plate_index
from alpr_lib.store.compact import compact_locked, rewrite_partition
from alpr_lib.store.files import write_parquet_atomic, writer_lock
from alpr_lib.store.schema import READ_SCHEMA
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["LAYOUT_VERSION", "layout_version", "upgrade_layout"]

LAYOUT_VERSION = 3
_CHUNK_ROWS = 2_000_000  # reads rebuilt at a time: bounds the memory an upgrade needs


def layout_version(store: Store) -> int:
    value = meta.get(store.db, "layout")
    return int(value) if value else 1


def _set_version(tx: Backend, version: int) -> None:
    meta.put(tx, "layout", str(version))


def check_layout(store: Store) -> None:
    """Refuse a store whose Parquet layout is older than this release's (``alpr upgrade`` rebuilds it); a store
    without reads is simply stamped with the current version."""
    if layout_version(store) >= LAYOUT_VERSION:
        return
    if manifest.live_paths(store.db, "reads"):
        raise StoreError(f"the store {store.path} was written by an older release and its plate index must be "
                         f"rebuilt once (minutes for a large store): run `alpr upgrade --store {store.path}`")
    with store.db.transaction() as tx:
        _set_version(tx, LAYOUT_VERSION)


def upgrade_layout(store: Store, *, progress: bool | None = None) -> bool:
    """Bring the store to :data:`LAYOUT_VERSION`; returns whether anything was rebuilt."""
    if layout_version(store) >= LAYOUT_VERSION:
        return False
    with writer_lock(store.path):
        if layout_version(store) >= LAYOUT_VERSION:  # another process did it while we waited
            return False
        has_reads = bool(manifest.live_paths(store.db, "reads"))
        show = sys.stderr.isatty() if progress is None else progress
        if has_reads and layout_version(store) == 2:
            _split_bucket_files(store, progress=show)
        elif has_reads:
            _rebuild_plate_index(store, progress=show)
        else:
            with store.db.transaction() as tx:
                _set_version(tx, LAYOUT_VERSION)
        return bool(has_reads)


def _split_bucket_files(store: Store, *, progress: bool) -> None:
    """Version 2 to 3: every bucket file is rewritten split at the purge edge, each in a transaction of its
    own."""
    tag = f"u{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    legacy = [e for e in manifest.live_with_rows(store.db, "by_plate") if plate_index.span_of(e.path) is None]
    for i, entry in enumerate(tqdm(legacy, desc="splitting the plate index at the purge edge", unit="file",
                                   disable=not progress)):
        rewrite_partition(store, "by_plate", entry.partition or "", [entry.path], f"{tag}-{i:05d}", stage="upgrade")
    with store.db.transaction() as tx:
        _set_version(tx, LAYOUT_VERSION)


def _rebuild_chunk(store: Store, paths: list[str], name: str, tag: str
                   ) -> tuple[pl.DataFrame, list[tuple[str, str, int, str, str]]]:
    """Bucket files and dictionary rows of some day files (a function of its own, so that the chunk's reads
    are freed before the next chunk is read)."""
    metadata = {"alpr.store_kind": store.kind, "alpr.store_id": store.store_id, "alpr.batch_id": tag}
    reads = pl.read_parquet([store.path / p for p in paths], columns=list(READ_SCHEMA))
    by_plate = plate_index.with_bucket_sort_key(reads).sort("_k", "captured_at")
    del reads  # the sorted copy is all that is needed from here
    written = []
    edge = plate_index.purge_edge(utc_now(), int(store.config.retention_days))
    for bucket, slice_ in plate_index.bucket_slices(by_plate):
        for first, last, part in plate_index.tier_parts(slice_, edge):
            rel = plate_index.bucket_file(bucket, name, first, last)
            write_parquet_atomic(part, store.path / rel, row_group_size=plate_index.BY_PLATE_ROW_GROUP,
                                 metadata=metadata, lookup_column="plate")
            plates = part.get_column("plate")
            written.append((rel, f"{bucket:02d}", part.height, plates.first(), plates.last()))
    return plate_index.batch_dictionary(by_plate.drop("_k")), written


def _rebuild_plate_index(store: Store, *, progress: bool) -> None:
    """Write the bucket copy and the dictionary again from the day files, then swap them in one transaction."""
    tag = f"u{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    days = [{"path": e.path, "rows": e.rows} for e in manifest.live_with_rows(store.db, "reads")]
    chunks: list[list[str]] = [[]]
    size = 0
    for row in days:
        if size >= _CHUNK_ROWS:
            chunks.append([])
            size = 0
        chunks[-1].append(row["path"])
        size += row["rows"]
    written: list[tuple[str, str, int, str, str]] = []
    deltas = []
    for i, paths in enumerate(tqdm(chunks, desc="upgrading the plate index", unit="chunk", disable=not progress)):
        delta, files = _rebuild_chunk(store, paths, f"{tag}-{i:05d}", tag)
        written += files
        deltas.append(delta)
        if len(deltas) > plate_index.DELTA_LIMIT:  # fold as ingest does: memory stays bounded
            deltas = [plate_index.combine_levels(deltas)]
    dict_rel = f"index/plates-{tag}.parquet"
    plate_index.write_dictionary(plate_index.combine_levels(deltas), store.path / dict_rel)
    del deltas  # written as one level now; the compaction below needs the memory
    old = manifest.live_paths(store.db, ("by_plate", "plates", "plates_delta"))
    now = iso(utc_now())
    with store.db.transaction() as tx:
        manifest.retire(tx, old)
        manifest.add_files(tx, tag, [FileEntry(rel, "by_plate", part, rows, lo, hi)
                                     for rel, part, rows, lo, hi in written] + [FileEntry(dict_rel, "plates")], now)
        _set_version(tx, LAYOUT_VERSION)
    for path in old:
        (store.path / path).unlink(missing_ok=True)
    if len(chunks) > 1:  # as few files per bucket as compaction makes (it bounds the memory this takes)
        compact_locked(store, kinds=("by_plate",))
