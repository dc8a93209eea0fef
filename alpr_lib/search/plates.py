"""Plate search over the store: partial patterns, plate history, one read.

Internal to the library: :class:`alpr_lib.session.Session` calls these after the policy checks and audits
the result. A search first matches the pattern against the plate dictionary (distinct plates, with first
and last sighting, see :mod:`alpr_lib.store.plate_index`), then reads only the plate-sorted bucket files that
hold the matching plates, where Parquet statistics skip all but a few row groups.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypeVar

import polars as pl

from alpr_lib.records import corrections, manifest
from alpr_lib.search.patterns import PlatePattern
from alpr_lib.store import plate_index
from alpr_lib.store.schema import READ_SCHEMA
from alpr_lib.store.store import Store

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

__all__ = ["RESULT_COLUMNS", "corrected_reads", "match_corrections", "match_plates", "read_by_id", "reads_by_ids",
           "reads_of_plates", "with_corrected"]

RESULT_COLUMNS = ["read_id", "plate", "plate_raw", "match", "substitutions", "captured_at", "captured_local",
                  "camera_id", "unit", "source", "region", "plate_confidence", "lat", "lon", "heading",
                  "image_ref"]


def _empty(zone: str) -> pl.DataFrame:
    schema = {**READ_SCHEMA, "match": pl.String, "substitutions": pl.Int32,
              "captured_local": pl.Datetime("us", zone)}
    return pl.DataFrame(schema={c: schema[c] for c in RESULT_COLUMNS})


def match_plates(store: Store, pattern: PlatePattern, *, exact: bool, start: datetime | None,
                 end: datetime | None) -> pl.DataFrame:
    """Distinct stored plates matching the pattern, with substitutions, first and last sighting."""
    levels = plate_index.load_dictionaries(store)
    if not levels:
        return pl.DataFrame(schema={"plate": pl.String, "first_seen": pl.Datetime("us", "UTC"),
                                    "last_seen": pl.Datetime("us", "UTC"), "substitutions": pl.Int32})
    prefixes = pattern.prefixes(confusions=not exact)
    suffixes = pattern.suffixes(confusions=not exact) if prefixes is None else None
    matched = []
    for dictionary in levels:  # the main level and the recent per-batch deltas, each sorted by plate
        if prefixes is not None:
            candidates = plate_index.plates_with_prefixes(dictionary, prefixes)
        elif suffixes is not None:
            candidates = plate_index.plates_with_suffixes(dictionary, suffixes)
        else:
            candidates = dictionary
        if pattern.has_wildcards or not exact:
            candidates = candidates.filter(pl.col("plate").str.contains(pattern.regex(confusions=not exact)))
        else:
            candidates = candidates.filter(pl.col("plate") == pattern.text)
        matched.append(candidates)
    candidates = plate_index.combine_levels(matched)
    if start is not None:
        candidates = candidates.filter(pl.col("last_seen") >= start)
    if end is not None:
        candidates = candidates.filter(pl.col("first_seen") < end)
    found = candidates.select("plate", "first_seen", "last_seen")
    if exact:
        subs = [0] * found.height
    else:
        exact_re = pattern.regex(confusions=False)
        is_exact = found.get_column("plate").str.contains(exact_re)
        subs = [0 if e else pattern.substitutions(p) for p, e in zip(found.get_column("plate"), is_exact,
                                                                       strict=True)]
    return found.with_columns(pl.Series("substitutions", subs, dtype=pl.Int32))


def reads_of_plates(store: Store, plates: pl.DataFrame, *, start: datetime | None, end: datetime | None,
                    regions: list[str] | None = None, cameras: list[str] | None = None) -> pl.DataFrame:
    """Every read of the given plates (a frame from :func:`match_plates`), ranked for the analyst."""
    zone = store.config.timezone
    frames = plate_index.plate_reads(store, plates)
    if not frames:
        return _empty(zone)
    found = _filtered(pl.concat(frames, how="vertical_relaxed").lazy(), start, end, regions, cameras).collect()
    ranked = (found.join(plates.select("plate", "substitutions"), on="plate", how="left")
              .with_columns(pl.when(pl.col("substitutions") == 0).then(pl.lit("exact"))
                            .otherwise(pl.lit("confusable")).alias("match"),
                            pl.col("captured_at").dt.convert_time_zone(zone).alias("captured_local")))
    return _ranked(ranked)


def _filtered(reads: FrameT, start: datetime | None, end: datetime | None, regions: list[str] | None,
              cameras: list[str] | None) -> FrameT:
    """``reads`` (eager or lazy) within the search's window, regions and cameras."""
    if start is not None:
        reads = reads.filter(pl.col("captured_at") >= start)
    if end is not None:
        reads = reads.filter(pl.col("captured_at") < end)
    if regions:
        reads = reads.filter(pl.col("region").is_in([r.upper() for r in regions]))
    if cameras:
        reads = reads.filter(pl.col("camera_id").is_in(list(cameras)))
    return reads


