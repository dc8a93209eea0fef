"""Atomic, idempotent ingest of plate reads (policy 462.4: data transferred from vehicles to the store).

One batch = one transaction: validated rows are written as new per-day Parquet files (in capture-time
order) and as plate-sorted bucket files, the batch's plate-dictionary rows are written (see
:mod:`alpr_lib.store.plate_index`), and only then does one records-database transaction make all of them
live together. Ingesting the same batch twice adds nothing (same content hash, and read_ids already stored
are skipped). Writers are serialised by a lock file; readers are never blocked.

A read id names one read in the whole store. A repeat of an id on the same capture day is the read sent
again (a duplicate, skipped); on another capture day it is a different read under a used id, refused in the
row report whether the first is in the same batch or already stored. An empty batch, or one whose every
row is refused, writes no file and returns its row report.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import warnings
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from alpr_lib.errors import IngestError
from alpr_lib.private_files import write_private_atomic
from alpr_lib.records import Backend, manifest
from alpr_lib.records.manifest import BatchRow, FileEntry
from alpr_lib.store import plate_index
from alpr_lib.store.compact import merge_small_files
from alpr_lib.store.faults import fault
from alpr_lib.store.files import WriteJob, remove_orphans, write_parquet_many, writer_lock
from alpr_lib.store.schema import DAY_ROW_GROUP, READ_SCHEMA, STORE_COLUMNS
from alpr_lib.store.store import Store
from alpr_lib.store.validate import REPORT_SCHEMA, validate_reads
from alpr_lib.timeutil import iso, utc_now

__all__ = ["IngestReport", "ingest_frame", "load_batch"]


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
    #: hotlist alerts the batch raised (new encounters; filled in by the ingest action, issue 12)
    alerts_raised: int = 0
    #: ingested reads already older than the retention period (a backfill): accepted, purged by the next purge
    past_retention: int = 0

    @property
    def rejected_rows(self) -> int:
        return self.rejected.get_column("row").n_unique() if len(self.rejected) else 0

    def summary(self) -> str:
        if self.already_ingested:
            return f"{self.source_name}: already ingested (batch with identical content); nothing added"
        text = (f"{self.source_name}: {self.rows_in} rows read, {self.ingested} ingested, "
                f"{self.duplicates} already in the store, {self.rejected_rows} rejected")
        if self.past_retention:
            text += (f"; {self.past_retention} of them already past the retention period (a backfill: purged by the "
                     "next purge unless held)")
        if self.ignored_columns:
            text += f"; ignored unknown columns {list(self.ignored_columns)}"
        return text


def load_batch(source: str | os.PathLike | pl.DataFrame, *, expected_kind: str) -> tuple[pl.DataFrame, str, str]:
    """Read a CSV or Parquet file (or take a frame) and return it with a name and a content hash."""
    if isinstance(source, pl.DataFrame):
        frame, name, digest = source, "dataframe", _frame_digest(source)
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


def _frame_digest(frame: pl.DataFrame) -> str:
    """A content hash of a frame: SHA-256 over its schema and two 64-bit hashes of every row (~0.05 s for
    2M rows, where serialising the frame to hash its bytes took ~0.45 s). Row hashes are stable within one Polars
    version; should a re-ingest after an upgrade miss this shortcut, read-id deduplication still adds nothing."""
    digest = hashlib.sha256(repr(list(frame.schema.items())).encode())
    if frame.height and frame.width:
        for seed in (462, 1_462):  # two independent 64-bit hashes per row
            digest.update(frame.hash_rows(seed=seed).to_numpy().tobytes())
    return digest.hexdigest()


def _fault(point: str) -> None:
    """Test-only crash injection at ``ingest:<point>`` (see :mod:`alpr_lib.store.faults`)."""
    fault(f"ingest:{point}")


#: The form of an id derived at ingest: "D" and 24 hex digits of a hash of camera, capture time and plate.
DERIVED_ID_FORM = r"^D[0-9a-f]{24}$"


def _derived_ids_of(frame: pl.DataFrame) -> list[str]:
    """The id derived from each row's camera, capture time (to the microsecond, UTC) and plate."""
    keys = frame.select(
        pl.concat_str([pl.col("camera_id"), pl.col("captured_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f"),
                       pl.col("plate")], separator="|")
    ).to_series().to_list()
    return ["D" + hashlib.sha1(k.encode()).hexdigest()[:24] for k in keys]


