"""The sample area: Milpitas, CA intersections, a simplified street network and the fixed camera sites.

Kept as small CSV files in ``alpr_lib/data/samples/`` (coordinates typed by hand, accurate to a block or so)
so that the generator, the tests and offline maps all draw the same streets without any network access.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "CENTER",
    "base_cameras",
    "haversine_m",
    "intersections",
    "road_edges",
    "roads_gdf",
]

#: Map centre of the sample area (lat, lon), near City Hall.
CENTER: tuple[float, float] = (37.4286, -121.9066)

_EARTH_RADIUS_M = 6_371_008.8


def _read_csv(name: str) -> pl.DataFrame:
    data = resources.files("alpr_lib").joinpath("data", "samples", name).read_bytes()
    return pl.read_csv(data)


@cache
def intersections() -> pl.DataFrame:
    """Intersections of the sample area: ``intersection_id``, ``name``, ``lat``, ``lon`` (WGS84)."""
    return _read_csv("milpitas_intersections.csv").with_columns(pl.col("lat", "lon").cast(pl.Float64))


def haversine_m(lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray | float,
                lon2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in metres (vectorised), the same formula the search code and tests use."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def _bearing_deg(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    x = np.sin(dl) * np.cos(p2)
    y = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return (np.degrees(np.arctan2(x, y)) + 360.0) % 360.0


@cache
def road_edges() -> pl.DataFrame:
    """Street segments between consecutive intersections along each street.

    Columns: ``street``, ``from_id``, ``to_id``, ``from_lat``, ``from_lon``, ``to_lat``, ``to_lon``,
    ``length_m``, ``bearing_deg`` (from -> to). The generator places patrol reads and extra cameras on these.
    """
    roads = _read_csv("milpitas_roads.csv")
    rows = []
    for street, chain in roads.iter_rows():
        ids = chain.split()
        rows.extend((street, a, b) for a, b in pairwise(ids))
    edges = pl.DataFrame(rows, schema=["street", "from_id", "to_id"], orient="row")
    pts = intersections().select("intersection_id", "lat", "lon")
    edges = (
        edges.join(pts.rename({"intersection_id": "from_id", "lat": "from_lat", "lon": "from_lon"}),
                   on="from_id", how="left", maintain_order="left")
        .join(pts.rename({"intersection_id": "to_id", "lat": "to_lat", "lon": "to_lon"}),
              on="to_id", how="left", maintain_order="left")
    )
    if edges.null_count().sum_horizontal().item():  # a typo in the data file: fail loudly
        raise ValueError("milpitas_roads.csv names an intersection missing from milpitas_intersections.csv")
    a = edges.select("from_lat", "from_lon", "to_lat", "to_lon").to_numpy().T
    return edges.with_columns(
        pl.Series("length_m", haversine_m(a[0], a[1], a[2], a[3])),
        pl.Series("bearing_deg", _bearing_deg(a[0], a[1], a[2], a[3])),
    )


@cache
def base_cameras() -> pl.DataFrame:
    """The 30 fixed camera sites every generated camera set starts with (same ids for every size and seed)."""
    cams = _read_csv("milpitas_cameras.csv")
    return cams.join(intersections(), on="intersection_id", how="left", maintain_order="left")


def roads_gdf() -> gpd.GeoDataFrame:
    """The road network as a GeoDataFrame of LineStrings in EPSG:4326, for drawing maps offline.

    Columns: ``street``, ``from_id``, ``to_id``, ``length_m``, ``geometry``. geopandas is imported here, not at
    module import, so that the generator stays light for the CLI and benchmarks.
    """
    import geopandas as gpd
    from shapely import linestrings

    e = road_edges()
    coords = np.stack(
        [e.select("from_lon", "from_lat").to_numpy(), e.select("to_lon", "to_lat").to_numpy()], axis=1
    )
    return gpd.GeoDataFrame(
        e.select("street", "from_id", "to_id", "length_m").to_pandas(),
        geometry=linestrings(coords),
        crs="EPSG:4326",
    )
