"""Incident records: what happened, where and when, for one case (the anchor of every canvass).

An incident has a case number, an offense type (which sets its canvass limits), an occurred-at time or
window, and a location: a point (lat, lon) or a polygon given as WKT in lon/lat order. Stored in the
records database table ``incidents``; created and listed only through the Session, which audits both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from alpr_lib.analysis.geo import check_lat_lon
from alpr_lib.analysis.limits import normalise_offense
from alpr_lib.errors import NotFound, ValidationError
from alpr_lib.records import Backend
from alpr_lib.records import incidents as incident_rows
from alpr_lib.timeutil import TimeLike, iso, parse_instant, parse_iso

__all__ = ["INCIDENT_COLUMNS", "Incident", "find_incidents", "get_incident", "insert_incident", "make_incident"]

INCIDENT_COLUMNS = incident_rows.COLUMNS

_MAX_DURATION_H = 72


@dataclass(frozen=True)
class Incident:
    """One incident. ``geometry`` is a shapely Point or Polygon in lon/lat (EPSG:4326)."""

    incident_id: str
    case_number: str
    offense_type: str
    occurred_start: datetime
    occurred_end: datetime
    geometry: BaseGeometry
    location_name: str | None = None
    summary: str = ""
    created_at: datetime | None = None
    created_by: str | None = None

    @property
    def lat(self) -> float:
        return self.geometry.centroid.y

    @property
    def lon(self) -> float:
        return self.geometry.centroid.x

    def as_row(self) -> dict[str, Any]:
        is_point = self.geometry.geom_type == "Point"
        return {"incident_id": self.incident_id, "case_number": self.case_number,
                "offense_type": self.offense_type, "occurred_start": self.occurred_start,
                "occurred_end": self.occurred_end, "lat": self.lat, "lon": self.lon,
                "polygon_wkt": None if is_point else self.geometry.wkt, "location_name": self.location_name,
                "summary": self.summary, "created_at": self.created_at, "created_by": self.created_by}


def _polygon(wkt: str) -> BaseGeometry:
    try:
        geom = shapely.from_wkt(wkt)
    except Exception:
        raise ValidationError(f"cannot read the polygon {wkt[:60]!r}...; give WKT in lon/lat order, e.g. "
                              "'POLYGON((-121.91 37.43, -121.90 37.43, -121.90 37.44, -121.91 37.43))'") from None
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty or not geom.is_valid:
        raise ValidationError(f"the location must be a valid, non-empty polygon, not {geom.geom_type}; "
                              "close the ring and avoid self-intersections")
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    check_lat_lon(min_lat, min_lon)
    check_lat_lon(max_lat, max_lon)
    return geom


def location_geometry(lat: float | None, lon: float | None, polygon_wkt: str | None) -> BaseGeometry:
    """A point from (lat, lon) or a polygon from WKT; exactly one must be given."""
    if polygon_wkt:
        if lat is not None or lon is not None:
            raise ValidationError("give either lat/lon (a point) or polygon_wkt (an area), not both")
        return _polygon(polygon_wkt)
    if lat is None or lon is None:
        raise ValidationError("an incident needs a location: lat=..., lon=... or polygon_wkt='POLYGON((...))'")
    lat, lon = check_lat_lon(lat, lon)
    return Point(lon, lat)


def make_incident(*, case_number: str, offense_type: str, occurred_at: TimeLike, occurred_end: TimeLike,
                  lat: float | None, lon: float | None, polygon_wkt: str | None, location_name: str | None,
                  summary: str, zone: Any, created_by: str, now: datetime) -> Incident:
    """Validate the inputs and build a new Incident (not yet stored)."""
    if occurred_at is None:
        raise ValidationError("give occurred_at: when the incident happened (or began), e.g. '2026-05-16 22:40'")
    start = parse_instant(occurred_at, zone)
    end = parse_instant(occurred_end, zone) if occurred_end is not None else start
    assert start is not None and end is not None
    if end < start:
        raise ValidationError(f"occurred_end ({occurred_end}) is before occurred_at ({occurred_at})")
    if (end - start).total_seconds() > _MAX_DURATION_H * 3600:
        raise ValidationError(f"an incident window longer than {_MAX_DURATION_H} h is not an incident; "
                              "record separate incidents or narrow the window")
    if start > now:
        raise ValidationError(f"occurred_at ({occurred_at}) is in the future")
    return Incident(
        incident_id=f"INC-{uuid.uuid4().hex[:12]}", case_number=case_number,
        offense_type=normalise_offense(offense_type), occurred_start=start, occurred_end=end,
        geometry=location_geometry(lat, lon, polygon_wkt), location_name=location_name,
        summary=str(summary or ""), created_at=now, created_by=created_by)


def insert_incident(db: Backend, incident: Incident) -> None:
    row = incident.as_row()
    for key in ("occurred_start", "occurred_end", "created_at"):
        row[key] = iso(row[key])
    incident_rows.insert(db, row)


def _from_row(row: dict[str, Any]) -> Incident:
    geom = shapely.from_wkt(row["polygon_wkt"]) if row["polygon_wkt"] else Point(row["lon"], row["lat"])
    return Incident(row["incident_id"], row["case_number"], row["offense_type"], parse_iso(row["occurred_start"]),
                    parse_iso(row["occurred_end"]), geom, row["location_name"], row["summary"] or "",
                    parse_iso(row["created_at"]), row["created_by"])


def get_incident(db: Backend, incident_id: str) -> Incident:
    row = incident_rows.get(db, str(incident_id))
    if row is None:
        raise NotFound(f"no incident {incident_id!r}; list them with s.incidents() or record one with "
                       "s.create_incident(...)")
    return _from_row(row)


def find_incidents(db: Backend, *, case_number: str | None = None,
                   offense_type: str | None = None) -> list[Incident]:
    return [_from_row(r) for r in incident_rows.find(
        db, case_number=case_number, offense_type=normalise_offense(offense_type) if offense_type else None)]


def incidents_frame(items: list[Incident], zone_name: str) -> pl.DataFrame:
    """Incidents as a polars frame (times UTC, plus local start for display)."""
    schema = {"incident_id": pl.String, "case_number": pl.String, "offense_type": pl.String,
              "occurred_start": pl.Datetime("us", "UTC"), "occurred_end": pl.Datetime("us", "UTC"),
              "lat": pl.Float64, "lon": pl.Float64, "polygon_wkt": pl.String, "location_name": pl.String,
              "summary": pl.String, "created_at": pl.Datetime("us", "UTC"), "created_by": pl.String}
    frame = pl.DataFrame([i.as_row() for i in items], schema=schema, orient="row")
    return frame.with_columns(pl.col("occurred_start").dt.convert_time_zone(zone_name).alias("occurred_local"))