def _derive_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Stable ids for reads that came without one: a hash of camera, time and plate."""
    ids = frame.get_column("read_id")
    missing = ids.is_null() | (ids == "")
    if not missing.any():
        return frame
    derived = pl.Series("read_id", _derived_ids_of(frame.filter(missing)), dtype=pl.String)
    return frame.with_columns(ids.clone().scatter(missing.arg_true(), derived))


def _derived_form(ids: pl.Series) -> pl.Series:
    """True where an id has the derived form (a cheap length and first-letter test before the pattern)."""
    maybe = (ids.str.len_bytes() == 25).fill_null(False)  # free: polars keeps the lengths
    if not maybe.any():
        return maybe
    maybe = maybe & ids.str.starts_with("D").fill_null(False)
    if not maybe.any():
        return maybe
    return maybe & ids.str.contains(DERIVED_ID_FORM).fill_null(False)


def _report(rows: pl.DataFrame, reason: pl.Expr | str) -> pl.DataFrame:
    """Rejection-report rows (column ``read_id``) for ``rows`` (with ``_row`` and ``read_id``)."""
    return rows.select(pl.col("_row").alias("row"), pl.lit("read_id").alias("column"),
                       pl.col("read_id").alias("value"),
                       (pl.lit(reason) if isinstance(reason, str) else reason).alias("reason"))


def _refuse_forged_ids(good: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Refuse supplied ids that have the derived form but are not the id derived from the row's content.

    Why: a derived id is a hash of the capture time, so the same derived id on two capture days can only be
    a 96-bit hash collision or a supplied id that copies the form; ingest therefore looks for derived-form ids
    in their own day's files only (:func:`_fresh_by_day`), which is safe only if every stored one is honest.
    Honest copies (reads exported from a store and ingested again) pass."""
    form = _derived_form(good.get_column("read_id"))
    if not form.any():
        return good, pl.DataFrame(schema=REPORT_SCHEMA)
    claimed = good.filter(form)
    honest = pl.Series(_derived_ids_of(claimed), dtype=pl.String) == claimed.get_column("read_id")
    if honest.all():
        return good, pl.DataFrame(schema=REPORT_SCHEMA)
    forged = claimed.filter(~honest)
    reason = ("read_id has the form of an id derived at ingest (D and 24 hex digits) but is not the one derived "
              "from this read's camera, capture time and plate")
    return good.filter(~pl.col("_row").is_in(forged.get_column("_row").implode())), _report(forged, reason)


def _first_of_each_id(ids: pl.Series) -> pl.Series:
    """True for the first row of each read id. Counting distinct 64-bit hashes answers the usual case (no
    repeated id) in 0.03 s for 2M ids, where marking first occurrences of the strings takes 0.25 s; only when
    two hashes are equal are the strings compared."""
    if ids.hash(462).n_unique() == len(ids):
        return pl.select(pl.repeat(True, len(ids), dtype=pl.Boolean)).to_series()
    return ids.is_first_distinct()


