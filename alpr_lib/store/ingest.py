"""Atomic, idempotent ingest of plate reads (policy 462.4: data transferred from vehicles to the store).

One batch = one transaction: validated rows are written as new per-day Parquet files (sorted by plate),
the plate dictionary is rewritten, and only then does one records-database transaction make all of them
live together. Ingesting the same batch twice adds nothing (same content hash, and read_ids already stored
are skipped). Writers are serialised by a lock file; readers are never blocked.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from alpr_lib.errors import IngestError
from alpr_lib.store import plate_index
from alpr_lib.store.files import remove_orphans, write_parquet_many
from alpr_lib.store.schema import READ_SCHEMA, STORE_COLUMNS
from alpr_lib.store.store import Store
from alpr_lib.store.validate import validate_reads
from alpr_lib.timeutil import iso, utc_now

__all__ = ["IngestReport", "ingest_frame", "load_batch", "writer_lock"]



@dataclass(frozen=True)
class IngestReport:
    """What one ingest did: counts, and every rejected row with the reason."""

    source_name: str
    rows_in: int
    ingested: int
    duplicates: int
    rejected: pl.DataFrame
    batch_id: str | None = None
    already_ingested: bool = False
    ignored_columns: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rejected_rows(self) -> int:
        return self.rejected.get_column("row").n_unique() if len(self.rejected) else 0

    def summary(self) -> str:
        if self.already_ingested:
            return f"{self.source_name}: already ingested (batch with identical content); nothing added"
        text = (f"{self.source_name}: {self.rows_in} rows read, {self.ingested} ingested, "
                f"{self.duplicates} already in the store, {self.rejected_rows} rejected")
        if self.ignored_columns:
            text += f"; ignored unknown columns {list(self.ignored_columns)}"
        return text


def load_batch(source: str | os.PathLike | pl.DataFrame, *, expected_kind: str) -> tuple[pl.DataFrame, str, str]:
    """Read a CSV or Parquet file (or take a frame) and return it with a name and a content hash."""
    if isinstance(source, pl.DataFrame):
        buffer = io.BytesIO()
        source.write_ipc(buffer)
        frame, name, digest = source, "dataframe", hashlib.sha256(buffer.getvalue()).hexdigest()
    else:
        path = Path(source)
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        name = path.name
        suffix = path.suffix.lower()
        try:
            if suffix == ".csv":
                frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False)
            elif suffix in (".parquet", ".pq"):
                kind = (pl.read_parquet_metadata(path) or {}).get("alpr.store_kind")
                if kind is not None and kind != expected_kind:
                    raise IngestError(
                        f"{path} holds reads exported from a {kind} store; they cannot enter a "
                        f"{expected_kind} store (training and operational reads never mix)"
                    )
                frame = pl.read_parquet(path)
            else:
                raise IngestError(f"{path}: unsupported file type {suffix!r}; give a .csv or .parquet file")
        except IngestError:
            raise
        except Exception as exc:  # polars raises several error types for malformed files
            raise IngestError(f"{path}: cannot read the file: {exc}") from None
    if "store_kind" in frame.columns:
        kinds = set(frame.get_column("store_kind").cast(pl.String).unique().to_list()) - {None}
        if kinds - {expected_kind}:
            raise IngestError(f"the batch holds reads marked {sorted(kinds)}; this is a {expected_kind} store "
                              "(training and operational reads never mix)")
        frame = frame.drop("store_kind")
    return frame, name, digest


@contextmanager
def writer_lock(store: Store) -> Iterator[None]:
    with open(store.path / ".ingest.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fault(point: str) -> None:
    """Test-only crash injection (ALPR_FAULT_INJECT=ingest:<point>) to prove ingest is atomic."""
    if os.environ.get("ALPR_FAULT_INJECT") == f"ingest:{point}":
        os._exit(70)


def _derive_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Stable ids for reads that came without one: a hash of camera, time and plate."""
    missing = frame.get_column("read_id").is_null() | (frame.get_column("read_id") == "")
    if not missing.any():
        return frame
    keys = frame.filter(missing).select(
        pl.concat_str([pl.col("camera_id"), pl.col("captured_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f"),
                       pl.col("plate")], separator="|")
    ).to_series().to_list()
    ids = iter("D" + hashlib.sha1(k.encode()).hexdigest()[:24] for k in keys)
    return frame.with_columns(
        pl.Series("read_id", [next(ids) if m else v for m, v in zip(missing, frame.get_column("read_id"),
                                                                     strict=True)])
    )