def _ranked(found: pl.DataFrame) -> pl.DataFrame:
    """The analyst's order: fewest substitutions first, then the most recent."""
    return found.sort(["substitutions", "captured_at"], descending=[False, True]).select(RESULT_COLUMNS)


def read_by_id(store: Store, read_id: str) -> pl.DataFrame:
    """One read by id (zero or one row). Uses the manifest's per-file id ranges to skip files."""
    return reads_by_ids(store, [read_id])


def reads_by_ids(store: Store, read_ids: list[str]) -> pl.DataFrame:
    """The reads with the given ids (those that exist); the manifest's per-file id ranges skip files."""
    zone = store.config.timezone
    paths = sorted({path for read_id in set(read_ids)
                    for path in manifest.files_overlapping(store.db, "reads", read_id, read_id)})
    if not paths:
        return _empty(zone).drop("match", "substitutions")
    found = (pl.scan_parquet([store.path / path for path in paths])
             .filter(pl.col("read_id").is_in(sorted(set(read_ids)))).collect())
    return found.with_columns(pl.col("captured_at").dt.convert_time_zone(zone).alias("captured_local"))


def match_corrections(store: Store, pattern: PlatePattern, *, exact: bool) -> dict[str, int]:
    """Read id -> substitutions, for each corrected read whose *corrected* plate matches the pattern."""
    rows = corrections.all_corrections(store.db)
    if not rows:
        return {}
    exact_re = re.compile(pattern.regex(confusions=False))
    any_re = re.compile(pattern.regex(confusions=not exact))
    found = {}
    for row in rows:
        plate = row["corrected_plate"]
        if exact_re.search(plate):
            found[row["read_id"]] = 0
        elif any_re.search(plate):
            found[row["read_id"]] = pattern.substitutions(plate)
    return found


def corrected_reads(store: Store, matched: dict[str, int], *, start: datetime | None, end: datetime | None,
                    regions: list[str] | None = None, cameras: list[str] | None = None) -> pl.DataFrame:
    """The reads found through their corrected plate (``match`` "corrected"; ``plate`` stays the stored one)."""
    zone = store.config.timezone
    if not matched:
        return _empty(zone)
    found = _filtered(reads_by_ids(store, list(matched)), start, end, regions, cameras)
    subs = [matched[read_id] for read_id in found.get_column("read_id")]
    return found.with_columns(pl.lit("corrected").alias("match"),
                              pl.Series("substitutions", subs, dtype=pl.Int32)).select(RESULT_COLUMNS)


def with_corrected(found: pl.DataFrame, corrected: pl.DataFrame) -> pl.DataFrame:
    """Search results plus the reads found through a correction that the plate match did not already find,
    ranked as :func:`reads_of_plates` ranks."""
    extra = corrected.filter(~pl.col("read_id").is_in(found.get_column("read_id").to_list()))
    if extra.height == 0:
        return found
    return _ranked(pl.concat([found, extra], how="vertical_relaxed"))
