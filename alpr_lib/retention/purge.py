"""The purge (policy 462.4, Government Code 34090.6): every read captured before ``now - retention_days`` and
kept by no legal hold is removed from every copy of the read data.

The copies are the day files (``reads/day=...``), the plate-bucket copy (``index/by_plate/b=NN``), the plate
dictionary (a plate's count, first and last sighting are recomputed from the reads that stay; a plate with none
left disappears), the stored plate images (``images/batch=.../<read_id>.*``, which are the crops) and the derived
read data in the records database (misread corrections, and alerts when the hotlist module provides
``records.alerts.delete_for_reads``). The audit log keeps what was queried, as the law requires.

It works like ingest and compaction, under the writer lock: new files are written first (not yet live), then one
records transaction retires the old files, lists the new ones, removes the derived rows, records the purge and
its per-day certificate, and writes the purge's audit record (``on_commit``). A purge killed before that commit
leaves only orphan files, which the next writer deletes; killed after it, the replaced files are orphans too,
and the image files still to delete are listed in ``purge_pending_files``, which the next purge deletes first.
So no held or young read is ever lost, every search sees the store before or after, and a re-run completes.
"""

from __future__ import annotations

import gc
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from alpr_lib.records import Backend, manifest
from alpr_lib.records import audit_log as audit_rows
from alpr_lib.records import purges as purge_rows
from alpr_lib.records.manifest import FileEntry
from alpr_lib.retention.holds import ActiveHolds, active_holds
from alpr_lib.store import plate_index
from alpr_lib.store.faults import fault
from alpr_lib.store.files import remove_orphans, write_parquet_atomic, writer_lock
from alpr_lib.store.schema import DAY_ROW_GROUP
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso

__all__ = ["DayCount", "PurgeReport", "cutoff_of", "oldest_read", "plan_purge", "purge"]

_KEY_COLUMNS = ["read_id", "plate", "captured_at", "image_ref"]


def cutoff_of(now: datetime, retention_days: int) -> datetime:
    """Reads captured before this instant are past retention."""
    return now - timedelta(days=retention_days)


@dataclass(frozen=True)
class DayCount:
    """One line of a purge certificate: a UTC capture day, reads deleted and reads kept under a hold."""

    day: str
    deleted: int
    held: int


@dataclass(frozen=True)
class PurgeReport:
    """What a purge did (or, with ``dry_run``, would do)."""

    purge_id: str | None
    cutoff: datetime
    retention_days: int
    days: tuple[DayCount, ...]
    dry_run: bool
    images_deleted: int = 0
    corrections_deleted: int = 0
    alerts_deleted: int | None = None
    audit_seq: int | None = None
    audit_hash: str | None = None
    audit_anchor: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def reads_deleted(self) -> int:
        return sum(d.deleted for d in self.days)

    @property
    def reads_held(self) -> int:
        return sum(d.held for d in self.days)

    def certificate(self) -> pl.DataFrame:
        """The certificate as a table: per day, reads deleted and kept under hold."""
        return pl.DataFrame([{"day": d.day, "reads_deleted": d.deleted, "reads_held": d.held} for d in self.days],
                            schema={"day": pl.String, "reads_deleted": pl.Int64, "reads_held": pl.Int64})

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"purge{' (dry run)' if self.dry_run else ''}: reads captured before {iso(self.cutoff)} "
                f"(retention {self.retention_days} days): {verb} {self.reads_deleted:,} reads on "
                f"{sum(1 for d in self.days if d.deleted):,} days; {self.reads_held:,} kept under legal hold")

    def audit_elements(self) -> dict[str, Any]:
        return {"cutoff": iso(self.cutoff), "retention_days": self.retention_days, "dry_run": self.dry_run,
                "reads_deleted": self.reads_deleted, "reads_held": self.reads_held,
                "days": [[d.day, d.deleted, d.held] for d in self.days][:400], "purge_id": self.purge_id,
                "images_deleted": self.images_deleted, "corrections_deleted": self.corrections_deleted,
                "alerts_deleted": self.alerts_deleted}


def _due_partitions(store: Store, cutoff: datetime) -> dict[str, list[str]]:
    """Live day files of the days that may hold reads past retention, by day."""
    last = cutoff.date().isoformat()
    by_day: dict[str, list[str]] = defaultdict(list)
    for path in manifest.live_paths(store.db, "reads", last_partition=last):
        by_day[path.split("/")[1].removeprefix("day=")].append(path)
    return dict(sorted(by_day.items()))


