"""Canvass: reads near a scene in its time window (policy 462.3(c)), with distance and time offset.

The scan touches only the UTC-day partitions the window overlaps (the manifest names them) and lets the
Parquet reader drop reads outside the time window and a padded lat/lon box before any distance is
computed; the exact distance test then runs on the few survivors. All time arithmetic is in UTC, so a
window across midnight UTC or a daylight-saving change is just an interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from alpr_lib.analysis.geo import bbox_around, distance_to_geometry_m
from alpr_lib.analysis.scenes import Scene
from alpr_lib.store.files import live_files
from alpr_lib.store.schema import READ_SCHEMA
from alpr_lib.store.store import Store

__all__ = ["CANVASS_COLUMNS", "canvass_reads", "scene_candidates"]

CANVASS_COLUMNS = ["scene", "incident_id", "read_id", "plate", "captured_at", "captured_local", "offset_min",
                   "distance_m", "camera_id", "unit", "source", "lat", "lon", "heading", "plate_confidence",
                   "plate_raw", "region", "image_ref"]


def _empty(zone: str) -> pl.DataFrame:
    extra = {"scene": pl.String, "incident_id": pl.String, "offset_min": pl.Float64, "distance_m": pl.Float64,
             "captured_local": pl.Datetime("us", zone)}
    schema = {**READ_SCHEMA, **extra}
    return pl.DataFrame(schema={c: schema[c] for c in CANVASS_COLUMNS})


def scene_candidates(store: Store, scene: Scene, radius_m: float, before_min: float, after_min: float,
                     columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Reads in the scene's window and padded bounding box (a superset of the canvass)."""
    lo, hi = scene.window(before_min, after_min)
    files = live_files(store.db, store.path, "reads", first_day=lo.date(), last_day=hi.date())
    cols = list(columns) if columns else list(READ_SCHEMA)
    if not files:
        return pl.DataFrame(schema={c: READ_SCHEMA[c] for c in cols})
    min_lat, max_lat, min_lon, max_lon = bbox_around(scene.geometry, radius_m)
    return (pl.scan_parquet(files)
            .filter(pl.col("captured_at").is_between(lo, hi, closed="both"),
                    pl.col("lat").is_between(min_lat, max_lat), pl.col("lon").is_between(min_lon, max_lon))
            .select(cols)
            .collect())


def _one(store: Store, scene: Scene, radius_m: float, before_min: float, after_min: float) -> pl.DataFrame:
    found = scene_candidates(store, scene, radius_m, before_min, after_min)
    if found.height == 0:
        return _empty(store.config.timezone)
    dist = distance_to_geometry_m(scene.geometry, found.get_column("lat").to_numpy(),
                                  found.get_column("lon").to_numpy())
    found = (found.with_columns(pl.Series("distance_m", dist)).filter(pl.col("distance_m") <= radius_m)
             .with_columns(pl.col("distance_m").round(2)))
    t = pl.col("captured_at")
    offset = (pl.when(t < scene.start).then(t - pl.lit(scene.start))
              .when(t > scene.end).then(t - pl.lit(scene.end))
              .otherwise(pl.duration(seconds=0)))
    return found.with_columns(
        pl.lit(scene.label).alias("scene"), pl.lit(scene.incident_id, dtype=pl.String).alias("incident_id"),
        (offset.dt.total_microseconds() / 60e6).round(2).alias("offset_min"),
        t.dt.convert_time_zone(store.config.timezone).alias("captured_local"),
    ).select(CANVASS_COLUMNS).sort(["captured_at", "read_id"])


def canvass_reads(store: Store, scenes: Sequence[Scene], radius_m: float, before_min: float,
                  after_min: float) -> pl.DataFrame:
    """One row per (read, scene) within ``radius_m`` of the scene and its window, in scene order, then by time.

    ``offset_min`` is negative before the incident began, 0 while it lasted and positive after it ended;
    ``distance_m`` is 0 inside a polygon.
    """
    parts = [_one(store, scene, radius_m, before_min, after_min) for scene in scenes]
    return pl.concat(parts) if parts else _empty(store.config.timezone)
