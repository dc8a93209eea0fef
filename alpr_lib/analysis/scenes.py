"""What to canvass: a scene is a place (point or polygon) and a time window, usually from an incident.

:func:`resolve_scenes` turns what an analyst passes (an incident or its id, a ``(lat, lon)`` pair, a shapely
geometry, WKT, or a list of those) into :class:`Scene` objects, so the scan code sees one shape of input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from alpr_lib.analysis.geo import check_lat_lon
from alpr_lib.analysis.incidents import Incident, location_geometry
from alpr_lib.errors import ValidationError
from alpr_lib.timeutil import TimeLike, iso, parse_instant

__all__ = ["MAX_RADIUS_M", "MAX_WINDOW_MIN", "Scene", "check_extent", "resolve_scenes"]

#: Hard ceilings no approval can lift: they keep a canvass a canvass (a city, a day), not a dragnet.
MAX_RADIUS_M = 20_000.0
MAX_WINDOW_MIN = 7 * 24 * 60.0


@dataclass(frozen=True)
class Scene:
    """One place and time to canvass; ``start``/``end`` are the occurred window (UTC, before padding)."""

    label: str
    geometry: BaseGeometry
    start: datetime
    end: datetime
    incident_id: str | None = None
    case_number: str | None = None
    offense_type: str | None = None

    def window(self, before_min: float, after_min: float) -> tuple[datetime, datetime]:
        """The canvass window in UTC, inclusive at both ends. UTC arithmetic is what makes DST harmless."""
        return self.start - timedelta(minutes=before_min), self.end + timedelta(minutes=after_min)

    def describe(self, before_min: float, after_min: float) -> dict[str, Any]:
        """The scene as audit query elements (geography and window)."""
        lo, hi = self.window(before_min, after_min)
        geo: dict[str, Any]
        if self.geometry.geom_type == "Point":
            geo = {"type": "point", "lat": round(self.geometry.y, 6), "lon": round(self.geometry.x, 6)}
        else:
            geo = {"type": "polygon", "wkt": shapely.to_wkt(self.geometry, rounding_precision=6)}
        return {"label": self.label, "incident_id": self.incident_id, "incident_case_number": self.case_number,
                "geometry": geo, "occurred_start_utc": iso(self.start), "occurred_end_utc": iso(self.end),
                "window_start_utc": iso(lo), "window_end_utc": iso(hi)}


def check_extent(radius_m: float, before_min: float, after_min: float) -> tuple[float, float, float]:
    """Validate the numbers of a canvass request (units in the names: metres and minutes)."""
    out = []
    for name, value in (("radius_m", radius_m), ("before_min", before_min), ("after_min", after_min)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{name} must be a number, got {value!r}") from None
        if not number >= 0 or number == float("inf"):
            raise ValidationError(f"{name} must be zero or more, got {value!r}")
        out.append(number)
    if out[0] > MAX_RADIUS_M:
        raise ValidationError(f"radius_m={out[0]:g} is larger than {MAX_RADIUS_M:g} m; canvass a smaller area "
                              "or several incidents")
    if out[1] + out[2] > MAX_WINDOW_MIN:
        raise ValidationError(f"a window of {out[1] + out[2]:g} min is longer than {MAX_WINDOW_MIN:g} min (7 days)")
    return out[0], out[1], out[2]


def _time_bounds(at: Any, zone: Any) -> tuple[datetime, datetime]:
    if at is None:
        raise ValidationError("a bare point or polygon needs a time: at='2026-05-16 22:40' or "
                              "at=('2026-05-16 22:40', '2026-05-16 22:45')")
    if isinstance(at, tuple | list):
        if len(at) != 2:
            raise ValidationError("at=(start, end) takes exactly two times")
        lo, hi = parse_instant(at[0], zone), parse_instant(at[1], zone)
    else:
        lo = hi = parse_instant(at, zone)
    assert lo is not None and hi is not None
    if hi < lo:
        raise ValidationError(f"the end of at={at!r} is before its start")
    return lo, hi


def _geometry(item: Any) -> BaseGeometry | None:
    if isinstance(item, BaseGeometry):
        if item.geom_type == "Point":
            check_lat_lon(item.y, item.x)
            return item
        return location_geometry(None, None, item.wkt)
    if isinstance(item, str) and item.strip().upper().startswith(("POLYGON", "MULTIPOLYGON", "POINT")):
        try:
            geom = shapely.from_wkt(item)
        except shapely.errors.ShapelyError:
            raise ValidationError(f"cannot read the place {item[:60]!r}: give WKT in lon/lat order, e.g. "
                                  "'POLYGON((-121.91 37.43, -121.90 37.43, -121.90 37.44, -121.91 37.43))'") from None
        return _geometry(geom)
    if isinstance(item, tuple | list) and len(item) == 2 and all(isinstance(v, int | float) for v in item):
        lat, lon = check_lat_lon(item[0], item[1])
        return Point(lon, lat)
    if isinstance(item, dict) and "lat" in item and "lon" in item:
        lat, lon = check_lat_lon(item["lat"], item["lon"])
        return Point(lon, lat)
    return None


def resolve_scenes(target: Any, *, at: TimeLike | tuple[TimeLike, TimeLike], zone: Any,
                   lookup: Callable[[str], Incident]) -> list[Scene]:
    """Scenes from an incident, an incident id, a place (with ``at``), or a list of them."""
    items: Sequence[Any]
    if isinstance(target, list) or (isinstance(target, tuple) and target
                                    and not all(isinstance(v, int | float) for v in target)):
        items = list(target)
        if not items:
            raise ValidationError("give at least one incident or place to canvass")
    else:
        items = [target]
    scenes = []
    for n, item in enumerate(items, start=1):
        if isinstance(item, dict) and item.get("incident_id"):  # a row of s.incidents()
            item = item["incident_id"]
        if isinstance(item, str) and item.startswith("INC-"):
            item = lookup(item)
        if isinstance(item, Incident):
            scenes.append(Scene(item.location_name or item.case_number, item.geometry, item.occurred_start,
                                item.occurred_end, item.incident_id, item.case_number, item.offense_type))
            continue
        geom = _geometry(item)
        if geom is None:
            raise ValidationError(
                f"cannot canvass {item!r}: give an incident (or its id 'INC-...'), a (lat, lon) pair, a shapely "
                "Point/Polygon in lon/lat order, or POLYGON WKT")
        lo, hi = _time_bounds(at, zone)
        scenes.append(Scene(f"place {n}", geom, lo, hi))
    return scenes