def _existing_ids(store: Store, day: date, lo: str, hi: str) -> pl.Series | None:
    rows = store.db.query(
        "SELECT path FROM store_files WHERE kind='reads' AND live=1 AND partition=? AND "
        "NOT (max_key < ? OR min_key > ?)", (day.isoformat(), lo, hi))
    if not rows:
        return None
    return pl.scan_parquet([store.path / r["path"] for r in rows]).select("read_id").collect().to_series()


DayParts = list[tuple[date, pl.DataFrame]]


def _fresh_by_day(store: Store, good: pl.DataFrame) -> tuple[DayParts, pl.DataFrame]:
    """Split the batch by UTC day and drop reads whose id the store already holds.

    Returns the day parts and the kept rows as one frame in the batch's (plate) order."""
    dropped: list[pl.Series] = []
    out = []
    for (day,), part in good.partition_by("_day", maintain_order=True, include_key=False, as_dict=True).items():
        ids = part.get_column("read_id")
        existing = _existing_ids(store, day, ids.min(), ids.max())
        if existing is not None:
            known = pl.col("read_id").is_in(existing.implode())
            dropped.append(part.filter(known).get_column("read_id"))
            part = part.filter(~known)
        if part.height:
            out.append((day, part))
    kept = good.drop("_day")
    if dropped and sum(len(d) for d in dropped):
        kept = kept.filter(~pl.col("read_id").is_in(pl.concat(dropped).implode()))
    return out, kept


def _store_images(store: Store, batch_id: str, parts: DayParts,
                  images: Mapping[str, bytes | os.PathLike | str]) -> tuple[DayParts, str | None]:
    """Copy the images of kept reads into ``images/batch=<id>/`` and point their image_ref there."""
    folder = f"images/batch={batch_id}"
    stored: dict[str, str] = {}
    for _, part in parts:
        for read_id in part.get_column("read_id"):
            source = images.get(read_id)
            if source is None:
                continue
            data = source if isinstance(source, bytes) else Path(source).read_bytes()
            suffix = ".png" if data[:8] == b"\x89PNG\r\n\x1a\n" else ".jpg"
            rel = f"{folder}/{read_id}{suffix}"
            path = store.path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            stored[read_id] = "store:" + rel.removeprefix("images/")
    if not stored:
        return parts, None
    ref = pl.col("read_id").replace_strict(stored, default=pl.col("image_ref"), return_dtype=pl.String)
    return [(day, part.with_columns(ref.alias("image_ref"))) for day, part in parts], folder