def _split_day(store: Store, paths: list[str], cutoff: datetime, holds: ActiveHolds
               ) -> tuple[pl.DataFrame, int, bool]:
    """The key columns of a day's reads to delete, the number past retention kept by a hold, and whether
    any read of the day stays (young or held)."""
    keys = pl.read_parquet([store.path / p for p in paths], columns=_KEY_COLUMNS)
    due = pl.col("captured_at") < cutoff
    marked = keys.with_columns(due.alias("_due"), (holds.held() if not holds.empty else pl.lit(False)).alias("_held"))
    gone = marked.filter(pl.col("_due") & ~pl.col("_held")).drop("_due", "_held")
    held = int(marked.select((pl.col("_due") & pl.col("_held")).sum()).item())
    return gone, held, gone.height < keys.height


def plan_purge(store: Store, now: datetime) -> PurgeReport:
    """What a purge at ``now`` would delete and keep, per day (reads nothing but the due days' key columns)."""
    retention = int(store.config.retention_days)
    cutoff = cutoff_of(now, retention)
    holds = active_holds(store.db)
    days = []
    for day, paths in _due_partitions(store, cutoff).items():
        gone, held, _ = _split_day(store, paths, cutoff, holds)
        if gone.height or held:
            days.append(DayCount(day, gone.height, held))
    return PurgeReport(None, cutoff, retention, tuple(days), True)


def _finish_pending(store: Store) -> int:
    """Delete the image files a committed purge listed but did not get to delete (it was killed)."""
    pending = purge_rows.pending_files(store.db)
    for path in pending:
        (store.path / path).unlink(missing_ok=True)
    if pending:
        with store.db.transaction() as tx:
            purge_rows.done_pending(tx, pending)
    return len(pending)


@dataclass
class _Work:
    """The files a purge writes and retires, and what it removes."""

    tag: str
    new: list[FileEntry] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    gone: list[pl.DataFrame] = field(default_factory=list)
    days: list[DayCount] = field(default_factory=list)
    written: int = 0

    def wrote(self) -> None:
        self.written += 1
        if self.written == 1:
            fault("purge:after-first-file")


def _metadata(store: Store, tag: str) -> dict[str, str]:
    return {"alpr.store_kind": store.kind, "alpr.store_id": store.store_id, "alpr.batch_id": tag}


def _purge_days(store: Store, work: _Work, cutoff: datetime, holds: ActiveHolds, progress: bool) -> None:
    """Day files: a day with nothing left is retired whole; a day keeping young or held reads is rewritten."""
    due = _due_partitions(store, cutoff)
    for day, paths in tqdm(due.items(), desc="purge: days", unit="day", disable=not progress):
        gone, held, keeps = _split_day(store, paths, cutoff, holds)
        if gone.height == 0:
            if held:
                work.days.append(DayCount(day, 0, held))
            continue
        work.days.append(DayCount(day, gone.height, held))
        work.gone.append(gone)
        work.retired += paths
        if keeps:
            frame = (pl.read_parquet([store.path / p for p in paths])
                     .filter(~pl.col("read_id").is_in(gone.get_column("read_id").implode()))
                     .sort("captured_at", "read_id"))
            rel = f"reads/day={day}/part-{work.tag}.parquet"
            write_parquet_atomic(frame, store.path / rel, row_group_size=DAY_ROW_GROUP,
                                 metadata=_metadata(store, work.tag))
            ids = frame.get_column("read_id")
            work.new.append(FileEntry(rel, "reads", day, frame.height, ids.min(), ids.max()))
            work.wrote()


#: bucket files rewritten side by side (Parquet decoding and encoding release the GIL); each holds one file
BUCKET_WORKERS = max(1, min(4, os.cpu_count() or 2))


