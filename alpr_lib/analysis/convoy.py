"""Convoy / associates: vehicles repeatedly read within a short gap of a target plate at the same cameras.

The target's reads come from the plate index; then only the UTC-day partitions holding a target read (and
the neighbouring day when a read is within the gap of midnight) are scanned, each with a predicate for just
that day's target windows and cameras. Candidate reads are matched to target reads on (camera, time bucket
of ``gap_s``) and kept when ``|gap| <= gap_s``. Misreads of the target itself
(same plate up to OCR confusions) are not associates and are left out.

Score: ``days + 0.25 * (co_occurrences - days)``, times ``0.5 + 0.5 * mean closeness`` (closeness =
``1 - |gap| / gap_s``). Separate days dominate: a car that is with the target on seven evenings is stronger
evidence than one that passed three cameras behind it once; tighter gaps add a little.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import polars as pl

from alpr_lib.search import plates as plate_search
from alpr_lib.search.patterns import PlatePattern, confusion_key
from alpr_lib.store.files import live_files
from alpr_lib.store.store import Store

__all__ = ["CONVOY_COLUMNS", "convoy_candidates", "target_reads"]

CONVOY_COLUMNS = ["rank", "plate", "score", "co_occurrences", "days", "cameras", "mean_abs_gap_s", "first_seen",
                  "last_seen", "evidence"]


def target_reads(store: Store, plate: str, start: datetime | None, end: datetime | None) -> pl.DataFrame:
    """Every read of the target plate in the period (through the plate dictionary, like plate history)."""
    matched = plate_search.match_plates(store, PlatePattern.exact(plate), exact=True, start=start, end=end)
    return plate_search.reads_of_plates(store, matched, start=start, end=end).drop("match", "substitutions")


def _windows_by_day(targets: pl.DataFrame, gap: timedelta) -> dict[date, list[tuple[datetime, datetime, str]]]:
    """UTC day partition -> the (start, end, camera) windows around target reads that reach into it."""
    out: dict[date, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for t, camera in targets.select("captured_at", "camera_id").iter_rows():
        for day in {(t - gap).date(), (t + gap).date()}:
            out[day].append((t - gap, t + gap, camera))
    return dict(sorted(out.items()))


def _day_scan(store: Store, day: date, windows: list[tuple[datetime, datetime, str]],
              plate: str) -> pl.LazyFrame | None:
    """Reads of one day inside any target window at that window's camera (the time test runs first: cheap)."""
    files = live_files(store.db, store.path, "reads", first_day=day, last_day=day)
    if not files:
        return None
    near = pl.any_horizontal([pl.col("captured_at").is_between(lo, hi) & (pl.col("camera_id") == cam)
                              for lo, hi, cam in windows])
    return (pl.scan_parquet(files).filter(near, pl.col("plate") != plate)
            .select("read_id", "plate", "camera_id", "captured_at", "lat", "lon"))


def _empty(zone: str) -> pl.DataFrame:
    ev = pl.Struct({"target_read_id": pl.String, "read_id": pl.String, "camera_id": pl.String,
                    "target_at": pl.Datetime("us", "UTC"), "captured_at": pl.Datetime("us", "UTC"),
                    "gap_s": pl.Float64, "lat": pl.Float64, "lon": pl.Float64})
    return pl.DataFrame(schema={"rank": pl.Int64, "plate": pl.String, "score": pl.Float64,
                                "co_occurrences": pl.UInt32, "days": pl.UInt32, "cameras": pl.UInt32,
                                "mean_abs_gap_s": pl.Float64, "first_seen": pl.Datetime("us", zone),
                                "last_seen": pl.Datetime("us", zone), "evidence": pl.List(ev)})


def convoy_candidates(store: Store, targets: pl.DataFrame, plate: str, *, gap_s: float,
                      min_co_occurrences: int) -> pl.DataFrame:
    """Ranked associates of ``plate`` given its reads ``targets`` (see the module docstring)."""
    zone = store.config.timezone
    if targets.height == 0:
        return _empty(zone)
    gap = timedelta(seconds=gap_s)
    bucket_us = max(int(gap_s * 1e6), 1)
    tgt = (targets.select(pl.col("read_id").alias("target_read_id"), "camera_id",
                          pl.col("captured_at").alias("target_at"))
           .with_columns((pl.col("target_at").dt.epoch("us") // bucket_us).alias("_b"))
           .with_columns(pl.concat_list(pl.col("_b") - 1, pl.col("_b"), pl.col("_b") + 1).alias("_b"))
           .explode("_b"))
    scans = [_day_scan(store, day, windows, plate) for day, windows in _windows_by_day(targets, gap).items()]
    scans = [scan for scan in scans if scan is not None]
    if not scans:
        return _empty(zone)
    mine = confusion_key(plate)
    cand = (pl.concat(scans).collect()
            .with_columns((pl.col("captured_at").dt.epoch("us") // bucket_us).alias("_b")))
    pairs = (cand.join(tgt, on=["camera_id", "_b"])
             .with_columns(((pl.col("captured_at") - pl.col("target_at")).dt.total_microseconds() / 1e6)
                           .alias("gap_s"))
             .filter(pl.col("gap_s").abs() <= gap_s)
             .filter(pl.col("plate").replace_strict({p: confusion_key(p) for p in cand.get_column("plate").unique()},
                                                    return_dtype=pl.String) != mine)
             .unique(subset=["plate", "target_read_id"], keep="first", maintain_order=False)
             .with_columns(pl.col("target_at").dt.convert_time_zone(zone).dt.date().alias("_day"),
                           (1 - pl.col("gap_s").abs() / max(gap_s, 1e-9)).alias("_close")))
    if pairs.height == 0:
        return _empty(zone)
    evidence = pl.struct("target_read_id", "read_id", "camera_id", "target_at", "captured_at", "gap_s", "lat", "lon")
    out = (pairs.sort("captured_at").group_by("plate")
           .agg(pl.col("target_read_id").n_unique().alias("co_occurrences"), pl.col("_day").n_unique().alias("days"),
                pl.col("camera_id").n_unique().alias("cameras"), pl.col("gap_s").abs().mean().alias("mean_abs_gap_s"),
                pl.col("_close").mean().alias("_close"), pl.col("captured_at").min().alias("first_seen"),
                pl.col("captured_at").max().alias("last_seen"), evidence.alias("evidence"))
           .filter(pl.col("co_occurrences") >= min_co_occurrences)
           .with_columns(((pl.col("days") + 0.25 * (pl.col("co_occurrences") - pl.col("days")))
                          * (0.5 + 0.5 * pl.col("_close"))).round(3).alias("score"),
                         pl.col("mean_abs_gap_s").round(1),
                         pl.col("first_seen", "last_seen").dt.convert_time_zone(zone))
           .sort(["score", "co_occurrences", "plate"], descending=[True, True, False])
           .with_columns(pl.int_range(1, pl.len() + 1).alias("rank")))
    return out.select(CONVOY_COLUMNS)
