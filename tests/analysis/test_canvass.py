"""Canvass against a brute-force reference (haversine over every read), across UTC days and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
import shapely
from shapely.geometry import Point, Polygon

import alpr_lib as alpr
from alpr_lib.samples.milpitas import haversine_m as reference_haversine
from tests.analysis.conftest import PURPOSE, incident_args

CASES = ["26-004512", "26-001871", "26-002204", "26-002655", "26-003307", "26-001950", "26-009815"]


def reference(reads: pl.DataFrame, lat: float, lon: float, start: datetime, end: datetime, radius_m: float,
              before_min: float, after_min: float) -> pl.DataFrame:
    """Every read within the radius and window, computed the slow, obvious way."""
    lo, hi = start - timedelta(minutes=before_min), end + timedelta(minutes=after_min)
    inside = reads.filter((pl.col("captured_at") >= lo) & (pl.col("captured_at") <= hi))
    d = reference_haversine(lat, lon, inside["lat"].to_numpy(), inside["lon"].to_numpy())
    return inside.with_columns(pl.Series("ref_m", d)).filter(pl.col("ref_m") <= radius_m)


def _ids(frame) -> set[str]:
    return set(frame["read_id"].to_list())


@pytest.mark.parametrize("radius_m,before_min,after_min", [(500, 60, 60), (150, 10, 25), (0.5, 30, 30)])
@pytest.mark.parametrize("case", CASES)
def test_canvass_of_each_incident_matches_brute_force(analyst, all_reads, key, case, radius_m, before_min, after_min):
    incident = analyst.create_incident(**incident_args(key, case))
    got = analyst.canvass(incident, radius_m, before_min, after_min, purpose=PURPOSE, case_number=case)
    ref = reference(all_reads, incident.lat, incident.lon, incident.occurred_start, incident.occurred_end,
                    radius_m, before_min, after_min)
    assert _ids(got) == _ids(ref)
    if len(got):
        joined = pl.from_pandas(got[["read_id", "distance_m", "offset_min"]]).join(ref, on="read_id")
        assert np.allclose(joined["distance_m"], joined["ref_m"], atol=0.01)
        t = joined["captured_at"]
        expect = [((x - incident.occurred_start) if x < incident.occurred_start else
                   (x - incident.occurred_end) if x > incident.occurred_end else timedelta(0)).total_seconds() / 60
                  for x in t]
        assert np.allclose(joined["offset_min"], expect, atol=0.01)
        assert got.crs.to_epsg() == 4326
        assert np.allclose(got.geometry.x, got["lon"]) and np.allclose(got.geometry.y, got["lat"])


def test_window_across_midnight_utc_reads_both_partitions(analyst, key):
    edge = key["edge_cases"]["utc_midnight"]
    incident = analyst.create_incident(**incident_args(key, edge["case_number"]))
    got = analyst.canvass(incident, edge["radius_m"], edge["before_min"], edge["after_min"], purpose=PURPOSE,
                          case_number=edge["case_number"])
    assert set(edge["plates_in_window"]) <= set(got["plate"])
    assert {t.date().isoformat() for t in got["captured_at"]} >= {"2026-04-14", "2026-04-15"}


@pytest.mark.parametrize("name", ["dst_spring", "dst_fall"])
def test_windows_across_daylight_saving_changes(analyst, key, name):
    edge = key["edge_cases"][name]
    incident = analyst.create_incident(**incident_args(key, edge["case_number"]))
    got = analyst.canvass(incident, edge["radius_m"], edge["before_min"], edge["after_min"], purpose=PURPOSE,
                          case_number=edge["case_number"])
    assert set(edge["plates_in_window"]) <= set(got["plate"])
    assert not set(edge["plates_outside_window"]) & set(got["plate"])


@pytest.mark.parametrize("local_at,before_min,after_min", [
    ("2026-03-08 01:30", 60, 120),   # spring forward: 02:00-03:00 local does not exist
    ("2026-11-01 01:30", 90, 90),    # fall back: 01:00-02:00 local happens twice (fold=0 is PDT)
    ("2026-04-14 16:55", 20, 30),    # 23:55 UTC: the window spans two partitions
])
def test_bare_point_windows_in_local_time(analyst, all_reads, local_at, before_min, after_min):
    lat, lon = 37.4276, -121.8935
    if local_at.startswith("2026-11"):
        lat, lon = 37.4158, -121.9045
    if local_at.startswith("2026-04"):
        lat, lon = 37.4088, -121.8925
    got = analyst.canvass((lat, lon), 1200, before_min, after_min, purpose=PURPOSE, case_number="26-000001",
                          offense_type="homicide", at=local_at)
    from zoneinfo import ZoneInfo

    at = datetime.fromisoformat(local_at).replace(tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)
    ref = reference(all_reads, lat, lon, at, at, 1200, before_min, after_min)
    assert len(ref) > 20  # the dense test traffic makes this a real comparison
    assert _ids(got) == _ids(ref)


def _boundary_reference(reads: pl.DataFrame, poly: Polygon, radius_m: float) -> tuple[set[str], set[str]]:
    """(ids surely kept, ids too close to the threshold to judge) using a densified boundary and haversine."""
    ring = np.asarray(shapely.segmentize(poly.exterior, 0.00001).coords)  # ~1 m steps
    lat, lon = reads["lat"].to_numpy(), reads["lon"].to_numpy()
    inside = shapely.contains_xy(poly, lon, lat)
    edge = np.array([reference_haversine(y, x, ring[:, 1], ring[:, 0]).min() for y, x in zip(lat, lon, strict=True)])
    signed = np.where(inside, -edge, edge)  # negative inside the polygon
    ids = np.array(reads["read_id"].to_list())
    return set(ids[signed <= radius_m - 2]), set(ids[np.abs(signed - radius_m) < 2])


@pytest.mark.parametrize("radius_m", [0, 200])
def test_polygon_canvass_with_buffer(analyst, all_reads, radius_m):
    poly = Polygon([(-121.897, 37.406), (-121.889, 37.405), (-121.888, 37.412), (-121.895, 37.413)])
    at = ("2026-04-14 16:00", "2026-04-14 17:30")
    got = analyst.canvass(poly, radius_m, 15, 15, purpose=PURPOSE, case_number="26-000002",
                          offense_type="burglary", at=at)
    lo = datetime(2026, 4, 14, 23, 0, tzinfo=UTC) - timedelta(minutes=15)
    hi = datetime(2026, 4, 15, 0, 30, tzinfo=UTC) + timedelta(minutes=15)
    window = all_reads.filter(pl.col("captured_at").is_between(lo, hi))
    sure, unsure = _boundary_reference(window, poly, radius_m)
    assert len(sure) > 10
    assert sure <= _ids(got) <= sure | unsure
    inside = got[got["distance_m"] == 0]
    assert shapely.contains_xy(poly, inside["lon"], inside["lat"]).all()


def test_several_incidents_give_one_row_per_read_and_scene(analyst, key):
    cases = key["multi_scene"]["case_numbers"]
    incidents = [analyst.create_incident(**incident_args(key, c)) for c in cases]
    got = analyst.canvass(incidents, 300, 30, 30, purpose=PURPOSE, case_number=cases[0])
    assert list(dict.fromkeys(got["incident_id"])) == [i.incident_id for i in incidents]
    singles = [analyst.canvass(i, 300, 30, 30, purpose=PURPOSE, case_number=cases[0]) for i in incidents]
    assert sorted(got["read_id"]) == sorted(r for s in singles for r in s["read_id"])


@pytest.mark.parametrize("target,kwargs,message", [
    ((91.0, -121.9), {"offense_type": "burglary", "at": "2026-04-01 10:00"}, "not a WGS84 coordinate"),
    ((37.43, -121.9), {"offense_type": "burglary"}, "needs a time"),
    ((37.43, -121.9), {"at": "2026-04-01 10:00"}, "needs offense_type"),
    ("INC-doesnotexist", {}, "no incident"),
    ("somewhere", {"offense_type": "burglary", "at": "2026-04-01 10:00"}, "cannot canvass"),
])
def test_bad_requests_are_refused_with_the_fix(analyst, target, kwargs, message):
    with pytest.raises(alpr.AlprError, match=message):
        analyst.canvass(target, 100, 10, 10, purpose=PURPOSE, case_number="26-000003", **kwargs)


@pytest.mark.parametrize("radius_m,before_min", [(-1, 10), (float("nan"), 10), (100, -5), (50_000, 10)])
def test_bad_extent_is_a_validation_error(analyst, radius_m, before_min):
    with pytest.raises(alpr.ValidationError):
        analyst.canvass((37.43, -121.9), radius_m, before_min, 10, purpose=PURPOSE, case_number="26-000003",
                        offense_type="homicide", at="2026-04-01 10:00")


def test_canvass_needs_a_case_and_permission(demo, analyst):
    with pytest.raises(alpr.AccessDenied, match="tied to a case"):
        analyst.canvass((37.43, -121.9), 100, 10, 10, purpose="stolen or wanted vehicles", case_number=None,
                        offense_type="burglary", at="2026-04-01 10:00")
    auditor = demo.login("auditor")
    with pytest.raises(alpr.AccessDenied, match="may not canvass"):
        auditor.canvass((37.43, -121.9), 100, 10, 10, purpose=PURPOSE, case_number="26-000003",
                         offense_type="burglary", at="2026-04-01 10:00")
    trainee = demo.login("trainee")
    with pytest.raises(alpr.AccessDenied, match="training"):
        trainee.canvass((37.43, -121.9), 100, 10, 10, purpose=PURPOSE, case_number="26-000003",
                        offense_type="burglary", at="2026-04-01 10:00")


def test_point_given_as_shapely_point_is_lon_lat(analyst):
    a = analyst.canvass(Point(-121.9150, 37.4320), 300, 30, 30, purpose=PURPOSE, case_number="26-004512",
                        offense_type="shooting", at=("2026-05-16 22:40", "2026-05-16 22:45"))
    b = analyst.canvass((37.4320, -121.9150), 300, 30, 30, purpose=PURPOSE, case_number="26-004512",
                        offense_type="shooting", at=("2026-05-16 22:40", "2026-05-16 22:45"))
    assert sorted(a["read_id"]) == sorted(b["read_id"]) and "8MKT417" in set(a["plate"])


def test_incident_rows_and_ids_are_accepted(analyst, key):
    incident = analyst.create_incident(**incident_args(key, "26-004512"))
    row = analyst.incidents(case_number="26-004512").row(0, named=True)
    by_row = analyst.canvass(row, 300, 30, 30, purpose=PURPOSE, case_number="26-004512")
    by_id = analyst.canvass(incident.incident_id, 300, 30, 30, purpose=PURPOSE, case_number="26-004512")
    assert sorted(by_row["read_id"]) == sorted(by_id["read_id"]) and len(by_id) >= 5
