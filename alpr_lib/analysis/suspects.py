"""From canvass rows to a suspect list an investigator can work through (no store access: a pure summary).

One row per plate: how many reads near the scene, whether it was there before, during and after the
incident, and the nearest approach. Plates seen both before and after come first: a vehicle that arrives
before and is still close after is the classic lead; then the most reads, then the closest.
"""

from __future__ import annotations

from typing import Any

import polars as pl

__all__ = ["SUSPECT_COLUMNS", "suspect_list"]

SUSPECT_COLUMNS = ["rank", "plate", "reads", "before", "during", "after", "before_and_after", "min_distance_m",
                   "first_seen", "last_seen", "cameras", "read_ids"]


def suspect_list(canvass: Any) -> pl.DataFrame:
    """Summarise a canvass result (GeoDataFrame or polars frame) per plate, most suspicious first."""
    if not isinstance(canvass, pl.DataFrame):
        canvass = pl.from_pandas(canvass.drop(columns=["geometry"], errors="ignore"))
    if canvass.height == 0:
        return pl.DataFrame(schema={c: pl.String for c in SUSPECT_COLUMNS})
    off = pl.col("offset_min")
    return (canvass.group_by("plate")
            .agg(pl.len().alias("reads"), (off < 0).sum().alias("before"), (off == 0).sum().alias("during"),
                 (off > 0).sum().alias("after"), pl.col("distance_m").min().alias("min_distance_m"),
                 pl.col("captured_local").min().alias("first_seen"),
                 pl.col("captured_local").max().alias("last_seen"),
                 pl.col("camera_id").unique().sort().alias("cameras"), pl.col("read_id").alias("read_ids"))
            .with_columns(((pl.col("before") > 0) & (pl.col("after") > 0)).alias("before_and_after"))
            .sort(["before_and_after", "reads", "min_distance_m", "plate"], descending=[True, True, False, False])
            .with_columns(pl.int_range(1, pl.len() + 1).alias("rank"))
            .select(SUSPECT_COLUMNS))
