"""kepler.gl maps of reads, incidents, cameras, plate tracks and the sample road network.

Every map carries a saved config: ``mapState`` centred and zoomed on the data (kepler otherwise opens far
away), one styled layer per dataset, and a basemap chosen by the department. The default basemap is *none*:
no request leaves the analyst's browser for a third-party tile server (which would tell it where
investigators are looking); set ``basemap_style_url`` in ``department.toml`` to the department's internal
style URL, or to a kepler style id such as ``dark-matter``. Data layers draw with or without a basemap, and
the road network layer keeps the demo map readable offline.
"""

from __future__ import annotations

import math
import os
from typing import Any

import geopandas as gpd
import pandas as pd
from keplergl import KeplerGl

from alpr_lib.viz.layers import camera_points, incident_shapes, plate_tracks, to_pandas

__all__ = ["basemap_style", "incident_shapes", "map_config", "plate_tracks", "reads_map"]

_COLORS = {"roads": [120, 130, 140], "incidents": [230, 57, 70], "cameras": [69, 123, 157],
           "reads": [255, 203, 5], "tracks": [42, 157, 143], "places": [114, 9, 183]}
_KEPLER_STYLES = {"no_map", "dark-matter", "positron", "voyager", "dark", "light", "muted", "muted_night",
                  "satellite"}


def basemap_style(url_or_id: str | None = None) -> dict[str, Any]:
    """kepler ``mapStyle`` for a style URL (an internal tile server) or a built-in style id ('' = none).

    Without an argument it reads the store's ``basemap_style_url`` setting via ``ALPR_BASEMAP_STYLE_URL``
    or falls back to no basemap.
    """
    value = (url_or_id if url_or_id is not None else os.environ.get("ALPR_BASEMAP_STYLE_URL", "")).strip()
    if not value:
        return {"styleType": "no_map"}
    if value in _KEPLER_STYLES:
        return {"styleType": value}
    return {"styleType": "department", "mapStyles": {"department": {
        "id": "department", "label": "Department basemap", "url": value, "icon": "", "custom": "MANAGED"}}}


def _zoom_for(lat_span: float, lon_span: float, lat: float, width_px: int = 900, height_px: int = 600) -> float:
    """Web-Mercator zoom that fits the span in the view (clamped to city..street scale)."""
    lon_span = max(lon_span, 1e-4) * 1.3
    lat_span = max(lat_span, 1e-4) * 1.3
    z_lon = math.log2(360.0 * width_px / 512.0 / lon_span)
    z_lat = math.log2(180.0 * height_px / 512.0 / lat_span / max(math.cos(math.radians(lat)), 0.01) * 0.9)
    return round(max(3.0, min(17.0, z_lon, z_lat)), 2)


def _bounds(frames: list[Any]) -> tuple[float, float, float, float] | None:
    boxes = []
    for f in frames:
        if f is None or len(f) == 0:
            continue
        if isinstance(f, gpd.GeoDataFrame):
            boxes.append(tuple(f.total_bounds))  # minx, miny, maxx, maxy
        elif {"lat", "lon"} <= set(f.columns):
            boxes.append((f["lon"].min(), f["lat"].min(), f["lon"].max(), f["lat"].max()))
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _layer(data_id: str, label: str, kind: str, color: list[int], **vis: Any) -> dict[str, Any]:
    columns = {"lat": "lat", "lng": "lon"} if kind == "point" else {"geojson": "geometry"}
    vis_config = {"opacity": 0.85, "thickness": 1.5, "radius": 6, "filled": True, "outline": False,
                  "stroked": True, **vis}
    return {"id": data_id, "type": kind, "config": {
        "dataId": data_id, "label": label, "color": color, "columns": columns, "isVisible": True,
        "visConfig": vis_config, "textLabel": []}}


def map_config(datasets: dict[str, Any], *, basemap: str | None = None) -> dict[str, Any]:
    """The saved kepler config: centred view, one styled layer per dataset, the department basemap."""
    focus = [datasets[k] for k in ("reads", "incidents", "tracks") if k in datasets] or list(datasets.values())
    box = _bounds(focus) or _bounds(list(datasets.values())) or (-121.93, 37.40, -121.86, 37.46)
    lat, lon = float(box[1] + box[3]) / 2, float(box[0] + box[2]) / 2
    layers = []
    order = ("roads", "incidents", "tracks", "places", "cameras", "reads")
    for name in sorted(datasets, key=lambda n: order.index(n) if n in order else len(order)):
        frame = datasets[name]
        color = _COLORS.get(name, [200, 200, 200])
        if isinstance(frame, gpd.GeoDataFrame):
            extra = {"filled": name == "incidents", "opacity": {"incidents": 0.25, "tracks": 0.45}.get(name, 0.8),
                     "thickness": 2 if name == "tracks" else 1.2}
            layers.append(_layer(name, name.title(), "geojson", color, strokeColor=color, **extra))
        else:
            layers.append(_layer(name, name.title(), "point", color,
                                 radius={"reads": 8, "places": 14}.get(name, 5)))
    layers.reverse()  # kepler draws the first layer on top
    return {"version": "v1", "config": {
        "visState": {"layers": layers, "filters": [], "interactionConfig": {"tooltip": {"enabled": True}}},
        "mapState": {"latitude": lat, "longitude": lon, "zoom": _zoom_for(box[3] - box[1], box[2] - box[0], lat),
                     "bearing": 0, "pitch": 0, "dragRotate": False},
        "mapStyle": basemap_style(basemap)}}


def reads_map(reads: Any = None, *, incidents: Any = None, radius_m: float = 0.0, cameras: Any = True,
              tracks: Any = None, roads: gpd.GeoDataFrame | None = None, places: Any = None,
              basemap: str | None = None, height: int = 600) -> KeplerGl:
    """A kepler.gl map of reads (a canvass GeoDataFrame or any reads frame), with optional incident circles
    (``radius_m``), fixed cameras (``True``: derived from the reads), per-plate tracks (``True``: from the
    reads, or a reads frame), frequent places (a ``frequent_locations`` frame) and a road-network layer
    (e.g. ``alpr_lib.samples.roads_gdf()``)."""
    datasets: dict[str, Any] = {}
    if roads is not None and len(roads):
        datasets["roads"] = roads[[c for c in roads.columns if c in ("street", "length_m", "geometry")]]
    if incidents is not None:
        shapes = incidents if isinstance(incidents, gpd.GeoDataFrame) else incident_shapes(incidents, radius_m)
        if len(shapes):
            datasets["incidents"] = shapes
    if reads is not None and len(reads):
        table = to_pandas(reads)
        if isinstance(table, gpd.GeoDataFrame):
            table = pd.DataFrame(table.drop(columns=table.geometry.name))
        for col in table.columns:  # times as local ISO text: readable in tooltips and filters
            if pd.api.types.is_datetime64_any_dtype(table[col]):
                table[col] = table[col].astype(str)
        datasets["reads"] = table
        if cameras is True:
            datasets["cameras"] = camera_points(to_pandas(reads) if not isinstance(reads, pd.DataFrame) else reads)
        if tracks is True:
            tracks = reads
    if cameras is not None and cameras is not True and cameras is not False and len(cameras):
        datasets["cameras"] = to_pandas(cameras)
    if places is not None and len(places):
        datasets["places"] = to_pandas(places)
    if tracks is not None and tracks is not True:
        lines = tracks if isinstance(tracks, gpd.GeoDataFrame) else plate_tracks(tracks)
        if len(lines):
            datasets["tracks"] = lines
    return KeplerGl(height=height, data=datasets, config=map_config(datasets, basemap=basemap))