def _rewrite_bucket_file(store: Store, tag: str, entry: FileEntry, number: int, ids: pa.Array, plates: pa.Array,
                         edge: datetime) -> tuple[list[FileEntry], bool, pl.DataFrame]:
    """One bucket file without the purged reads (staying in Arrow: no conversion of the whole file), and the
    (plate, captured_at) of the purged plates' remaining reads in it. Returns (new files, whether the file
    changed, those remaining reads). A file that also holds reads past the purge edge (one compaction has not
    split yet) is split at it as it is rewritten, so that the next purge reaches only the purge tier."""
    table = pq.read_table(store.path / entry.path)
    drop = pc.is_in(table.column("read_id"), value_set=ids)
    changed = bool(pc.any(drop).as_py())
    new: list[FileEntry] = []
    if changed:
        table = table.filter(pc.invert(drop))
        parts: list[tuple[str, str, pa.Table]] = []
        if table.num_rows and plate_index.tier(entry.path, edge) == "purge":
            times = pc.min_max(table.column("captured_at"))
            parts = [(f"{times['min'].as_py().astimezone(UTC):%Y-%m}", f"{times['max'].as_py().astimezone(UTC):%Y-%m}",
                      table)]
        elif table.num_rows:
            split = pl.from_arrow(table)
            assert isinstance(split, pl.DataFrame)
            parts = [(first, last, rows.to_arrow()) for first, last, rows in plate_index.tier_parts(split, edge)]
        for k, (first, last, rows) in enumerate(parts):
            rel = plate_index.bucket_file(entry.partition or "0", f"{tag}-{number:05d}-{k}", first, last)
            write_parquet_atomic(rows, store.path / rel, row_group_size=plate_index.BY_PLATE_ROW_GROUP,
                                 metadata=_metadata(store, tag), lookup_column="plate")
            keys = pc.min_max(rows.column("plate"))
            new.append(FileEntry(rel, "by_plate", entry.partition, rows.num_rows, keys["min"].as_py(),
                                 keys["max"].as_py()))
    left = table.select(["plate", "captured_at"])
    left = left.filter(pc.is_in(left.column("plate"), value_set=plates))
    frame = pl.from_arrow(left)
    assert isinstance(frame, pl.DataFrame)
    return new, changed, frame


def _reached(entry: FileEntry, cutoff: datetime) -> bool:
    """Whether a bucket file may hold a read captured before ``cutoff``: its first month is not after the
    cutoff's (or it is a file from before bucket files said their months)."""
    span = plate_index.span_of(entry.path)
    return span is None or span[0] <= f"{cutoff.astimezone(UTC):%Y-%m}"


def _purge_buckets(store: Store, work: _Work, gone: pl.DataFrame, cutoff: datetime, progress: bool
                   ) -> tuple[pl.DataFrame, dict[str, list[FileEntry]]]:
    """Bucket files of the months the purge reaches that hold a purged read are rewritten without it; the
    later months are not opened. Returns the (plate, captured_at) of the purged plates' reads that stay in
    the files reached, and the files not reached by bucket (for the sightings the dictionary needs)."""
    by_bucket = gone.select("read_id", "plate").with_columns(plate_index.bucket_expr().alias("_b"))
    files: dict[str, list[FileEntry]] = defaultdict(list)
    later: dict[str, list[FileEntry]] = defaultdict(list)
    for entry in manifest.live_with_rows(store.db, "by_plate"):
        (files if _reached(entry, cutoff) else later)[entry.partition or ""].append(entry)
    jobs = []
    for (bucket,), part in by_bucket.group_by("_b"):
        ids = part.get_column("read_id").to_arrow()
        plates = part.get_column("plate").unique().to_arrow()
        jobs += [(entry, ids, plates) for entry in files.get(f"{int(bucket):02d}", [])]
    jobs.sort(key=lambda job: job[0].path)
    edge = plate_index.purge_edge(cutoff + timedelta(days=int(store.config.retention_days)),
                                  int(store.config.retention_days))
    remaining = []
    with ThreadPoolExecutor(max_workers=BUCKET_WORKERS) as pool, \
            tqdm(total=len(jobs), desc="purge: plate buckets", unit="file", disable=not progress) as bar:
        futures = [pool.submit(_rewrite_bucket_file, store, work.tag, entry, number, ids, plates, edge)
                   for number, (entry, ids, plates) in enumerate(jobs)]
        for (entry, _, _), future in zip(jobs, futures, strict=True):
            new, changed, left = future.result()
            if changed:
                work.retired.append(entry.path)
            for made in new:
                work.new.append(made)
                work.wrote()
            remaining.append(left)
            bar.update()
    if not remaining:
        return pl.DataFrame(schema={"plate": pl.String, "captured_at": plate_index.DICT_SCHEMA["first_seen"]}), later
    return pl.concat(remaining), later