def _repeated_ids(good: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Keep the first row (in batch order) of each read id. A repeat on the same capture day is the read sent
    twice (counted as a duplicate); one on another day is a different read under a used id, refused with
    the day and row of the first. Returns (kept rows, refusals, duplicates)."""
    first = _first_of_each_id(good.get_column("read_id"))
    if first.all():
        return good, pl.DataFrame(schema=REPORT_SCHEMA), 0
    day = pl.col("captured_at").dt.date()
    marked = good.select("_row", "read_id", day.alias("_day"), day.first().over("read_id").alias("_first_day"),
                         pl.col("_row").first().over("read_id").alias("_first_row")).with_columns(first.alias("_first"))
    clash = marked.filter(~pl.col("_first") & (pl.col("_day") != pl.col("_first_day")))
    reason = pl.format("read id already used on {} in row {}", pl.col("_first_day").dt.to_string("%Y-%m-%d"),
                       pl.col("_first_row"))
    kept = good.filter(first)
    return kept, _report(clash, reason), good.height - kept.height - clash.height


_NO_STORED_DAYS = {"read_id": pl.String(), "_stored_day": pl.Date()}


def _row_groups_in_range(file: pq.ParquetFile, lo: str, hi: str) -> list[int]:
    """Row groups of a day file whose read-id statistics meet [lo, hi] (all, where a group has none)."""
    meta = file.metadata
    column = meta.schema.names.index("read_id")
    groups = []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(column).statistics
        if stats is None or not stats.has_min_max or not (stats.max < lo or stats.min > hi):
            groups.append(i)
    return groups


def _stored_days(store: Store, paths: list[str], lo: str, hi: str, ids: pl.Series) -> pl.DataFrame:
    """(read_id, _stored_day) of stored reads in the day files ``paths`` that may share an id with ``ids``
    (a superset: the caller matches the ids exactly).

    Only row groups whose read-id statistics meet [lo, hi] are read (day files keep min/max statistics on
    every column), so a file that meets the batch's id range only at a few outliers costs its footer and
    those groups. When more stored ids than the batch has fall in range (ids that interleave, such as
    hashes), they are first matched by 64-bit hashes: a set of 2M hashes, probed by each stored id (8M
    stored ids read in ~0.15 s, hashed and probed in ~0.1 s; a set of the strings took ~0.4 s)."""
    whole: list[Path] = []  # files read whole by polars (faster than Arrow row group by row group)
    frames = []
    for path in paths:
        file = pq.ParquetFile(store.path / path)
        groups = _row_groups_in_range(file, lo, hi)
        if len(groups) == file.metadata.num_row_groups:
            whole.append(store.path / path)
        elif groups:
            frames.append(pl.from_arrow(file.read_row_groups(groups, columns=["read_id", "captured_at"]))
                          .filter(pl.col("read_id").is_between(pl.lit(lo), pl.lit(hi))))
    if whole:
        frames.append(pl.scan_parquet(whole).select("read_id", "captured_at").collect())
    if not frames:
        return pl.DataFrame(schema=_NO_STORED_DAYS)
    stored = pl.concat(frames)
    if stored.height > len(ids):
        stored = stored.filter(pl.col("read_id").hash(462).is_in(ids.hash(462).implode()))
    return stored.select("read_id", pl.col("captured_at").dt.date().alias("_stored_day"))


DayParts = list[tuple[date, pl.DataFrame]]


def _day_slices(frame: pl.DataFrame) -> DayParts:
    """Zero-copy slices of a frame sorted by capture time, one per UTC day (none for an empty frame)."""
    if not frame.height:
        return []
    days = frame.get_column("captured_at").dt.date()
    starts = (days != days.shift()).fill_null(True).arg_true().to_list()
    ends = [*starts[1:], frame.height]
    return [(days[lo], frame.slice(lo, hi - lo)) for lo, hi in zip(starts, ends, strict=True)]


def _id_ranges(parts: DayParts) -> list[tuple[str, str]]:
    """(smallest, largest) read id of each part, in one parallel pass."""
    if not parts:
        return []
    return pl.concat([part.select(pl.col("read_id").min().alias("lo"), pl.col("read_id").max().alias("hi"))
                      for _, part in parts]).rows()


def _files_to_check(store: Store, good: pl.DataFrame, parts: DayParts, ranges: list[tuple[str, str]]
                    ) -> tuple[list[str], str, str]:
    """Live day files that could hold an id of the batch: for an id of the derived form, files of its own
    capture day whose id range covers it (see :func:`_refuse_forged_ids`); for any other id, files of every
    day whose id range covers it (a read id is unique store-wide). A batch of new ids from a counter or a
    feed's sequence meets no file; only ids that interleave with stored ones (hashes) cost a read of the
    files they interleave with. Returns the files and the smallest and largest id looked up."""
    form = _derived_form(good.get_column("read_id"))
    n_form = int(form.sum())
    lookups: list[tuple[date, str, str, bool]] = []  # day, lo, hi, store-wide
    if n_form in (0, good.height):
        lookups = [(day, lo, hi, n_form == 0) for (day, _), (lo, hi) in zip(parts, ranges, strict=True)]
    else:  # mixed: ranges of each kind, per day
        is_form = ((pl.col("read_id").str.len_bytes() == 25) & pl.col("read_id").str.starts_with("D")
                   & pl.col("read_id").str.contains(DERIVED_ID_FORM))
        for day, part in parts:
            row = part.select(*[pl.col("read_id").filter(cond).min().alias(f"lo{i}")
                                for i, cond in enumerate((is_form, ~is_form))],
                              *[pl.col("read_id").filter(cond).max().alias(f"hi{i}")
                                for i, cond in enumerate((is_form, ~is_form))]).row(0, named=True)
            for i in (0, 1):
                if row[f"lo{i}"] is not None:
                    lookups.append((day, row[f"lo{i}"], row[f"hi{i}"], i == 1))
    paths: dict[str, None] = {}
    for day, lo, hi, store_wide in lookups:
        partition = None if store_wide else day.isoformat()
        paths.update(dict.fromkeys(manifest.files_overlapping(store.db, "reads", lo, hi, partition=partition)))
    return list(paths), min(lo for _, lo, _, _ in lookups), max(hi for _, _, hi, _ in lookups)


def _fresh_by_day(store: Store, good: pl.DataFrame
                  ) -> tuple[DayParts, list[tuple[str, str]], pl.DataFrame, int]:
    """Split the batch (sorted by capture time) by UTC day and drop reads whose id the store already holds:
    on the same capture day it is the read sent again (a duplicate); on another day, a different read under
    a used id (refused, naming the stored read's day).

    Returns the parts without ``_row``, each part's read-id range (what the manifest records for the day
    file), the refusals, and the number of duplicates."""
    parts = _day_slices(good)
    ranges = _id_ranges(parts)
    rejected = pl.DataFrame(schema=REPORT_SCHEMA)
    duplicates = 0
    paths, lo, hi = _files_to_check(store, good, parts, ranges) if parts else ([], "", "")
    if paths:
        stored = _stored_days(store, paths, lo, hi, good.get_column("read_id"))
        known = (good.get_column("read_id").is_in(stored.get_column("read_id").implode()) if stored.height
                 else None)  # a set of the stored ids found, probed by each read of the batch
        if known is not None and known.any():
            hits = (good.filter(known).select("_row", "read_id", pl.col("captured_at").dt.date().alias("_day"))
                    .join(stored, on="read_id")
                    .group_by("_row").agg(pl.col("read_id").first(), pl.col("_stored_day").min(),
                                          (pl.col("_day") == pl.col("_stored_day")).any().alias("_same")))
            clash = hits.filter(~pl.col("_same"))
            rejected = _report(clash, pl.format("read id already stored for a read captured on {}",
                                                pl.col("_stored_day").dt.to_string("%Y-%m-%d")))
            duplicates = hits.height - clash.height
            good = good.filter(~known)
            parts = _day_slices(good)
            ranges = _id_ranges(parts)
    return [(day, part.drop("_row")) for day, part in parts], ranges, rejected, duplicates


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
            # a plate image: 0600 in a 0700 folder (not fsync'ed, as before)
            write_private_atomic(store.path / rel, data, sync=False)
            stored[read_id] = "store:" + rel.removeprefix("images/")
    if not stored:
        return parts, None
    ref = pl.col("read_id").replace_strict(stored, default=pl.col("image_ref"), return_dtype=pl.String)
    return [(day, part.with_columns(ref.alias("image_ref"))) for day, part in parts], folder


ManifestRow = tuple[str, str, int, str, str]  # path, partition, rows, min key, max key


@dataclass(frozen=True)
class _WrittenBatch:
    """What :func:`_write_batch_files` wrote and counted; no frame of the batch's reads is kept here, so
    they are freed before the dictionary is written (a fold needs the memory)."""

    day_files: list[ManifestRow]
    bucket_files: list[ManifestRow]
    image_folder: str | None
    delta: pl.DataFrame | None  # the batch's dictionary rows, None when no read is new
    kept: int
    duplicates: int
    rejected: pl.DataFrame
    ignored_columns: tuple[str, ...]
    past_retention: int = 0


def ingest_frame(store: Store, frame: pl.DataFrame, *, username: str, source_name: str,
                 content_sha256: str, progress: bool = False,
                 images: Mapping[str, bytes | os.PathLike | str] | None = None,
                 on_commit: Callable[[Backend, IngestReport], None] | None = None,
                 match: Callable[[pl.DataFrame], None] | None = None) -> IngestReport:
    """Validate and commit one batch; see the module docstring for the guarantees.

    ``images`` maps read ids to image bytes or files (e.g. plate crops from recognition); the store keeps a
    copy of each kept read's image and sets its ``image_ref`` to it. ``on_commit(tx, report)`` runs inside
    the transaction that makes the batch live: the door writes the audit record there, so the batch and its
    record commit together or not at all. ``match(reads)`` is given the reads the batch will make live (before
    any file is written), so that their hotlist alerts can be written in that same transaction.
    """
    with writer_lock(store.path):
        remove_orphans(store.db, store.path)
        seen = manifest.batch_with_content(store.db, content_sha256)
        if seen:
            empty = pl.DataFrame(schema={"row": pl.Int64, "column": pl.String, "value": pl.String,
                                         "reason": pl.String})
            return IngestReport(source_name, frame.height, 0, 0, empty, seen, True)
        batch_id = f"{utc_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        now = utc_now()
        batch = _write_batch_files(store, frame, batch_id, now, images, progress, match)
        dictionary = _write_dictionary(store, batch_id, batch.delta) if batch.delta is not None else None
        _fault("before-commit")
        with store.db.transaction() as tx:
            entries = [FileEntry(rel, kind, part, rows, lo, hi)
                       for kind, files in (("reads", batch.day_files), ("by_plate", batch.bucket_files))
                       for rel, part, rows, lo, hi in files]
            if batch.image_folder is not None:
                entries.append(FileEntry(batch.image_folder, "images"))
            if dictionary is not None:
                kind, rel, replaced = dictionary
                manifest.retire(tx, replaced)
                entries.append(FileEntry(rel, kind))
            manifest.add_files(tx, batch_id, entries, iso(now))
            if batch.kept:  # a batch that stored nothing is not remembered: its retry reports its refusals again
                manifest.record_batch(tx, BatchRow(
                    batch_id, content_sha256, source_name, username, frame.height, batch.kept, batch.duplicates,
                    batch.rejected.get_column("row").n_unique(), iso(now)))
            report = IngestReport(source_name, frame.height, batch.kept, batch.duplicates, batch.rejected,
                                  batch_id, False, batch.ignored_columns, past_retention=batch.past_retention)
            if on_commit is not None:
                on_commit(tx, report)
            _fault("in-commit")
        _fault("after-commit")
        if dictionary is not None:
            for path in dictionary[2]:
                (store.path / path).unlink(missing_ok=True)
        try:  # after the commit: the batch is safe whatever happens here
            merge_small_files(store)
        except (OSError, pl.exceptions.PolarsError) as exc:  # e.g. a full disk; left for the next ingest
            warnings.warn(f"batch {batch_id} is stored, but merging small files failed ({exc}); "
                          "the next ingest or `alpr compact` retries", stacklevel=2)
        return report


def _write_batch_files(store: Store, frame: pl.DataFrame, batch_id: str, now: datetime,
                       images: Mapping[str, bytes | os.PathLike | str] | None, progress: bool,
                       match: Callable[[pl.DataFrame], None] | None = None) -> _WrittenBatch:
    """Validate the batch, drop reads already stored, and write its day files and bucket files (not yet
    live: the caller's records transaction makes them so). An empty batch, or one with no good row, writes
    nothing and reports its rejections."""
    checked = validate_reads(frame)
    good, forged = _refuse_forged_ids(checked.good)
    good = _derive_ids(good)
    good, repeated, duplicates = _repeated_ids(good)
    good = good.with_columns(pl.lit(batch_id).alias("batch_id"),
                             pl.lit(now).cast(STORE_COLUMNS["ingested_at"]).alias("ingested_at"))
    if not good.get_column("captured_at").is_sorted():  # feeds usually arrive in time order already
        good = good.sort("captured_at", maintain_order=True)
    parts, id_ranges, stored_elsewhere, stored = _fresh_by_day(store, good)  # time order: windows prune groups
    good = good.drop("_row")
    kept = sum(part.height for _, part in parts)
    duplicates += stored
    rejected = _merged_reports(checked.rejected, forged, repeated, stored_elsewhere)
    image_folder = None
    if images:
        parts, image_folder = _store_images(store, batch_id, parts, images)
    day_files, jobs = _day_file_jobs(store, batch_id, parts, id_ranges)  # images keep the read ids
    bucket_files: list[ManifestRow] = []
    delta = None
    # hotlist matching of exactly the reads this batch makes live (issue 12), on its own thread while the
    # files are sorted and written (both mostly outside the GIL); done before the batch can become live
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="alpr-match") as pool:
        matching = None
        if kept:
            unchanged = kept == good.height and image_folder is None  # no read dropped, no image_ref rewritten
            kept_reads = good if unchanged else pl.concat([part for _, part in parts])
            if match is not None:
                matching = pool.submit(match, kept_reads)
            bucket_files, bucket_jobs, delta = _bucket_file_jobs(store, batch_id, kept_reads, now)
            del kept_reads
            jobs += bucket_jobs
        if jobs:
            metadata = {"alpr.store_kind": store.kind, "alpr.store_id": store.store_id, "alpr.batch_id": batch_id}
            write_parquet_many(jobs, metadata=metadata, progress="ingest: files" if progress else None)
        if matching is not None:
            matching.result()  # its failure fails the ingest: the files written stay orphans, never live
    if day_files:
        _fault("after-first-file")
    cutoff = now - timedelta(days=int(store.config.retention_days))
    past = sum(int(part.get_column("captured_at").search_sorted(cutoff)) for _, part in parts)  # time order
    return _WrittenBatch(day_files, bucket_files, image_folder, delta, kept, duplicates, rejected,
                         checked.ignored_columns, past)


def _merged_reports(*reports: pl.DataFrame) -> pl.DataFrame:
    """One rejection report in row order (validation's first, then the read-id refusals of each row)."""
    found = [r for r in reports if r.height]
    if len(found) <= 1:
        return found[0] if found else reports[0]
    return pl.concat([r.cast(REPORT_SCHEMA) for r in found]).sort("row", maintain_order=True)


def _day_file_jobs(store: Store, batch_id: str, parts: DayParts, id_ranges: list[tuple[str, str]]
                   ) -> tuple[list[ManifestRow], list[WriteJob]]:
    """The batch's day files: their manifest rows (read-id range as the key range) and write jobs."""
    rows: list[ManifestRow] = []
    jobs: list[WriteJob] = []
    for (day, part), (lo, hi) in zip(parts, id_ranges, strict=True):
        rel = f"reads/day={day.isoformat()}/part-{batch_id}.parquet"
        rows.append((rel, day.isoformat(), part.height, lo, hi))
        jobs.append((part, store.path / rel, DAY_ROW_GROUP, None))
    return rows, jobs


def _bucket_file_jobs(store: Store, batch_id: str, reads: pl.DataFrame, now: datetime
                      ) -> tuple[list[ManifestRow], list[WriteJob], pl.DataFrame]:
    """The batch's plate-bucket files (manifest rows with plate ranges, write jobs) and dictionary delta.

    One stable sort by (bucket, plate) packed in one number: the time order underneath breaks ties, so each
    plate's reads come out in time order, and each bucket is a contiguous slice."""
    by_plate = plate_index.with_bucket_sort_key(reads).sort("_k", maintain_order=True)
    delta = plate_index.batch_dictionary(by_plate)
    rows: list[ManifestRow] = []
    jobs: list[WriteJob] = []
    # batch_id and ingested_at stay in the day files only: search results never show them
    edge = plate_index.purge_edge(now, int(store.config.retention_days))
    for bucket, slice_ in plate_index.bucket_slices(by_plate.drop("batch_id", "ingested_at")):
        for first, last, part in plate_index.tier_parts(slice_, edge):  # a backfill's old reads apart
            rel = plate_index.bucket_file(bucket, batch_id, first, last)
            plates = part.get_column("plate")
            rows.append((rel, f"{bucket:02d}", part.height, plates.first(), plates.last()))
            jobs.append((part, store.path / rel, plate_index.BY_PLATE_ROW_GROUP, "plate"))
    return rows, jobs, delta


def _write_dictionary(store: Store, batch_id: str, delta: pl.DataFrame) -> tuple[str, str, list[str]]:
    """Write the batch's dictionary rows: as a new delta level, or, once :data:`plate_index.DELTA_LIMIT`
    deltas are live (or there is no main level yet), folded with every level into a new main level.

    Returns (kind, file, files it replaces) for the commit."""
    levels = plate_index.dictionary_levels(store)
    n_deltas = sum(kind == "plates_delta" for kind, _ in levels)
    if not levels or n_deltas >= plate_index.DELTA_LIMIT:
        rel, replaced = plate_index.merge_levels(store, batch_id, pending=delta)
        return "plates", rel, replaced
    rel = f"index/plates-delta-{batch_id}.parquet"
    plate_index.write_dictionary(delta, store.path / rel)
    return "plates_delta", rel, []


def empty_reads() -> pl.DataFrame:
    """A frame with the stored read columns and no rows."""
    return pl.DataFrame(schema={**READ_SCHEMA, **STORE_COLUMNS})
