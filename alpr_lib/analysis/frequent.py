"""Frequent locations: where one plate is usually seen, by place and by time of day.

The plate's reads are clustered by place (single linkage: reads within ``cluster_radius_m`` of each other
join one cluster) and each read is put in a time-of-day band in the department's zone, so the answer reads
like an investigator's note: "overnight near Park Victoria & Yellowstone, 24 reads".
"""

from __future__ import annotations

import numpy as np
import polars as pl

from alpr_lib.analysis.geo import haversine_m

__all__ = ["BANDS", "FREQUENT_COLUMNS", "cluster_places", "frequent_locations_of"]

#: Time-of-day bands in the department's zone: name -> when. Overnight counts on any day of the week.
BANDS: dict[str, str] = {
    "overnight": "22:00-05:59, any day",
    "weekday daytime": "06:00-17:59, Monday-Friday",
    "weekday evening": "18:00-21:59, Monday-Friday",
    "weekend daytime": "06:00-21:59, Saturday-Sunday",
}

FREQUENT_COLUMNS = ["rank", "cluster", "lat", "lon", "reads", "days", "usual_time", "overnight", "weekday daytime",
                    "weekday evening", "weekend daytime", "cameras", "first_seen", "last_seen", "read_ids"]

_MAX_PAIRWISE = 4000


def cluster_places(lat: np.ndarray, lon: np.ndarray, radius_m: float) -> np.ndarray:
    """Cluster labels (0..k-1) by single linkage within ``radius_m``; grid cells beyond a few thousand reads."""
    n = len(lat)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n > _MAX_PAIRWISE:  # a very frequently read plate: snap to cells of the radius instead
        cell_lat = radius_m / 111_195.0
        cell_lon = cell_lat / np.cos(np.radians(np.mean(lat)))
        keys = np.stack([np.floor(lat / cell_lat), np.floor(lon / cell_lon)], axis=1)
        _, labels = np.unique(keys, axis=0, return_inverse=True)
        return labels.ravel()
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        near = np.nonzero(haversine_m(lat[i], lon[i], lat[i + 1:], lon[i + 1:]) <= radius_m)[0] + i + 1
        for j in near:
            a, b = find(i), find(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([find(i) for i in range(n)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def _band() -> pl.Expr:
    hour = pl.col("captured_local").dt.hour()
    weekend = pl.col("captured_local").dt.weekday() >= 6
    return (pl.when((hour >= 22) | (hour < 6)).then(pl.lit("overnight"))
            .when(weekend).then(pl.lit("weekend daytime"))
            .when(hour < 18).then(pl.lit("weekday daytime"))
            .otherwise(pl.lit("weekday evening")))


def frequent_locations_of(reads: pl.DataFrame, *, cluster_radius_m: float, min_reads: int) -> pl.DataFrame:
    """Clusters of one plate's reads (a plate-history frame with ``captured_local``), most reads first."""
    if reads.height == 0:
        schema = {c: pl.Int64 for c in FREQUENT_COLUMNS}
        return pl.DataFrame(schema=schema)
    labels = cluster_places(reads.get_column("lat").to_numpy(), reads.get_column("lon").to_numpy(),
                            cluster_radius_m)
    tagged = reads.with_columns(pl.Series("cluster", labels), _band().alias("band"),
                                pl.col("captured_local").dt.date().alias("_day"))
    counts = (tagged.group_by("cluster", "band").agg(pl.len().alias("n"))
              .pivot(on="band", index="cluster", values="n"))
    for band in BANDS:
        if band not in counts.columns:
            counts = counts.with_columns(pl.lit(0, dtype=pl.UInt32).alias(band))
    counts = counts.with_columns(pl.col(list(BANDS)).fill_null(0))
    usual = (tagged.group_by("cluster", "band").agg(pl.len().alias("n"))
             .sort(["cluster", "n", "band"], descending=[False, True, False])
             .group_by("cluster", maintain_order=True).agg(pl.col("band").first().alias("usual_time")))
    out = (tagged.group_by("cluster")
           .agg(pl.col("lat").mean().round(6), pl.col("lon").mean().round(6), pl.len().alias("reads"),
                pl.col("_day").n_unique().alias("days"), pl.col("camera_id").unique().sort().alias("cameras"),
                pl.col("captured_local").min().alias("first_seen"), pl.col("captured_local").max().alias("last_seen"),
                pl.col("read_id").alias("read_ids"))
           .filter(pl.col("reads") >= min_reads)
           .join(counts, on="cluster").join(usual, on="cluster")
           .sort(["reads", "cluster"], descending=[True, False])
           .with_columns(pl.int_range(1, pl.len() + 1).alias("rank"), pl.col("cluster").cast(pl.Int64)))
    return out.select(FREQUENT_COLUMNS)