def _first_sightings(store: Store, plates: list[str], later: dict[str, list[FileEntry]]) -> pl.DataFrame:
    """The first capture time of each plate in the bucket files the purge did not reach, file groups taken by
    their first month, oldest first: a plate whose earliest read found so far is older than the next group's
    first month is settled and not looked for further (usually the first group settles nearly all)."""
    wanted = pl.DataFrame({"plate": plates}, schema={"plate": pl.String}).with_columns(
        plate_index.bucket_expr().alias("_b"))
    by_first: dict[str, list[FileEntry]] = defaultdict(list)
    for entries in later.values():
        for entry in entries:
            span = plate_index.span_of(entry.path)
            by_first[span[0] if span else ""].append(entry)
    order = sorted(by_first)
    best = pl.DataFrame(schema={"plate": pl.String, "first_seen": plate_index.DICT_SCHEMA["first_seen"]})
    for i, month in enumerate(order):
        if wanted.height == 0:
            break
        per_bucket = {f"{int(b):02d}": sorted(p) for (b,), p in
                      ((key, frame.get_column("plate").to_list()) for key, frame in wanted.group_by("_b"))}
        jobs = [(str(store.path / e.path), per_bucket[e.partition or ""]) for e in by_first[month]
                if (e.partition or "") in per_bucket]
        with ThreadPoolExecutor(max_workers=BUCKET_WORKERS) as pool:
            read = [f.group_by("plate").agg(pl.col("captured_at").min().alias("first_seen"))
                    for f in pool.map(lambda job: plate_index.read_plate_times(*job), jobs) if f is not None]
        # each footer parsed leaves row-group objects in a reference cycle with it (~0.5 MB a file that only
        # the cycle collector frees, and it does not see their size): collect them group by group
        gc.collect()
        if read:
            best = pl.concat([best, *read]).group_by("plate").agg(pl.col("first_seen").min())
        if i + 1 < len(order):
            year, mon = (int(x) for x in order[i + 1].split("-"))
            settled = best.filter(pl.col("first_seen") < datetime(year, mon, 1, tzinfo=UTC))
            wanted = wanted.join(settled.select("plate"), on="plate", how="anti")
    return best


def _purge_dictionary(store: Store, work: _Work, gone: pl.DataFrame, stays: pl.DataFrame,
                      later: dict[str, list[FileEntry]], cutoff: datetime) -> list[str]:
    """A new main dictionary level: every level combined, each purged plate's row updated (or dropped when
    no read of it is left). Its count drops by the reads purged; its last sighting is kept unless that read
    was purged, when every read of it left is in the files the purge reached (captured before the cutoff);
    its first sighting is the first read left in those files, else the first in the later months. Returns
    the level files it replaces."""
    levels = plate_index.dictionary_levels(store)
    combined = plate_index.combine_levels(plate_index.load_dictionaries(store))
    purged = gone.group_by("plate").agg(pl.len().cast(pl.Int64).alias("_purged"))
    stay = stays.group_by("plate").agg(pl.col("captured_at").min().alias("_first"),
                                       pl.col("captured_at").max().alias("_last"))
    rows = (combined.join(purged, on="plate")
            .with_columns((pl.col("n_reads") - pl.col("_purged")).alias("n_reads"))
            .filter(pl.col("n_reads") > 0)
            .join(stay, on="plate", how="left")
            .filter(pl.col("_last").is_not_null() | (pl.col("last_seen") >= cutoff)))
    month_after = plate_index.month_after(cutoff)
    need = rows.filter(pl.col("_first").is_null() | (pl.col("_first") >= month_after)).get_column("plate")
    firsts = _first_sightings(store, need.to_list(), later) if need.len() else None
    if firsts is not None:
        rows = rows.join(firsts.rename({"first_seen": "_later"}), on="plate", how="left").with_columns(
            pl.min_horizontal("_first", "_later").alias("_first"))
    recomputed = rows.with_columns(
        pl.col("_first").alias("first_seen"),
        pl.when(pl.col("last_seen") >= cutoff).then(pl.col("last_seen")).otherwise(pl.col("_last"))
        .alias("last_seen")).select(list(plate_index.DICT_SCHEMA)).cast(plate_index.DICT_SCHEMA)
    # in place: the levels are sorted by plate, and an update keeps the order (no copy to sort, at 100M reads
    # a dictionary of ~5M plates)
    dropped = purged.join(recomputed.select("plate"), on="plate", how="anti").get_column("plate")
    merged = combined.update(recomputed, on="plate")
    if dropped.len():
        merged = merged.filter(~pl.col("plate").is_in(dropped.implode()))
    rel = f"index/plates-{work.tag}.parquet"
    plate_index.write_dictionary(merged, store.path / rel)
    work.wrote()
    work.new.append(FileEntry(rel, "plates"))
    replaced = [path.relative_to(store.path).as_posix() for _, path in levels]
    plate_index.forget_dictionaries([str(path) for _, path in levels])
    return replaced


