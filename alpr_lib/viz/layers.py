"""Turn analysis results into the pandas/GeoDataFrames kepler.gl draws (no widget code here).

Incidents become circles of the canvass radius (buffered in a local metric projection) or their polygons;
a plate's reads become one line per plate in time order (its track); cameras are deduplicated points.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import polars as pl
import shapely
from shapely.geometry import LineString, Point

from alpr_lib.analysis.geo import EARTH_RADIUS_M

__all__ = ["camera_points", "incident_shapes", "plate_tracks", "to_pandas"]


def to_pandas(frame: Any) -> pd.DataFrame:
    """pandas for kepler: polars converted; list columns joined to text, nested columns dropped."""
    if isinstance(frame, pl.DataFrame):
        lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
        nested = [c for c, t in frame.schema.items() if isinstance(t, pl.Struct | pl.Array)
                  or (isinstance(t, pl.List) and isinstance(t.inner, pl.Struct | pl.List))]
        frame = frame.drop(nested).with_columns(
            pl.col(c).list.eval(pl.element().cast(pl.String)).list.join(", ") for c in lists if c not in nested)
        frame = frame.to_pandas()
    return frame


def _buffer_m(geom: Any, radius_m: float) -> Any:
    from pyproj import Transformer

    c = geom.centroid
    crs = f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +R={EARTH_RADIUS_M} +units=m +no_defs"
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    def fwd_xy(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))

    def back_xy(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(back.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(shapely.transform(geom, fwd_xy).buffer(radius_m, quad_segs=32), back_xy)


def incident_shapes(incidents: Any, radius_m: float = 0.0) -> gpd.GeoDataFrame:
    """Incidents (a Session.incidents() frame, Incident objects, or a canvass result's ``attrs['scenes']``)
    as polygons: the canvass circle around a point, the polygon (plus its buffer) for an area."""
    rows: list[dict[str, Any]] = []
    items = incidents.iter_rows(named=True) if isinstance(incidents, pl.DataFrame) else list(incidents)
    for item in items:
        if hasattr(item, "geometry"):
            geom, label = item.geometry, f"{item.case_number} {item.offense_type}"
            rows.append({"incident_id": item.incident_id, "label": label, "geom": geom})
        elif "geometry" in item and isinstance(item["geometry"], dict):  # an audit-style scene description
            g = item["geometry"]
            geom = Point(g["lon"], g["lat"]) if g["type"] == "point" else shapely.from_wkt(g["wkt"])
            rows.append({"incident_id": item.get("incident_id"), "label": item.get("label"), "geom": geom})
        else:
            geom = shapely.from_wkt(item["polygon_wkt"]) if item.get("polygon_wkt") else Point(item["lon"], item["lat"])
            rows.append({"incident_id": item.get("incident_id"),
                         "label": f"{item.get('case_number')} {item.get('offense_type')}", "geom": geom})
    shapes = [_buffer_m(r["geom"], max(radius_m, 25.0)) if r["geom"].geom_type == "Point"
              else (_buffer_m(r["geom"], radius_m) if radius_m > 0 else r["geom"]) for r in rows]
    frame = pd.DataFrame({"incident_id": [r["incident_id"] for r in rows], "label": [r["label"] for r in rows],
                          "radius_m": radius_m})
    return gpd.GeoDataFrame(frame, geometry=shapes, crs="EPSG:4326")


def plate_tracks(reads: Any, *, plate_column: str = "plate") -> gpd.GeoDataFrame:
    """One LineString per plate through its reads in time order (plates read once are left out)."""
    frame = reads if isinstance(reads, pl.DataFrame) else pl.from_pandas(pd.DataFrame(reads).drop(
        columns=["geometry"], errors="ignore"))
    grouped = (frame.sort("captured_at").group_by(plate_column, maintain_order=True)
               .agg(pl.col("lon"), pl.col("lat"), pl.len().alias("reads"),
                    pl.col("captured_at").min().alias("first"), pl.col("captured_at").max().alias("last")))
    rows, geoms = [], []
    for r in grouped.iter_rows(named=True):
        if r["reads"] < 2:
            continue
        geoms.append(LineString(list(zip(r["lon"], r["lat"], strict=True))))
        rows.append({"plate": r[plate_column], "reads": r["reads"], "first": str(r["first"]),
                     "last": str(r["last"])})
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["plate", "reads", "first", "last"]), geometry=geoms,
                            crs="EPSG:4326")


def camera_points(reads: Any) -> pd.DataFrame:
    """Fixed camera positions seen in the reads (mobile units move, so they are not cameras on a map)."""
    frame = reads if isinstance(reads, pl.DataFrame) else pl.from_pandas(pd.DataFrame(reads).drop(
        columns=["geometry"], errors="ignore"))
    fixed = frame.filter(pl.col("source").fill_null("") != "MPD-MOBILE") if "source" in frame.columns else frame
    return (fixed.group_by("camera_id").agg(pl.col("lat").median(), pl.col("lon").median(), pl.len().alias("reads"))
            .sort("camera_id").to_pandas())