def ingest_frame(store: Store, frame: pl.DataFrame, *, username: str, source_name: str,
                 content_sha256: str, progress: bool = False,
                 images: Mapping[str, bytes | os.PathLike | str] | None = None) -> IngestReport:
    """Validate and commit one batch; see the module docstring for the guarantees.

    ``images`` maps read ids to image bytes or files (e.g. plate crops from recognition); the store keeps a
    copy of each kept read's image and sets its ``image_ref`` to it.
    """
    with writer_lock(store):
        remove_orphans(store.db, store.path)
        seen = store.db.query("SELECT batch_id FROM ingest_batches WHERE content_sha256 = ?", (content_sha256,))
        if seen:
            empty = pl.DataFrame(schema={"row": pl.Int64, "column": pl.String, "value": pl.String,
                                         "reason": pl.String})
            return IngestReport(source_name, frame.height, 0, 0, empty, seen[0]["batch_id"], True)
        checked = validate_reads(frame)
        good = _derive_ids(checked.good)
        before = good.height
        if good.get_column("read_id").n_unique() != before:
            good = good.filter(pl.col("read_id").is_first_distinct())
        duplicates = before - good.height
        batch_id = f"{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        now = utc_now()
        good = (good.drop("_row")
                .with_columns(pl.lit(batch_id).alias("batch_id"),
                              pl.lit(now).cast(STORE_COLUMNS["ingested_at"]).alias("ingested_at"),
                              pl.col("captured_at").dt.date().alias("_day"))
                .sort("plate", "captured_at"))  # one sort serves both the day files and the plate buckets
        parts, kept_rows = _fresh_by_day(store, good)
        duplicates += good.height - kept_rows.height
        image_folder = None
        if images:
            parts, image_folder = _store_images(store, batch_id, parts, images)
            kept_rows = pl.concat([p for _, p in parts]).sort("plate", "captured_at")
        metadata = {"alpr.store_kind": store.kind, "alpr.store_id": store.store_id, "alpr.batch_id": batch_id}
        written = [(f"reads/day={day.isoformat()}/part-{batch_id}.parquet", day.isoformat(), part.height,
                    part.get_column("read_id").min(), part.get_column("read_id").max()) for day, part in parts]
        write_parquet_many([(part, store.path / rel) for (_, part), (rel, *_) in zip(parts, written, strict=True)],
                           metadata=metadata, progress="ingest: day files" if progress else None)
        if written:
            _fault("after-first-file")
        kept = sum(part.height for _, part in parts)
        index_files: list[tuple[str, str, int, str, str]] = []
        dict_rel = None
        old_dict = plate_index.dictionary_path(store)
        if kept:
            index_files, dict_rel = plate_index.write_index(store, kept_rows, batch_id, metadata)
        _fault("before-commit")
        with store.db.transaction() as tx:
            for kind, files in (("reads", written), ("by_plate", index_files)):
                tx.executemany("INSERT INTO store_files(path, batch_id, kind, partition, rows, min_key, max_key, "
                               "live, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                               [(rel, batch_id, kind, part, rows, lo, hi, iso(now))
                                for rel, part, rows, lo, hi in files])
            if image_folder is not None:
                tx.execute("INSERT INTO store_files(path, batch_id, kind, partition, rows, live, created_at) "
                           "VALUES (?, ?, 'images', NULL, 0, 1, ?)", (image_folder, batch_id, iso(now)))
            if dict_rel is not None:
                tx.execute("UPDATE store_files SET live = 0 WHERE kind = 'plates' AND live = 1")
                tx.execute("INSERT INTO store_files(path, batch_id, kind, partition, rows, live, created_at) "
                           "VALUES (?, ?, 'plates', NULL, ?, 1, ?)", (dict_rel, batch_id, 0, iso(now)))
            tx.execute("INSERT INTO ingest_batches(batch_id, content_sha256, source_name, username, rows_in, "
                       "rows_ingested, rows_duplicate, rows_rejected, committed_at) VALUES (?,?,?,?,?,?,?,?,?)",
                       (batch_id, content_sha256, source_name, username, frame.height, kept, duplicates,
                        checked.rejected.get_column("row").n_unique(), iso(now)))
        if old_dict is not None and dict_rel is not None:
            old_dict.unlink(missing_ok=True)
        return IngestReport(source_name, frame.height, kept, duplicates, checked.rejected, batch_id, False,
                            checked.ignored_columns)


def empty_reads() -> pl.DataFrame:
    """A frame with the stored read columns and no rows."""
    return pl.DataFrame(schema={**READ_SCHEMA, **STORE_COLUMNS})
