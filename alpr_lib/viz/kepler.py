"""kepler.gl maps that explain themselves: named layers, a legend, street names and popups, and no third party.

Every kind of thing on a map has its own dataset and layer (:data:`KINDS`: reads, cameras, incidents, canvass
areas, tracks, frequent places, roads, street names), with its own colour and shape, a name in kepler's
legend (open by default) and a popup listing the fields an investigator needs (a read: plate, local time,
camera). Every map carries a saved config with ``mapState`` centred and zoomed on the data (kepler otherwise
opens far away).

The default basemap is *none*, and then the map asks nothing of any host but the notebook server: no
third-party tile server learns where investigators are looking. That takes :mod:`alpr_lib.viz.offline_kepler`
(keplergl's widget otherwise fetches its default basemap style as it mounts). The department's setting
``basemap_style_url`` names its internal style URL instead; a kepler style id (``dark-matter``, ...) is an
explicit opt-in to kepler's own third-party basemaps. Without a basemap the road layer and the street-name
labels (from the sample road network, or any roads GeoDataFrame with a ``street`` column) keep the map
readable.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from alpr_lib.viz.layers import (
    TIME_FORMAT,
    camera_points,
    incident_areas,
    incident_points,
    incident_shapes,
    plate_tracks,
    read_points,
    street_labels,
    to_pandas,
    track_segments,
)
from alpr_lib.viz.offline_kepler import OfflineKeplerGl

__all__ = ["KINDS", "Kind", "basemap_style", "basemap_styles", "incident_shapes", "map_config", "plate_tracks",
           "reads_map"]

_KEPLER_STYLES = {"no_map", "dark-matter", "positron", "voyager", "dark", "light", "muted", "muted_night",
                  "satellite"}
_ICON = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#29323c"/>'
    b'<path d="M8 50 L28 30 L40 40 L56 18" stroke="#8a9aa8" stroke-width="4" fill="none"/></svg>').decode()
#: An inline empty style: nothing to fetch. ``custom`` tells kepler not to credit a basemap library for it
#: (its attribution would otherwise read "Basemap by:" followed by nothing).
_NO_BASEMAP = {"id": "no_map", "label": "No basemap", "url": "", "icon": _ICON, "layerGroups": [],
               "custom": "LOCAL", "style": {"version": 8, "sources": {}, "layers": []}}
#: Colours for tracks coloured by plate (kepler's ordinal scale cycles through them).
_PLATE_COLOURS = ("#2a9d8f", "#f4a261", "#e76f51", "#8ab17d", "#e9c46a", "#9b5de5", "#00bbf9", "#f15bb5",
                  "#fee440", "#00f5d4", "#bc6c25", "#ffffff")


@dataclass(frozen=True)
class Kind:
    """How one kind of thing is drawn: its layer's name, kepler layer type, colour, style, popup and label."""

    name: str
    label: str
    layer: str  # kepler layer type: "point", "geojson" or "line"
    color: tuple[int, int, int]
    vis: dict[str, Any] = field(default_factory=dict)
    popup: tuple[str, ...] = ()
    text: str | None = None  # the field drawn as a text label next to each point
    text_color: tuple[int, int, int] = (230, 230, 230)
    text_size: int = 12


#: Every kind, topmost first (kepler draws the first layer on top): reads over the incident they surround.
KINDS: tuple[Kind, ...] = (
    Kind("reads", "Reads", "point", (255, 203, 5),
         {"radius": 12, "filled": True, "outline": False},
         ("plate", "time", "camera_id", "unit", "scene", "distance_m", "offset_min")),
    Kind("incidents", "Incidents", "point", (230, 57, 70),
         {"radius": 16, "filled": True, "outline": True, "thickness": 2, "strokeColor": [255, 255, 255]},
         ("label", "location"), text="label", text_color=(255, 140, 150), text_size=18),
    Kind("cameras", "Cameras", "point", (0, 160, 255),
         {"radius": 24, "filled": False, "outline": True, "thickness": 3, "strokeColor": [0, 160, 255]},
         ("camera_id", "unit", "name", "reads")),
    Kind("tracks", "Tracks", "line", (42, 157, 143), {"thickness": 3, "opacity": 0.9},
         ("plate", "from_time", "to_time")),
    Kind("places", "Frequent places", "point", (181, 23, 158),
         {"radius": 30, "filled": True, "outline": True, "thickness": 2, "opacity": 0.45,
          "strokeColor": [181, 23, 158]},
         ("rank", "reads", "days", "usual_time", "first_seen", "last_seen"), text="usual_time",
         text_color=(230, 170, 225), text_size=16),
    Kind("scenes", "Canvass area", "geojson", (230, 57, 70),
         {"filled": False, "stroked": True, "thickness": 2.5, "strokeColor": [230, 57, 70]},
         ("label", "radius_m")),
    Kind("street_names", "Street names", "point", (120, 130, 140),
         {"radius": 1, "filled": True, "outline": False, "opacity": 0.0}, (), text="street",
         text_color=(175, 185, 195), text_size=15),
    Kind("roads", "Roads", "geojson", (120, 130, 140),
         {"filled": False, "stroked": True, "thickness": 1.5, "opacity": 0.8, "strokeColor": [120, 130, 140]},
         ("street",)),
)
_BY_NAME = {k.name: k for k in KINDS}


