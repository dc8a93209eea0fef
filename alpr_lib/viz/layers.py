"""Turn analysis results into the pandas/GeoDataFrames kepler.gl draws (no widget code here).

One function per kind of thing on a map, so each kind has its own dataset, layer and legend entry: reads
(points with the plate, local time and camera for the popup), cameras (deduplicated fixed sites), incidents
(a point each, labelled with the case), scene circles (the canvass radius, buffered in a local metric
projection), tracks (a plate's reads joined in time order, one segment per hop so each hop has its times)
and street names (label points along the road network). Times are shown as local text with the zone's
abbreviation: kepler would otherwise show UTC, or the browser's zone.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import polars as pl
import shapely
from shapely.geometry import LineString, Point

from alpr_lib.analysis.geo import EARTH_RADIUS_M
from alpr_lib.config import SETTINGS
from alpr_lib.errors import ValidationError

__all__ = ["DEFAULT_ZONE", "TIME_FORMAT", "camera_points", "incident_areas", "incident_points", "incident_shapes",
           "local_times", "plate_tracks", "read_points", "street_labels", "to_pandas", "track_segments"]

#: The department zone when a frame does not carry one (the ``timezone`` setting's default).
DEFAULT_ZONE: str = next(s.default for s in SETTINGS if s.name == "timezone")
_READ_COLUMNS = ("plate", "time", "camera_id", "unit", "scene", "distance_m", "offset_min", "plate_confidence",
                 "read_id", "lat", "lon")
#: Local time as text. The comma matters: kepler takes any text with a date followed by a space and a time
#: for a timestamp and shows it as epoch milliseconds (or in UTC); "2026-05-16, 22:47:00 PDT" stays text.
TIME_FORMAT = "%Y-%m-%d, %H:%M:%S %Z"
_M_PER_DEG = math.pi * EARTH_RADIUS_M / 180.0
_LABEL_EVERY_M = 1500.0


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


def _polars(frame: Any) -> pl.DataFrame:
    """A polars copy of any reads-like frame (geometry dropped: coordinates are in ``lat``/``lon``)."""
    if isinstance(frame, pl.DataFrame):
        return frame
    return pl.from_pandas(pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore"))


def local_times(frame: pl.DataFrame, zone: str | None = None) -> pl.Series:
    """Capture times as text in the department's zone, e.g. ``2026-05-15, 22:41:07 PDT`` (:data:`TIME_FORMAT`).

    ``captured_local`` (which search, canvass and history results carry) wins; otherwise ``captured_at`` is
    converted (a naive time is taken as UTC, as the store keeps it) to ``zone`` or the default zone.
    """
    if "captured_local" in frame.columns and getattr(frame.schema["captured_local"], "time_zone", None):
        moment = frame.get_column("captured_local")
    elif "captured_at" in frame.columns:
        moment = frame.get_column("captured_at")
        if not isinstance(moment.dtype, pl.Datetime):
            moment = moment.str.to_datetime(time_zone="UTC") if moment.dtype == pl.String else moment
        if getattr(moment.dtype, "time_zone", None) is None:
            moment = moment.dt.replace_time_zone("UTC")
        moment = moment.dt.convert_time_zone(zone or DEFAULT_ZONE)
    else:
        return pl.Series("time", [None] * frame.height, dtype=pl.String)
    return moment.dt.strftime(TIME_FORMAT).alias("time")


def read_points(reads: Any, zone: str | None = None) -> pd.DataFrame:
    """Reads as map points with what a popup needs: plate, local time, camera (and the canvass context)."""
    frame = _polars(reads)
    frame = frame.with_columns(local_times(frame, zone))
    cols = [c for c in _READ_COLUMNS if c in frame.columns]
    out = frame.select(cols)
    floats = [c for c in ("distance_m", "offset_min", "plate_confidence") if c in cols]
    return out.with_columns(pl.col(floats).cast(pl.Float64).round(1)).to_pandas()


def _incident_rows(incidents: Any) -> list[dict[str, Any]]:
    """Incidents (a Session.incidents() frame, Incident objects, or canvass ``attrs['scenes']``) as rows."""
    rows: list[dict[str, Any]] = []
    items = incidents.iter_rows(named=True) if isinstance(incidents, pl.DataFrame) else list(incidents)
    for item in items:
        if hasattr(item, "geometry"):
            rows.append({"incident_id": item.incident_id, "label": f"{item.case_number} {item.offense_type}",
                         "location": getattr(item, "location_name", None) or "", "geom": item.geometry})
        elif "geometry" in item and isinstance(item["geometry"], dict):  # an audit-style scene description
            g = item["geometry"]
            geom = Point(g["lon"], g["lat"]) if g["type"] == "point" else shapely.from_wkt(g["wkt"])
            rows.append({"incident_id": item.get("incident_id"), "label": item.get("label"), "location": "",
                         "geom": geom})
        else:
            geom = shapely.from_wkt(item["polygon_wkt"]) if item.get("polygon_wkt") else Point(item["lon"], item["lat"])
            rows.append({"incident_id": item.get("incident_id"),
                         "label": f"{item.get('case_number')} {item.get('offense_type')}",
                         "location": item.get("location_name") or "", "geom": geom})
    return rows


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
    """Incidents as polygons: the canvass circle around a point, the polygon (plus its buffer) for an area."""
    rows = _incident_rows(incidents)
    shapes = [_buffer_m(r["geom"], max(radius_m, 25.0)) if r["geom"].geom_type == "Point"
              else (_buffer_m(r["geom"], radius_m) if radius_m > 0 else r["geom"]) for r in rows]
    frame = pd.DataFrame({"incident_id": [r["incident_id"] for r in rows], "label": [r["label"] for r in rows],
                          "radius_m": radius_m})
    return gpd.GeoDataFrame(frame, geometry=shapes, crs="EPSG:4326")


def incident_areas(incidents: Any, radius_m: float = 0.0) -> gpd.GeoDataFrame:
    """The areas worth drawing: canvass circles (``radius_m`` > 0) and incident polygons, never a bare point."""
    if isinstance(incidents, gpd.GeoDataFrame):
        return incidents
    shapes = incident_shapes(incidents, radius_m)
    if radius_m > 0:
        return shapes
    areas = [r["geom"].geom_type != "Point" for r in _incident_rows(incidents)]
    return shapes[areas].reset_index(drop=True)


def incident_points(incidents: Any) -> pd.DataFrame:
    """One point per incident (its location, or an area's centre), labelled with case number and offense."""
    if isinstance(incidents, gpd.GeoDataFrame):
        centres = incidents.geometry.centroid
        return pd.DataFrame({"label": incidents.get("label", pd.Series([""] * len(incidents))).to_numpy(),
                             "location": "", "lat": centres.y.to_numpy(), "lon": centres.x.to_numpy()})
    rows = _incident_rows(incidents)
    return pd.DataFrame({"label": [r["label"] for r in rows], "location": [r["location"] for r in rows],
                         "lat": [r["geom"].centroid.y for r in rows], "lon": [r["geom"].centroid.x for r in rows]},
                        columns=["label", "location", "lat", "lon"])


def plate_tracks(reads: Any, *, plate_column: str = "plate") -> gpd.GeoDataFrame:
    """One LineString per plate through its reads in time order (plates read once are left out)."""
    frame = _polars(reads)
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


_SEGMENT_COLUMNS = ["plate", "from_time", "to_time", "lat0", "lon0", "lat1", "lon1"]


def track_segments(tracks: Any, zone: str | None = None) -> pd.DataFrame:
    """Each plate's hops from one read to the next in time order, for kepler's line layer.

    Segments rather than one line per plate: kepler turns a closed GeoJSON line (a car that comes back to
    where it was first read) into a polygon, and a hop can carry its own times in the popup. A reads frame
    gives times; a ``plate_tracks`` GeoDataFrame gives the hops without them. A read that appears once per
    scene of a multi-scene canvass counts once.
    """
    if isinstance(tracks, gpd.GeoDataFrame) and "captured_at" not in tracks.columns:
        rows = []
        for plate, line in zip(tracks["plate"], tracks.geometry, strict=True):
            xy = list(line.coords)
            rows += [(plate, "", "", a[1], a[0], b[1], b[0]) for a, b in pairwise(xy) if a != b]
        return pd.DataFrame(rows, columns=_SEGMENT_COLUMNS)
    frame = _polars(tracks)
    missing = {"plate", "captured_at", "lat", "lon"} - set(frame.columns)
    if missing:
        raise ValidationError(f"tracks need each read's plate, captured_at, lat and lon; missing {sorted(missing)}")
    if frame.height == 0:
        return pd.DataFrame(columns=_SEGMENT_COLUMNS)
    if "read_id" in frame.columns:
        frame = frame.unique(subset="read_id", keep="first", maintain_order=True)
    frame = frame.with_columns(local_times(frame, zone)).sort(["plate", "captured_at"])
    nxt = {f"{c}_next": pl.col(c).shift(-1).over("plate") for c in ("lat", "lon", "time")}
    hops = (frame.with_columns(**nxt).filter(pl.col("lat_next").is_not_null())
            .filter((pl.col("lat") != pl.col("lat_next")) | (pl.col("lon") != pl.col("lon_next"))))
    return hops.select(pl.col("plate"), pl.col("time").alias("from_time"), pl.col("time_next").alias("to_time"),
                       pl.col("lat").alias("lat0"), pl.col("lon").alias("lon0"),
                       pl.col("lat_next").alias("lat1"), pl.col("lon_next").alias("lon1")).to_pandas()


def camera_points(reads: Any) -> pd.DataFrame:
    """Fixed camera positions seen in the reads (mobile units move, so they are not cameras on a map)."""
    frame = _polars(reads)
    if "read_id" in frame.columns:
        frame = frame.unique(subset="read_id", keep="first", maintain_order=True)
    fixed = frame.filter(pl.col("source").fill_null("") != "MPD-MOBILE") if "source" in frame.columns else frame
    extra = [pl.col("unit").first()] if "unit" in fixed.columns else []
    return (fixed.group_by("camera_id").agg(pl.col("lat").median(), pl.col("lon").median(),
                                            pl.len().alias("reads"), *extra)
            .sort("camera_id").to_pandas())


def street_labels(roads: gpd.GeoDataFrame, *, every_m: float = _LABEL_EVERY_M) -> pd.DataFrame:
    """Points that carry street names along the road network: one per ``every_m`` of each street, at least one.

    kepler draws text only on point layers, so a street's name sits on points spread along the street.
    """
    rows = []
    for street, part in roads.groupby("street", sort=True):
        merged = shapely.line_merge(shapely.union_all(part.geometry.to_numpy()))
        lines = list(getattr(merged, "geoms", [merged]))
        for line in lines:
            lat = line.centroid.y
            length_m = line.length * _M_PER_DEG * max(math.cos(math.radians(lat)), 0.2)
            if length_m < 150:  # a stub: the name would cover it
                continue
            k = max(1, round(length_m / every_m))
            for i in range(k):
                p = line.interpolate((i + 0.5) / k, normalized=True)
                rows.append({"street": street, "lat": p.y, "lon": p.x})
    return pd.DataFrame(rows, columns=["street", "lat", "lon"])
