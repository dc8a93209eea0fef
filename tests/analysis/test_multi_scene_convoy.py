"""Multi-scene, convoy and frequent locations against brute-force references and the planted answers."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.samples.milpitas import haversine_m as reference_haversine
from alpr_lib.search.patterns import confusion_key
from alpr_lib.store.store import Store
from tests.analysis.conftest import HOTSPOTS, PURPOSE, incident_args


def _scene_plates(reads: pl.DataFrame, lat: float, lon: float, start, end, radius_m, before_min, after_min):
    lo, hi = start - timedelta(minutes=before_min), end + timedelta(minutes=after_min)
    w = reads.filter(pl.col("captured_at").is_between(lo, hi))
    d = reference_haversine(lat, lon, w["lat"].to_numpy(), w["lon"].to_numpy())
    return set(w.filter(pl.Series(d <= radius_m))["plate"].to_list())


@pytest.fixture
def hotspot_incidents(analyst):
    out = []
    for k, (lat, lon, when) in enumerate(HOTSPOTS):
        out.append(analyst.create_incident(f"26-90000{k}", "burglary", when, occurred_end=when + timedelta(minutes=5),
                                           lat=lat, lon=lon, location_name=f"hotspot {k}", exist_ok=True))
    return out


@pytest.mark.parametrize("min_scenes", [2, 3])
def test_multi_scene_matches_brute_force(analyst, all_reads, hotspot_incidents, min_scenes):
    got = analyst.multi_scene(hotspot_incidents, 800, 90, 120, purpose=PURPOSE, case_number="26-900000",
                              min_scenes=min_scenes)
    counts: dict[str, int] = defaultdict(int)
    for i in hotspot_incidents:
        for plate in _scene_plates(all_reads, i.lat, i.lon, i.occurred_start, i.occurred_end, 800, 90, 120):
            counts[plate] += 1
    expected = {p: n for p, n in counts.items() if n >= min_scenes}
    assert len(expected) > 5
    assert dict(zip(got["vehicle"], got["scenes"], strict=True)) == expected
    assert got["scenes"].is_sorted(descending=True) and got["rank"].to_list() == list(range(1, len(got) + 1))
    for _, group in got.group_by("scenes"):
        assert group.sort("rank")["mean_distance_m"].is_sorted()


def test_multi_scene_finds_the_planted_vehicle_with_confusions(demo, analyst, key):
    ms = key["multi_scene"]
    incidents = [analyst.create_incident(**incident_args(key, c)) for c in ms["case_numbers"]]
    plain = analyst.multi_scene(incidents, ms["radius_m"], ms["before_min"], ms["after_min"], purpose=PURPOSE,
                                case_number=ms["case_numbers"][0])
    top = plain.row(0, named=True)
    assert top["vehicle"] == ms["suspect_plate"] and top["scenes"] == 3
    assert set(ms["two_scene_plates"]) <= set(plain.filter(pl.col("scenes") == 2)["vehicle"])
    assert not set(ms["one_scene_plates"]) & set(plain["vehicle"])
    grouped = analyst.multi_scene(incidents, ms["radius_m"], ms["before_min"], ms["after_min"], purpose=PURPOSE,
                                  case_number=ms["case_numbers"][0], group_confusions=True)
    assert set(grouped.row(0, named=True)["plates"]) == {ms["suspect_plate"], *ms["confusable_reads"]}
    row = Store.open(demo.path).audit.rows(AuditFilter(action='reads.multi_scene'))[-1]
    query = json.loads(row["query"])
    assert [s["incident_id"] for s in query["scenes"]] == [i.incident_id for i in incidents]
    assert all({"window_start_utc", "window_end_utc", "geometry"} <= set(s) for s in query["scenes"])
    with pytest.raises(alpr.ValidationError, match="at least two"):
        analyst.multi_scene(incidents[:1], 300, 30, 30, purpose=PURPOSE, case_number=ms["case_numbers"][0])
    with pytest.raises(alpr.ValidationError, match="min_scenes"):
        analyst.multi_scene(incidents, 300, 30, 30, purpose=PURPOSE, case_number=ms["case_numbers"][0],
                            min_scenes=4)


def test_confusion_key_groups_misreads_only():
    assert confusion_key("6TRW982") == confusion_key("GTRW982")
    assert confusion_key("8ABC123") == confusion_key("BABC123")
    assert confusion_key("6TRW982") != confusion_key("6TRW983")


def _convoy_reference(reads: pl.DataFrame, plate: str, gap_s: float) -> dict[str, int]:
    target = reads.filter(pl.col("plate") == plate)
    others = reads.filter(pl.col("plate") != plate)
    found: dict[str, set[str]] = defaultdict(set)
    for t in target.iter_rows(named=True):
        near = others.filter((pl.col("camera_id") == t["camera_id"]) &
                             ((pl.col("captured_at") - t["captured_at"]).abs() <= timedelta(seconds=gap_s)))
        for p in near["plate"].to_list():
            if confusion_key(p) != confusion_key(plate):
                found[p].add(t["read_id"])
    return {p: len(ids) for p, ids in found.items()}


@pytest.mark.parametrize("plate,gap_s", [("9FJR553", 60), ("9FJR553", 900), ("Z00007X", 600), ("Z00123X", 1800)])
def test_convoy_matches_brute_force(analyst, all_reads, plate, gap_s):
    got = analyst.convoy(plate, purpose=PURPOSE, case_number="26-007731", offense_type="robbery", gap_s=gap_s,
                         min_co_occurrences=1)
    expected = _convoy_reference(all_reads, plate, gap_s)
    assert expected
    assert dict(zip(got["plate"], got["co_occurrences"], strict=True)) == expected
    assert got["score"].is_sorted(descending=True)
    ev = got.row(0, named=True)["evidence"]
    assert all(abs(e["gap_s"]) <= gap_s for e in ev)


def test_convoy_and_frequent_locations_find_the_planted_answers(analyst, key):
    cv, fl = key["convoy"], key["frequent_locations"]
    got = analyst.convoy(cv["plate"], purpose=PURPOSE, case_number=cv["case_number"], offense_type=cv["offense_type"],
                         gap_s=cv["gap_s"], min_co_occurrences=2)
    top = got.row(0, named=True)
    assert top["plate"] == cv["associate_plate"] and top["days"] == cv["associate_days"]
    assert dict(zip(got["plate"], got["days"], strict=True)).get("2LPM661") == 2
    assert not set(cv["chance_plates"]) & set(got["plate"])
    places = analyst.frequent_locations(fl["plate"], purpose=PURPOSE, case_number=fl["case_number"],
                                        offense_type=fl["offense_type"])
    history = analyst.plate_history(fl["plate"], purpose=PURPOSE, case_number=fl["case_number"])
    assert places["reads"].sum() <= len(history)
    for where, band in ((fl["home"], "overnight"), (fl["work"], "weekday daytime")):
        d = reference_haversine(where["lat"], where["lon"], places["lat"].to_numpy(), places["lon"].to_numpy())
        row = places.row(int(np.argmin(d)), named=True)
        assert d.min() < 300 and row["usual_time"] == band and row["reads"] >= 0.9 * where["reads"]
        assert row[band] >= 0.8 * row["reads"]


@pytest.mark.parametrize("method", ["convoy", "frequent_locations"])
def test_sensitive_analysis_needs_case_and_serious_offense_and_is_marked_for_review(demo, analyst, method):
    call = getattr(analyst, method)
    with pytest.raises(alpr.AccessDenied, match="serious offenses"):
        call("9FJR553", purpose=PURPOSE, case_number="26-007731", offense_type="burglary")
    with pytest.raises(alpr.AccessDenied, match="serious offenses"):
        call("9FJR553", purpose=PURPOSE, case_number="26-007731", offense_type=None)
    with pytest.raises(alpr.AccessDenied, match="tied to a case"):
        call("9FJR553", purpose="stolen or wanted vehicles", case_number=None, offense_type="robbery")
    call("9FJR553", purpose=PURPOSE, case_number="26-007731", offense_type="Robbery")
    action = {"convoy": "reads.convoy", "frequent_locations": "reads.frequent_locations"}[method]
    rows = Store.open(demo.path).audit.rows(AuditFilter(action=action))[-4:]
    assert [r["outcome"] for r in rows] == ["denied", "denied", "denied", "allowed"]
    for r in rows:
        assert json.loads(r["query"])["review"] is True
    assert json.loads(rows[-1]["query"])["offense_type"] == "robbery" and rows[-1]["case_number"] == "26-007731"