def basemap_style(url_or_id: str | None = None) -> dict[str, Any]:
    """kepler ``mapStyle`` for a style URL (an internal tile server) or a built-in style id ('' = none).

    Without one there is no basemap: a map never asks a third party for tiles (the department's setting
    ``basemap_style_url``, from ``s.store_info.department()``, names its own tile server).
    """
    value = (url_or_id or "").strip()
    if not value:
        return {"styleType": "no_map"}
    if value in _KEPLER_STYLES:
        return {"styleType": value}
    return {"styleType": "department", "mapStyles": {"department": {
        "id": "department", "label": "Department basemap", "url": value, "icon": _ICON, "custom": "MANAGED"}}}


def basemap_styles(url_or_id: str | None = None) -> tuple[list[dict[str, Any]], bool]:
    """The widget's style list and whether it replaces kepler's built-in (third-party) styles.

    No basemap and a department URL replace them (so nothing else can be fetched); a built-in style id is
    the explicit choice of kepler's own list.
    """
    style = basemap_style(url_or_id)
    if style["styleType"] == "no_map":
        return [_NO_BASEMAP], True
    if style["styleType"] == "department":
        return [style["mapStyles"]["department"], _NO_BASEMAP], True
    return [], False


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
        elif {"lat0", "lon0", "lat1", "lon1"} <= set(f.columns):
            boxes.append((min(f["lon0"].min(), f["lon1"].min()), min(f["lat0"].min(), f["lat1"].min()),
                          max(f["lon0"].max(), f["lon1"].max()), max(f["lat0"].max(), f["lat1"].max())))
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _text_label(kind: Kind) -> list[dict[str, Any]]:
    if kind.text is None:
        return []
    return [{"field": {"name": kind.text, "type": "string"}, "color": list(kind.text_color), "size": kind.text_size,
             "offset": [0, -14] if kind.name != "street_names" else [0, 0], "anchor": "middle",
             "alignment": "center" if kind.name == "street_names" else "bottom", "outlineWidth": 2,
             "outlineColor": [20, 24, 28, 255], "background": False, "backgroundColor": [0, 0, 0, 0]}]


def _layer(kind: Kind, frame: Any, label: str) -> dict[str, Any]:
    """One kepler v1 layer for ``kind``; tracks of a dozen plates or fewer get one colour per plate."""
    columns: dict[str, str] = {"point": {"lat": "lat", "lng": "lon"}, "geojson": {"geojson": "geometry"},
                               "line": {"lat0": "lat0", "lng0": "lon0", "lat1": "lat1", "lng1": "lon1"}}[kind.layer]
    vis = {"opacity": 0.9, "thickness": 1.5, "radius": 6, "filled": True, "outline": False, "stroked": True,
           **kind.vis}
    channels: dict[str, Any] = {"colorField": None, "colorScale": "quantile", "sizeField": None,
                                "sizeScale": "linear", "strokeColorField": None, "strokeColorScale": "quantile"}
    if kind.name == "tracks" and frame["plate"].nunique() <= len(_PLATE_COLOURS):  # the legend names each plate
        channels.update(colorField={"name": "plate", "type": "string"}, colorScale="ordinal")
        vis["colorRange"] = {"name": "Plates", "type": "qualitative", "category": "Custom",
                             "colors": list(_PLATE_COLOURS[:frame["plate"].nunique()])}
    return {"id": kind.name, "type": kind.layer, "config": {
        "dataId": kind.name, "label": label, "color": list(kind.color), "columns": columns, "isVisible": True,
        "columnMode": {"point": "points", "geojson": "geojson", "line": "points"}[kind.layer],
        "visConfig": vis, "hidden": False, "textLabel": _text_label(kind)}, "visualChannels": channels}


