"""Distances in metres: haversine for points, a local equidistant projection for polygons.

One formula for the whole library (the same as the sample generator and the tests), and conservative
lat/lon bounding boxes so that the store scan can drop almost every read before any trigonometry.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from alpr_lib.errors import ValidationError

__all__ = ["EARTH_RADIUS_M", "bbox_around", "check_lat_lon", "distance_to_geometry_m", "haversine_m"]

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0


def check_lat_lon(lat: float, lon: float) -> tuple[float, float]:
    """Validate one WGS84 coordinate; the message says which order we expect."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise ValidationError(f"coordinates must be numbers (lat, lon), got ({lat!r}, {lon!r})") from None
    if not (math.isfinite(lat) and math.isfinite(lon)) or not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise ValidationError(f"({lat}, {lon}) is not a WGS84 coordinate; give (lat, lon) in degrees, "
                              "lat within -90..90 and lon within -180..180")
    return lat, lon


def haversine_m(lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray | float,
                lon2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in metres (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bbox_around(geometry: BaseGeometry, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) that surely holds every point within ``radius_m`` of it.

    Padded by 1 % plus 1 m so that rounding never drops a read the exact test would keep.
    """
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    pad = radius_m * 1.01 + 1.0
    dlat = pad / _M_PER_DEG_LAT
    widest = max(abs(min_lat - dlat), abs(max_lat + dlat))
    dlon = 180.0 if widest >= 89.0 else pad / (_M_PER_DEG_LAT * math.cos(math.radians(widest)))
    return min_lat - dlat, max_lat + dlat, min_lon - dlon, max_lon + dlon


@cache
def _local_transformer(lon: float, lat: float):
    """Azimuthal equidistant projection on the haversine sphere, centred on the geometry: at city scale its
    distances agree with :func:`haversine_m` to well under a metre."""
    from pyproj import Transformer

    crs = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +R={EARTH_RADIUS_M} +units=m +no_defs"
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def distance_to_geometry_m(geometry: BaseGeometry, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Metres from each (lat, lon) to a geometry: haversine for a point, a local equidistant projection for
    anything else (0 inside a polygon)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if geometry.geom_type == "Point":
        return haversine_m(geometry.y, geometry.x, lat, lon)
    centre = geometry.centroid
    tr = _local_transformer(round(centre.x, 4), round(centre.y, 4))
    projected = shapely.transform(geometry, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    x, y = tr.transform(lon, lat)
    return shapely.distance(projected, shapely.points(np.asarray(x), np.asarray(y)))