def _image_files(store: Store, gone: pl.DataFrame) -> tuple[list[str], list[str]]:
    """The stored images of purged reads (paths in the store), and the image folders left with none."""
    refs = gone.get_column("image_ref").drop_nulls()
    refs = refs.filter(refs.str.starts_with("store:"))
    files = [f"images/{ref.removeprefix('store:')}" for ref in refs.to_list()]
    files = [f for f in files if ".." not in f.split("/")]
    folders: dict[str, set[str]] = defaultdict(set)
    for f in files:
        folders[f.rsplit("/", 1)[0]].add(f)
    empty = []
    live_folders = set(manifest.live_paths(store.db, "images"))
    for folder, purged in folders.items():
        directory = store.path / folder
        left = {f"{folder}/{p.name}" for p in directory.iterdir()} - purged if directory.is_dir() else set()
        if not left and folder in live_folders:
            empty.append(folder)
    return files, empty


def _delete_alerts(tx: Backend, read_ids: list[str]) -> int | None:
    """Alerts raised on purged reads (the hotlist module's table), when that module is present."""
    try:
        from alpr_lib.records import alerts  # type: ignore[attr-defined]
    except ImportError:
        return None
    delete = getattr(alerts, "delete_for_reads", None)
    return None if delete is None else int(delete(tx, read_ids))


def purge(store: Store, now: datetime, *, username: str, dry_run: bool = False, progress: bool = False,
          on_commit: Callable[[Backend, PurgeReport], None] | None = None) -> PurgeReport:
    """Purge every read past retention that no hold keeps (see the module docstring for the guarantees).

    ``on_commit(tx, report)`` runs inside the purge's transaction (the door writes the audit record there); the
    certificate then names that record (its seq and hash, and a signed head)."""
    if dry_run:
        return plan_purge(store, now)
    with writer_lock(store.path):
        remove_orphans(store.db, store.path)
        leftover = _finish_pending(store)
        retention = int(store.config.retention_days)
        cutoff = cutoff_of(now, retention)
        holds = active_holds(store.db)
        work = _Work(f"p{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
        _purge_days(store, work, cutoff, holds, progress)
        gone = pl.concat(work.gone) if work.gone else pl.DataFrame(schema={c: pl.String for c in _KEY_COLUMNS})
        replaced_levels: list[str] = []
        images: list[str] = []
        empty_folders: list[str] = []
        if gone.height:
            stays, later = _purge_buckets(store, work, gone, cutoff, progress)
            replaced_levels = _purge_dictionary(store, work, gone, stays, later, cutoff)
            images, empty_folders = _image_files(store, gone)
        read_ids = gone.get_column("read_id").to_list()
        fault("purge:before-commit")
        with store.db.transaction() as tx:
            manifest.retire(tx, [*work.retired, *replaced_levels, *empty_folders])
            if work.new:
                manifest.add_files(tx, work.tag, work.new, iso(now))
            corrections = purge_rows.delete_corrections(tx, read_ids)
            alerts = _delete_alerts(tx, read_ids) if read_ids else 0
            purge_rows.add_pending(tx, work.tag, images)
            report = PurgeReport(work.tag, cutoff, retention, tuple(work.days), False, len(images) + leftover,
                                 corrections, alerts)
            if on_commit is not None:
                on_commit(tx, report)
            head = audit_rows.last(tx)
            anchor = store.audit.signed_head_in(tx) if head is not None else None
            report = PurgeReport(work.tag, cutoff, retention, tuple(work.days), False, len(images) + leftover,
                                 corrections, alerts, head["seq"] if head else 0, head["hash"] if head else "",
                                 anchor)
            purge_rows.record_run(tx, {
                "purge_id": work.tag, "cutoff": iso(cutoff), "retention_days": retention, "purged_by": username,
                "purged_at": iso(now), "reads_deleted": report.reads_deleted, "reads_held": report.reads_held,
                "audit_seq": report.audit_seq, "audit_hash": report.audit_hash,
                "audit_anchor": json.dumps(anchor, sort_keys=True)}, [(d.day, d.deleted, d.held) for d in work.days])
            fault("purge:in-commit")
        fault("purge:after-commit")
        for path in [*work.retired, *replaced_levels]:
            (store.path / path).unlink(missing_ok=True)
        for path in images:
            (store.path / path).unlink(missing_ok=True)
        fault("purge:after-files-deleted")
        if images:
            with store.db.transaction() as tx:
                purge_rows.done_pending(tx, images)
        remove_orphans(store.db, store.path)  # the emptied image folders
        return report


def oldest_read(store: Store) -> datetime | None:
    """The capture time of the oldest stored read (the first day file's statistics)."""
    first = manifest.live_paths(store.db, "reads")
    if not first:
        return None
    day = first[0].split("/")[1]
    paths = [store.path / p for p in first if p.split("/")[1] == day]
    value = pl.scan_parquet(paths).select(pl.col("captured_at").min()).collect().item()
    return value