def map_config(datasets: dict[str, Any], *, basemap: str | None = None,
               labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The saved kepler config: centred view, one named layer per dataset, popups, the legend open, the basemap.

    Dataset names are :data:`KINDS` names; ``labels`` overrides a layer's name (e.g. the canvass radius).
    """
    focus = [datasets[k] for k in ("reads", "incidents", "scenes", "tracks", "places") if k in datasets]
    box = _bounds(focus) or _bounds(list(datasets.values())) or (-121.93, 37.40, -121.86, 37.46)
    lat, lon = float(box[1] + box[3]) / 2, float(box[0] + box[2]) / 2
    kinds = [k for k in KINDS if k.name in datasets]
    layers = [_layer(k, datasets[k.name], (labels or {}).get(k.name, k.label)) for k in kinds]
    tooltips = {k.name: [{"name": f, "format": None} for f in k.popup if f in datasets[k.name].columns]
                for k in kinds}
    return {"version": "v1", "config": {
        "visState": {"layers": layers, "filters": [], "layerBlending": "normal",
                     "interactionConfig": {
                         "tooltip": {"enabled": True, "fieldsToShow": tooltips, "compareMode": False,
                                     "compareType": "absolute"},
                         "brush": {"enabled": False, "size": 0.5}, "geocoder": {"enabled": False},
                         "coordinate": {"enabled": False}}},
        "mapState": {"latitude": lat, "longitude": lon, "zoom": _zoom_for(box[3] - box[1], box[2] - box[0], lat),
                     "bearing": 0, "pitch": 0, "dragRotate": False},
        "mapStyle": basemap_style(basemap),
        "uiState": {"mapControls": {"mapLegend": {"active": True}}}}}


def _texts(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as readable text in their own zone (kepler would show epoch milliseconds or UTC)."""
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime(TIME_FORMAT).str.strip()
    return frame


def reads_map(reads: Any = None, *, incidents: Any = None, radius_m: float = 0.0, cameras: Any = True,
              tracks: Any = None, roads: gpd.GeoDataFrame | None = None, places: Any = None,
              basemap: str | None = None, timezone: str | None = None, height: int = 600) -> OfflineKeplerGl:
    """A kepler.gl map of reads (a canvass result or any reads frame) that names what it shows.

    ``incidents`` (Incident objects, a ``s.incidents()`` frame or polygons) are drawn as points labelled with
    the case and, with ``radius_m``, as canvass circles; ``cameras=True`` derives the fixed cameras from the
    reads (or pass a frame with ``camera_id``, ``lat``, ``lon``); ``tracks=True`` joins each plate's reads in
    time order (or pass a reads frame, or a ``plate_tracks`` GeoDataFrame); ``places`` is a
    ``frequent_locations`` result; ``roads`` (e.g. ``alpr_lib.samples.roads_gdf()``) adds the streets and
    their names. Times show in the frames' own zone (``captured_local``) or ``timezone``.
    """
    datasets: dict[str, Any] = {}
    labels: dict[str, str] = {}
    if roads is not None and len(roads):
        datasets["roads"] = roads[[c for c in roads.columns if c in ("street", "length_m", "geometry")]]
        if "street" in roads.columns:
            datasets["street_names"] = street_labels(roads)
    if incidents is not None:
        areas = incident_areas(incidents, radius_m)
        if len(areas):
            datasets["scenes"] = areas
            labels["scenes"] = f"Canvass area ({radius_m:g} m)" if radius_m > 0 else "Incident area"
        points = incident_points(incidents)
        if len(points):
            datasets["incidents"] = points
    if reads is not None and len(reads):
        datasets["reads"] = read_points(reads, timezone)
        if cameras is True and "camera_id" in datasets["reads"].columns:
            datasets["cameras"] = camera_points(reads)
        if tracks is True:
            tracks = reads
    if cameras is not None and not isinstance(cameras, bool) and len(cameras):
        datasets["cameras"] = _texts(to_pandas(cameras))
    if places is not None and len(places):
        datasets["places"] = _texts(to_pandas(places)).drop(columns=["read_ids"], errors="ignore")
    if tracks is not None and not isinstance(tracks, bool):
        segments = track_segments(tracks, timezone)
        if len(segments):
            datasets["tracks"] = segments
    styles, replace = basemap_styles(basemap)
    widget = OfflineKeplerGl(height=height, data=datasets, config=map_config(datasets, basemap=basemap, labels=labels),
                             map_styles=styles, replace_default_styles=replace, app_name="ALPR map")
    widget.add_class("alpr-map")  # a stable handle for dashboards and browser tests
    return widget
