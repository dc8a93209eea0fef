"""Each planted scenario's claims, checked by brute force over every generated read (background included)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from alpr_lib.samples import SampleData, iter_reads, planted_scenarios
from alpr_lib.samples.milpitas import haversine_m
from alpr_lib.samples.population import _search_groups

TZ = "America/Los_Angeles"


def _pattern_regex(pattern: str, confusable: bool) -> re.Pattern[str]:
    """Reference translation of a partial plate (``?`` one char, ``*`` any run) into a regex.

    Confusions use the search's documented table (``alpr_lib/data/ocr_confusions.toml``), which is wider
    than the generator's misread groups.
    """
    groups = _search_groups()
    out = []
    for ch in pattern:
        if ch == "?":
            out.append(".")
        elif ch == "*":
            out.append(".*")
        else:
            group = {ch} | ({o for g in groups if ch in g for o in g} if confusable else set())
            out.append(f"[{''.join(sorted(group))}]")
    return re.compile("^" + "".join(out) + "$")


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _near(reads: pl.DataFrame, lat: float, lon: float, radius_m: float, t0: datetime, t1: datetime) -> pl.DataFrame:
    d = haversine_m(reads["lat"].to_numpy(), reads["lon"].to_numpy(), lat, lon)
    at = reads["captured_at"]
    mask = (d <= radius_m) & (at >= t0).to_numpy() & (at <= t1).to_numpy()
    return reads.filter(mask).with_columns(distance_m=pl.Series(d[mask]))


def _incident(key: dict, case: str) -> dict:
    return next(i for i in key["incidents"] if i["case_number"] == case)


def _window(inc: dict, before_min: int, after_min: int) -> tuple[datetime, datetime]:
    return (_iso(inc["occurred_start"]) - timedelta(minutes=before_min),
            _iso(inc["occurred_end"]) + timedelta(minutes=after_min))


def test_answer_key_is_json_and_lists_planted_reads(sample: SampleData) -> None:
    key = planted_scenarios()
    assert json.loads(json.dumps(key)) == key
    ids = {i for ids in key["read_ids_by_tag"].values() for i in ids}
    present = set(sample.reads.filter(pl.col("read_id").is_in(list(ids)))["read_id"])
    assert present == ids
    assert set(sample.incidents["case_number"]) >= {i["case_number"] for i in key["incidents"]}


def test_planted_reads_identical_for_every_size() -> None:
    def planted(n: int) -> pl.DataFrame:
        frames = list(iter_reads(n_reads=n, chunk_rows=max(1, n // 3)))
        return pl.concat(frames).filter(pl.col("read_id").str.contains("-P")).sort("read_id")

    small, larger = planted(0), planted(30_000)
    assert small.height > 100
    assert small.equals(larger)


def test_partial_plate(sample: SampleData) -> None:
    key = planted_scenarios()["partial_plate"]
    june = sample.reads.filter(
        pl.col("captured_at").dt.convert_time_zone(TZ).dt.date().is_between(
            datetime(2026, 6, 1).date(), datetime(2026, 6, 30).date()
        )
    )
    plates = june["plate"].unique().to_list()
    exact = {p for p in plates if _pattern_regex(key["pattern"], False).match(p)}
    loose = {p for p in plates if _pattern_regex(key["pattern"], True).match(p)}
    assert exact == set(key["exact_plates_in_window"])
    assert loose == set(key["exact_plates_in_window"]) | set(key["confusable_plates_in_window"])
    assert june.filter(pl.col("plate") == key["suspect_plate"]).height >= 5
    for p in key["non_matching_plates"]:
        assert p in plates
    everywhere = {p for p in sample.reads["plate"].unique() if _pattern_regex(key["pattern"], False).match(p)}
    assert everywhere == set(key["exact_plates_in_window"]) | set(key["exact_plates_outside_window"])


def test_canvass(sample: SampleData) -> None:
    full = planted_scenarios()
    key = full["canvass"]
    inc = _incident(full, key["case_number"])
    assert inc["offense_type"] == "shooting"
    hits = _near(sample.reads, inc["lat"], inc["lon"], key["radius_m"], *_window(inc, key["before_min"],
                                                                                  key["after_min"]))
    counts = dict(hits.group_by("plate").len().iter_rows())
    assert counts[key["suspect_plate"]] == key["suspect_reads_near_scene"]
    assert set(key["bystander_plates"]) <= set(counts)
    assert not (set(key["outside_window_plates"]) | set(key["outside_radius_plates"])) & set(counts)
    assert max(counts.values()) == counts[key["suspect_plate"]]


def test_multi_scene(sample: SampleData) -> None:
    full = planted_scenarios()
    key = full["multi_scene"]
    scenes: dict[str, set[str]] = {}
    for case in key["case_numbers"]:
        inc = _incident(full, case)
        hits = _near(sample.reads, inc["lat"], inc["lon"], key["radius_m"],
                     *_window(inc, key["before_min"], key["after_min"]))
        for plate in hits["plate"].unique():
            scenes.setdefault(plate, set()).add(case)
    assert scenes[key["suspect_plate"]] == set(key["case_numbers"])
    assert [p for p, s in scenes.items() if len(s) == 3] == [key["suspect_plate"]]
    for plate, cases in {**key["two_scene_plates"], **key["one_scene_plates"]}.items():
        assert scenes[plate] == set(cases)


def test_convoy(sample: SampleData) -> None:
    key = planted_scenarios()["convoy"]
    reads = sample.reads.select("plate", "camera_id", "captured_at")
    target = reads.filter(pl.col("plate") == key["plate"])
    pairs = target.join(reads.filter(pl.col("plate") != key["plate"]), on="camera_id", suffix="_o").filter(
        (pl.col("captured_at_o") - pl.col("captured_at")).abs() <= timedelta(seconds=key["gap_s"])
    )
    days = (pairs.group_by("plate_o").agg(pl.col("captured_at").dt.convert_time_zone(TZ).dt.date().n_unique()
                                          .alias("days")).sort("days", descending=True))
    by_plate = dict(days.iter_rows())
    assert days.row(0) == (key["associate_plate"], key["associate_days"]) and key["associate_days"] >= 5
    assert by_plate["2LPM661"] == 2
    assert all(by_plate[p] == 1 for p in key["chance_plates"])
    assert days.row(1)[1] <= 2


def test_frequent_locations(sample: SampleData) -> None:
    key = planted_scenarios()["frequent_locations"]
    r = sample.reads.filter(pl.col("plate") == key["plate"]).with_columns(
        lt=pl.col("captured_at").dt.convert_time_zone(TZ)
    )
    lat, lon = r["lat"].to_numpy(), r["lon"].to_numpy()
    hour = r["lt"].dt.hour().to_numpy()
    weekday = r["lt"].dt.weekday().to_numpy()
    home = haversine_m(lat, lon, key["home"]["lat"], key["home"]["lon"]) <= 150
    work = haversine_m(lat, lon, key["work"]["lat"], key["work"]["lon"]) <= 150
    overnight = (hour >= 22) | (hour < 5)
    daytime = (weekday <= 5) & (hour >= 8) & (hour < 17)
    assert (home & overnight).sum() == key["home"]["reads"]
    assert (work & daytime).sum() == key["work"]["reads"]
    assert not (home & daytime).any() and not (work & overnight).any()


def test_hotlist(sample: SampleData) -> None:
    key = planted_scenarios()["hotlist"]
    seen = sample.reads.filter(pl.col("plate").is_in(sample.hotlists["plate"].implode()))
    assert dict(seen.group_by("plate").len().iter_rows()) == key["hit_plates"]
    hl = sample.hotlists.join(seen, on="plate")
    assert (hl["captured_at"] > hl["added_at"]).all()  # read after listing: a real alert
    assert set(sample.hotlists["plate"]) >= set(key["never_read_plates"])


@pytest.mark.parametrize("name", ["utc_midnight", "dst_spring", "dst_fall"])
def test_edge_cases(sample: SampleData, name: str) -> None:
    full = planted_scenarios()
    key = full["edge_cases"][name]
    inc = _incident(full, key["case_number"])
    t0, t1 = _window(inc, key["before_min"], key["after_min"])
    hits = _near(sample.reads, inc["lat"], inc["lon"], key["radius_m"], t0, t1)
    assert set(key["plates_in_window"]) <= set(hits["plate"])
    assert not set(key.get("plates_outside_window", [])) & set(hits["plate"])
    planted = hits.filter(pl.col("plate").is_in(key["plates_in_window"]))
    if name == "utc_midnight":  # the window straddles two UTC day partitions
        assert planted["captured_at"].dt.date().n_unique() == 2
    else:  # the incident spans a DST change: local offsets differ inside the window
        offsets = {(t.utcoffset()) for t in planted["captured_at"].dt.convert_time_zone(TZ).to_list()}
        assert len(offsets) == 2
    if name == "dst_fall":  # the out-of-window read has the same wall-clock time as one inside it
        out = sample.reads.filter(pl.col("plate").is_in(key["plates_outside_window"]))
        wall = lambda s: set(s["captured_at"].dt.convert_time_zone(TZ).dt.strftime("%H:%M"))  # noqa: E731
        assert wall(out) & wall(planted)


def test_incident_times_are_utc_and_in_range(sample: SampleData) -> None:
    inc = sample.incidents
    assert inc["case_number"].str.contains(r"^\d{2}-\d{6}$").all()
    assert inc["case_number"].is_unique().all()
    assert (inc["occurred_end"] >= inc["occurred_start"]).all()
    lo, hi = datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    assert inc["occurred_start"].is_between(lo, hi).all()
    assert inc.filter(pl.col("polygon_wkt").is_not_null()).height >= 1
    assert np.isfinite(inc["lat"].to_numpy()).all()
