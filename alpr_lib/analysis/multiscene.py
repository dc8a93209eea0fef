"""Multi-scene: the vehicles seen near at least k of n incidents, each within its own window.

Built on the canvass rows of each scene. With ``group_confusions`` the plates that differ only by OCR
confusions (6/G, 8/B, 0/O/D/Q ... from ``data/ocr_confusions.toml``) count as one candidate vehicle, so a
misread at one scene still counts; the candidate is named after its most-read plate.
"""

from __future__ import annotations

import polars as pl

from alpr_lib.search.patterns import confusion_key

__all__ = ["MULTI_SCENE_COLUMNS", "rank_vehicles"]

MULTI_SCENE_COLUMNS = ["rank", "vehicle", "plates", "scenes", "scene_labels", "incident_ids", "reads",
                       "mean_distance_m", "min_distance_m", "mean_abs_offset_min", "read_ids"]


def rank_vehicles(hits: pl.DataFrame, *, min_scenes: int, group_confusions: bool) -> pl.DataFrame:
    """Rank candidate vehicles from canvass rows (one row per read and scene).

    Order: most scenes first; then closest (mean over its scenes of the nearest read's distance); then
    nearest in time (mean over its scenes of the smallest absolute offset).
    """
    if group_confusions:
        keys = {p: confusion_key(p) for p in hits.get_column("plate").unique().to_list()}
        hits = hits.with_columns(pl.col("plate").replace_strict(keys, return_dtype=pl.String).alias("_key"))
    else:
        hits = hits.with_columns(pl.col("plate").alias("_key"))
    per_scene = (hits.group_by("_key", "scene", maintain_order=True)
                 .agg(pl.col("incident_id").first(), pl.col("distance_m").min().alias("d"),
                      pl.col("offset_min").abs().min().alias("o")))
    names = (hits.group_by("_key", "plate").agg(pl.len().alias("n"))
             .sort(["_key", "n", "plate"], descending=[False, True, False])
             .group_by("_key", maintain_order=True).agg(pl.col("plate").first().alias("vehicle"),
                                                        pl.col("plate").alias("plates")))
    reads = hits.group_by("_key").agg(pl.len().alias("reads"), pl.col("read_id").alias("read_ids"))
    ranked = (per_scene.group_by("_key")
              .agg(pl.len().alias("scenes"), pl.col("scene").alias("scene_labels"),
                   pl.col("incident_id").alias("incident_ids"), pl.col("d").mean().alias("mean_distance_m"),
                   pl.col("d").min().alias("min_distance_m"), pl.col("o").mean().alias("mean_abs_offset_min"))
              .filter(pl.col("scenes") >= min_scenes)
              .join(names, on="_key").join(reads, on="_key")
              .sort(["scenes", "mean_distance_m", "mean_abs_offset_min", "vehicle"],
                    descending=[True, False, False, False])
              .with_columns(pl.int_range(1, pl.len() + 1).alias("rank"),
                            pl.col("mean_distance_m").round(1), pl.col("mean_abs_offset_min").round(2)))
    return ranked.select(MULTI_SCENE_COLUMNS)
