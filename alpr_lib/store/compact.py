"""Compaction: merge the small per-batch files of each day (and of each plate bucket) into one file, and
the plate dictionary's levels into one.

Frequent small ingests leave many files per day and per bucket; searches then open many footers. Compaction
rewrites each partition with more than one live file into a single sorted file, swapping old for new in one
records transaction (the same manifest mechanism as ingest, so a crash leaves either the old files or the new
one live, never both).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import polars as pl
from tqdm.auto import tqdm

from alpr_lib.store import plate_index
from alpr_lib.store.files import write_parquet_atomic
from alpr_lib.store.ingest import DAY_ROW_GROUP, writer_lock
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["compact_days"]


_KINDS = {  # kind -> (path template, sort keys, row group size, key column for the manifest range)
    "reads": ("reads/day={part}/part-{tag}.parquet", ("captured_at", "read_id"), DAY_ROW_GROUP, "read_id"),
    "by_plate": ("index/by_plate/b={part}/part-{tag}.parquet", ("plate", "captured_at"),
                 plate_index.BY_PLATE_ROW_GROUP, "plate"),
}


def compact_days(store: Store, *, progress: bool = False, rewrite: bool = False,
                 kinds: tuple[str, ...] = tuple(_KINDS)) -> dict[str, int]:
    """Rewrite every multi-file partition as one file; returns counts of partitions and files merged.

    ``rewrite=True`` rewrites single-file partitions too (after a change of layout, e.g. row-group size)."""
    with writer_lock(store):
        tag = f"c{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        metadata = {"alpr.store_kind": store.kind, "alpr.store_id": store.store_id, "alpr.batch_id": tag}
        merged_files = partitions = 0
        for kind, (template, keys, row_group, key_column) in _KINDS.items():
            if kind not in kinds:
                continue
            rows = store.db.query("SELECT path, partition FROM store_files WHERE kind=? AND live=1", (kind,))
            by_part: dict[str, list[str]] = defaultdict(list)
            for row in rows:
                by_part[row["partition"]].append(row["path"])
            todo = {part: paths for part, paths in by_part.items() if len(paths) > 1 or rewrite}
            for part, paths in tqdm(sorted(todo.items()), desc=f"compact {kind}", unit="partition",
                                    disable=not progress):
                frame = pl.read_parquet([store.path / p for p in paths]).sort(*keys)
                rel = template.format(part=part, tag=tag)
                write_parquet_atomic(frame, store.path / rel, row_group_size=row_group, metadata=metadata)
                key = frame.get_column(key_column)
                with store.db.transaction() as tx:
                    tx.executemany("UPDATE store_files SET live = 0 WHERE path = ?", [(p,) for p in paths])
                    tx.execute("INSERT INTO store_files(path, batch_id, kind, partition, rows, min_key, max_key, "
                               "live, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                               (rel, tag, kind, part, frame.height, key.min(), key.max(), iso(utc_now())))
                for p in paths:
                    (store.path / p).unlink(missing_ok=True)
                merged_files += len(paths)
                partitions += 1
        if "by_plate" in kinds and len(plate_index.dictionary_levels(store)) > 1:
            rel, replaced = plate_index.merge_levels(store, tag)
            with store.db.transaction() as tx:
                tx.executemany("UPDATE store_files SET live = 0 WHERE path = ?", [(p,) for p in replaced])
                tx.execute("INSERT INTO store_files(path, batch_id, kind, partition, rows, live, created_at) "
                           "VALUES (?, ?, 'plates', NULL, 0, 1, ?)", (rel, tag, iso(utc_now())))
            for p in replaced:
                (store.path / p).unlink(missing_ok=True)
            merged_files += len(replaced)
            partitions += 1
        return {"partitions": partitions, "files_merged": merged_files}
