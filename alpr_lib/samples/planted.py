"""Planted scenarios: hand-written reads, incidents and hotlist entries with a known answer.

Training, notebooks and tests need cases whose answer is known in advance (a partial plate, a canvass suspect,
a vehicle at three scenes, a convoy, a home/work pattern, hotlist hits, day-boundary and DST traps). They are
written here as data, independent of ``n_reads``: the same plates, places and times for every size and seed
(only the ``read_id`` prefix carries the seed), and the generator keeps its random plates away from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import polars as pl

from alpr_lib.samples._localtime import TZ_NAME, to_utc
from alpr_lib.samples.milpitas import base_cameras, intersections, road_edges
from alpr_lib.store.schema import READ_SCHEMA

PATROL_PREFIX = "MPD-P"


def patrol_unit(k: int) -> str:
    """Unit name of patrol car ``k`` (1-based): the camera rides in that car."""
    return f"Car {200 + k}"


@dataclass(frozen=True)
class _Read:
    plate: str
    when: datetime  # aware UTC
    camera_id: str
    lat: float
    lon: float
    heading: float
    confidence: float
    raw: str | None = None
    region: str = "CA"
    tag: str = ""


def _t(text: str) -> datetime:
    """'2026-06-03 08:12' is local (America/Los_Angeles, fold=0); a trailing 'Z' means UTC."""
    if text.endswith("Z"):
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    return to_utc(datetime.fromisoformat(text))


_DIR_HEADING = {"NB": 0.0, "EB": 90.0, "SB": 180.0, "WB": 270.0}


class _Builder:
    """Collects planted reads; positions get a small fixed jitter (same for every seed)."""

    def __init__(self) -> None:
        self.reads: list[_Read] = []
        self._rng = np.random.default_rng(462_462)
        cams = base_cameras()
        self._cams = {r["camera_id"]: r for r in cams.iter_rows(named=True)}
        self._pts = {r["intersection_id"]: r for r in intersections().iter_rows(named=True)}
        self._edges = {(r["from_id"], r["to_id"]): r for r in road_edges().iter_rows(named=True)}

    def _conf(self) -> float:
        return round(float(self._rng.uniform(86.0, 98.5)), 1)

    def fixed(self, plate: str, when: str, camera_id: str, *, conf: float | None = None,
              raw: str | None = None, region: str = "CA", tag: str = "") -> None:
        c = self._cams[camera_id]
        j = self._rng.normal(0.0, 0.00002, 2)  # ~2 m: the camera is on a pole, the car in a lane
        self.reads.append(_Read(plate, _t(when), camera_id, round(c["lat"] + j[0], 6),
                                round(c["lon"] + j[1], 6), _DIR_HEADING[c["direction"]],
                                conf if conf is not None else self._conf(), raw, region, tag))

    def patrol(self, plate: str, when: str, car: int, a: str, b: str, frac: float, *,
               conf: float | None = None, raw: str | None = None, region: str = "CA", tag: str = "") -> None:
        """A read by patrol car ``car`` at fraction ``frac`` of the street segment a -> b."""
        e = self._edges.get((a, b))
        if e is None:
            r = self._edges[(b, a)]
            e = {"from_lat": r["to_lat"], "from_lon": r["to_lon"], "to_lat": r["from_lat"],
                 "to_lon": r["from_lon"], "bearing_deg": (r["bearing_deg"] + 180.0) % 360.0}
        lat = e["from_lat"] + frac * (e["to_lat"] - e["from_lat"])
        lon = e["from_lon"] + frac * (e["to_lon"] - e["from_lon"])
        j = self._rng.normal(0.0, 0.00002, 2)
        self.reads.append(_Read(plate, _t(when), f"{PATROL_PREFIX}{car:02d}", round(lat + j[0], 6),
                                round(lon + j[1], 6), round(float(e["bearing_deg"]), 1),
                                conf if conf is not None else self._conf(), raw, region, tag))

    def near(self, plate: str, when: str, car: int, point: str, spread_deg: float, *, tag: str = "") -> None:
        """A patrol read of a parked car a few tens of metres around an intersection."""
        p = self._pts[point]
        j = self._rng.normal(0.0, spread_deg, 2)
        self.reads.append(_Read(plate, _t(when), f"{PATROL_PREFIX}{car:02d}", round(p["lat"] + j[0], 6),
                                round(p["lon"] + j[1], 6), round(float(self._rng.uniform(0, 360)), 1),
                                self._conf(), None, "CA", tag))


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------------------
# Incidents that belong to scenarios: (case_number, offense_type, start, end, intersection, summary)
_INCIDENTS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("26-004512", "shooting", "2026-05-16 22:40", "2026-05-16 22:45", "CAL_ABL",
     "Shots fired from a dark sedan at Calaveras Blvd & Abel St; one victim, vehicle fled eastbound."),
    ("26-001871", "catalytic converter theft", "2026-02-10 02:10", "2026-02-10 02:40", "GM_ENT",
     "Catalytic converter cut from a parked Prius, Great Mall east lot; grinder noise reported."),
    ("26-002204", "catalytic converter theft", "2026-02-19 03:05", "2026-02-19 03:30", "MIL_JAC",
     "Catalytic converter stolen from a work van near Milpitas Blvd & Jacklin Rd."),
    ("26-002655", "catalytic converter theft", "2026-03-02 01:40", "2026-03-02 02:15", "LAN_MOR",
     "Two catalytic converters stolen from apartment parking off Landess Ave & Morrill Ave."),
    ("26-003307", "burglary", "2026-04-14T23:52:00Z", "2026-04-14T23:58:00Z", "MON_CAP",
     "Commercial burglary near Montague Expwy & Capitol Ave, minutes before midnight UTC."),
    ("26-001950", "hit and run", "2026-03-08T09:35:00Z", "2026-03-08T10:25:00Z", "CAL_680",
     "Hit and run at the I-680 ramps during the spring-forward hour (01:35 PST to 03:25 PDT)."),
    ("26-009815", "robbery", "2026-11-01T08:20:00Z", "2026-11-01T09:10:00Z", "GMP_MAIN",
     "Robbery at Great Mall Pkwy & Main St during the repeated 01:00 hour (01:20 PDT to 01:10 PST)."),
    ("26-005120", "hit and run", "2026-06-14 21:24", "2026-06-14 21:27", "MON_880",
     "Hit and run at Montague Expwy & I-880; a witness saw a light sedan with a partial plate 7AB?12, "
     "possibly more characters after the 2."),
    ("26-007731", "robbery", "2026-09-05 20:22", "2026-09-05 20:28", "CAL_MIL",
     "Armed robbery of a store clerk near Calaveras Blvd & Milpitas Blvd; two vehicles seen leaving together."),
)

#: Hotlist entries: (list_name, plate, region, reason, added_at local, source, planted read count)
_HOTLIST: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("stolen_vehicles", "5SAM781", "CA", "stolen vehicle", "2026-03-28 09:00", "NCIC stolen vehicles"),
    ("stolen_plates", "8DPR224", "CA", "stolen plate", "2026-06-30 14:10", "CA DOJ SVS stolen plates"),
    ("bolo", "7LUX450", "CA", "felony warrant: registered owner, armed robbery", "2026-08-04 07:45",
     "department BOLO"),
    ("stolen_vehicles", "CRT4521", "AZ", "stolen vehicle", "2026-01-19 11:30", "NCIC stolen vehicles"),
    ("stolen_vehicles", "6YHN302", "CA", "stolen vehicle", "2026-05-02 16:00", "NCIC stolen vehicles"),
    ("missing_persons", "3KWP871", "CA", "missing person (at-risk adult), silver alert", "2026-09-12 10:20",
     "CA DOJ missing persons"),
    ("stolen_plates", "482B17", "NV", "stolen plate", "2026-02-07 08:00", "NCIC stolen vehicles"),
)


def _build() -> tuple[list[_Read], dict]:
    b = _Builder()
    key: dict = {}

    # a. partial plate ------------------------------------------------------------------------------------
    suspect = "7ABK123"
    for when, cam in (("2026-06-03 08:12", "MPD-F005"), ("2026-06-03 17:41", "MPD-F006"),
                      ("2026-06-09 12:05", "MPD-F021"), ("2026-06-14 21:33", "MPD-F024"),
                      ("2026-06-22 07:58", "MPD-F005")):
        b.fixed(suspect, when, cam, tag="partial.suspect")
    b.patrol(suspect, "2026-06-27 15:20", 1, "GMP_MAIN", "GM_ENT", 0.5, raw="7ABK 123", tag="partial.suspect")
    decoys = (("7A8K123", "2026-06-11 19:47", "MPD-F022", 71.4), ("7ABKI23", "2026-06-18 10:30", "MPD-F016", 66.2),
              ("7ABK1Z3", "2026-06-25 08:05", "MPD-F003", 68.9))
    for plate, when, cam, conf in decoys:
        b.fixed(plate, when, cam, conf=conf, tag="partial.confusable")
    b.fixed("7ABX129", "2026-01-14 13:02", "MPD-F013", tag="partial.other_exact")
    b.fixed("7ABX129", "2026-01-14 13:09", "MPD-F001", tag="partial.other_exact")
    b.fixed("7ABK213", "2026-06-16 09:14", "MPD-F017", tag="partial.non_match")
    b.fixed("7ACK123", "2026-06-20 18:02", "MPD-F023", tag="partial.non_match")
    key["partial_plate"] = {
        "pattern": "7AB?12*",
        "case_number": "26-005120",
        "window": {"start": "2026-06-01", "end": "2026-06-30", "timezone": TZ_NAME},
        "suspect_plate": suspect,
        "exact_plates_in_window": [suspect],
        "confusable_plates_in_window": [d[0] for d in decoys],
        "exact_plates_outside_window": ["7ABX129"],
        "non_matching_plates": ["7ABK213", "7ACK123"],
        "note": "With OCR-confusion tolerance the June search returns the suspect first, then the three "
                "misreads; exact mode returns the suspect only; without a window 7ABX129 (January) also "
                "matches.",
    }

    # b. canvass -------------------------------------------------------------------------------------------
    canvass_suspect = "8MKT417"
    b.fixed(canvass_suspect, "2026-05-16 19:05", "MPD-F024", tag="canvass.suspect_elsewhere")
    b.fixed(canvass_suspect, "2026-05-16 22:31", "MPD-F003", tag="canvass.suspect")
    b.patrol(canvass_suspect, "2026-05-16 22:47", 4, "CAL_ABL", "CAL_MAIN", 0.45, tag="canvass.suspect")
    for plate, when in (("4GUW812", "2026-05-16 22:20"), ("7RCH309", "2026-05-16 22:43"),
                        ("8ZEB615", "2026-05-16 23:02")):
        b.fixed(plate, when, "MPD-F003", tag="canvass.bystander")
    b.fixed("6PLV240", "2026-05-16 20:25", "MPD-F003", tag="canvass.outside_window")
    b.fixed("5HTD732", "2026-05-16 22:44", "MPD-F015", tag="canvass.outside_radius")
    key["canvass"] = {
        "case_number": "26-004512",
        "offense_type": "shooting",
        "radius_m": 300,
        "before_min": 30,
        "after_min": 30,
        "suspect_plate": canvass_suspect,
        "suspect_reads_near_scene": 2,
        "bystander_plates": ["4GUW812", "7RCH309", "8ZEB615"],
        "outside_window_plates": ["6PLV240"],
        "outside_radius_plates": ["5HTD732"],
        "note": "The suspect is read at the scene 9 minutes before and by a patrol car ~190 m east 2 minutes "
                "after; it is the only planted plate read near the scene both before and after.",
    }

    # c. multi-scene --------------------------------------------------------------------------------------
    ms = "6TRW982"
    b.fixed(ms, "2026-02-10 02:22", "MPD-F022", tag="multi.suspect")
    b.fixed(ms, "2026-02-19 03:12", "MPD-F016", tag="multi.suspect")
    b.fixed(ms, "2026-03-02 01:58", "MPD-F028", tag="multi.suspect")
    b.patrol("GTRW982", "2026-03-02 02:05", 4, "LAN_MOR", "LAN_PKV", 0.15, conf=64.8, tag="multi.confusable")
    b.patrol(ms, "2026-03-02 02:25", 4, "LAN_PKV", "LAN_680", 0.3, tag="multi.suspect_elsewhere")
    b.fixed("5JDF330", "2026-02-10 02:31", "MPD-F022", tag="multi.two_scenes")
    b.fixed("5JDF330", "2026-02-19 03:20", "MPD-F016", tag="multi.two_scenes")
    b.fixed("4NPL775", "2026-02-19 02:58", "MPD-F016", tag="multi.two_scenes")
    b.fixed("4NPL775", "2026-03-02 01:52", "MPD-F028", tag="multi.two_scenes")
    b.fixed("7GHS201", "2026-02-10 02:15", "MPD-F022", tag="multi.one_scene")
    b.fixed("8WXY104", "2026-02-10 02:47", "MPD-F022", tag="multi.one_scene")
    b.fixed("3BCE448", "2026-03-02 02:30", "MPD-F028", tag="multi.one_scene")
    key["multi_scene"] = {
        "case_numbers": ["26-001871", "26-002204", "26-002655"],
        "offense_type": "catalytic converter theft",
        "radius_m": 300,
        "before_min": 30,
        "after_min": 30,
        "suspect_plate": ms,
        "two_scene_plates": {"5JDF330": ["26-001871", "26-002204"], "4NPL775": ["26-002204", "26-002655"]},
        "one_scene_plates": {"7GHS201": ["26-001871"], "8WXY104": ["26-001871"], "3BCE448": ["26-002655"]},
        "confusable_reads": {"GTRW982": "misread of 6TRW982 near 26-002655 (6/G)"},
    }

    # d./e. one vehicle for notebook 04: frequent locations and convoy --------------------------------------
    target, assoc = "9FJR553", "4XKD906"
    home_nights = ("2025-12-04", "2025-12-18", "2026-01-08", "2026-01-22", "2026-02-05", "2026-02-26",
                   "2026-03-12", "2026-03-26", "2026-04-09", "2026-04-23", "2026-05-07", "2026-05-21",
                   "2026-06-04", "2026-06-18", "2026-07-09", "2026-07-23", "2026-08-06", "2026-08-20",
                   "2026-09-03", "2026-09-17", "2026-10-01", "2026-10-15", "2026-10-29", "2026-11-12")
    rng = np.random.default_rng(553)
    for i, d in enumerate(home_nights):
        minute = int(rng.integers(0, 60))
        if i % 3 == 0:
            b.fixed(target, f"{d} 22:{minute:02d}", "MPD-F029", tag="freq.home")
        else:  # night-shift patrol passing the car parked on Yellowstone Ave, after local midnight
            nxt = (datetime.fromisoformat(d) + timedelta(days=1)).date().isoformat()
            b.near(target, f"{nxt} 0{1 + i % 4}:{minute:02d}", 6, "PKV_YEL", 0.0003, tag="freq.home")
    work_days = [d for d in (datetime(2025, 12, 2) + timedelta(days=9 * k) for k in range(40))
                 if d.weekday() < 5][:30]
    for i, d in enumerate(work_days):
        minute = int(rng.integers(0, 60))
        if i % 2 == 0:
            b.fixed(target, f"{d:%Y-%m-%d} 0{8 + i % 2}:{minute:02d}", "MPD-F014", tag="freq.work")
        else:
            b.near(target, f"{d:%Y-%m-%d} {11 + i % 5}:{minute:02d}", 1, "MCC_BEL", 0.0004, tag="freq.work")
    key["frequent_locations"] = {
        "plate": target,
        "case_number": "26-007731",
        "offense_type": "robbery",
        "home": {"near": "Park Victoria Dr & Yellowstone Ave", "lat": 37.4185, "lon": -121.8790,
                 "when": "overnight (22:00-05:00 local)", "reads": len(home_nights)},
        "work": {"near": "McCarthy Blvd & Bellew Dr", "lat": 37.4212, "lon": -121.9250,
                 "when": "weekday daytime (08:00-17:00 local)", "reads": len(work_days)},
    }

    routes = (("MPD-F027", "MPD-F026", "MPD-F021"), ("MPD-F008", "MPD-F005", "MPD-F003"),
              ("MPD-F018", "MPD-F016", "MPD-F017"), ("MPD-F020", "MPD-F030"), ("MPD-F012", "MPD-F011"))
    convoy_days = ("2026-01-17 19:10", "2026-02-21 20:40", "2026-03-14 18:25", "2026-04-25 21:05",
                   "2026-06-06 19:50", "2026-07-18 22:15", "2026-09-05 20:30")
    gaps = (12, 25, 41, 18, 33, 9, 50, 22, 15, 37, 28, 44, 20, 11, 30, 26, 39, 17, 48, 24)
    g = 0
    for k, start in enumerate(convoy_days):
        t0 = datetime.fromisoformat(start)
        for j, cam in enumerate(routes[k % len(routes)]):
            t = t0 + timedelta(minutes=4 * j)
            b.fixed(target, t.isoformat(sep=" "), cam, tag="convoy.target")
            ta = t + timedelta(seconds=gaps[g % len(gaps)] * (1 if k % 2 else -1))
            g += 1
            b.fixed(assoc, ta.isoformat(sep=" "), cam, tag="convoy.associate")
    # a weaker associate: together on two evenings; chance co-occurrences: once each
    for k, gap in ((1, 35), (4, -20)):
        t = datetime.fromisoformat(convoy_days[k]) + timedelta(seconds=gap)
        b.fixed("2LPM661", t.isoformat(sep=" "), routes[k % len(routes)][0], tag="convoy.weak")
    chance = ("8BNR447", "3YTE902", "6KMV158", "5WQP630", "7DHN214", "4ERS775")
    for i, plate in enumerate(chance):
        k = i % len(convoy_days)
        t = datetime.fromisoformat(convoy_days[k]) + timedelta(seconds=45 - 13 * i)
        b.fixed(plate, t.isoformat(sep=" "), routes[k % len(routes)][0], tag="convoy.chance")
    key["convoy"] = {
        "plate": target,
        "case_number": "26-007731",
        "offense_type": "robbery",
        "gap_s": 60,
        "associate_plate": assoc,
        "associate_days": len(convoy_days),
        "weak_associate_plates": {"2LPM661": 2},
        "chance_plates": list(chance),
        "note": "The associate is read within 60 s of the target at the same camera on 7 different days; "
                "2LPM661 on 2 days; the chance plates once each.",
    }

    # f. hotlist hits ------------------------------------------------------------------------------------
    hits = {
        "5SAM781": (("2026-04-02 07:44", "MPD-F009"), ("2026-04-02 16:58", "MPD-F010"),
                    ("2026-04-11 11:20", "MPD-F022")),
        "8DPR224": (("2026-07-03 23:15", "MPD-F025"), ("2026-07-09 02:40", "MPD-F027")),
        "7LUX450": (("2026-08-05 13:05", "MPD-F004"), ("2026-08-12 08:31", "MPD-F019"),
                    ("2026-08-30 20:12", "MPD-F007")),
        "CRT4521": (("2026-01-24 10:02", "MPD-F011"), ("2026-01-24 10:06", "MPD-F013")),
    }
    for plate, reads in hits.items():
        region = "AZ" if plate == "CRT4521" else "CA"
        for when, cam in reads:
            b.fixed(plate, when, cam, region=region, tag="hotlist.hit")
    key["hotlist"] = {
        "hit_plates": {p: len(r) for p, r in hits.items()},
        "never_read_plates": ["6YHN302", "3KWP871", "482B17"],
    }

    # g. day-boundary and DST edge cases ------------------------------------------------------------------
    b.fixed("3HVN552", "2026-04-14T23:49:00Z", "MPD-F026", tag="edge.utc_midnight")
    b.patrol("3HVN552", "2026-04-15T00:06:00Z", 3, "MON_CAP", "MON_MIL", 0.18, tag="edge.utc_midnight")
    b.fixed("5KCE903", "2026-04-15T00:03:00Z", "MPD-F026", tag="edge.utc_midnight")
    b.fixed("6BLN337", "2026-03-08T09:50:00Z", "MPD-F009", tag="edge.dst_spring")
    b.fixed("6BLN337", "2026-03-08T10:15:00Z", "MPD-F008", tag="edge.dst_spring")
    b.fixed("2RFT845", "2026-03-08T10:50:00Z", "MPD-F008", tag="edge.dst_spring_outside")
    b.fixed("4TZA661", "2026-11-01T08:40:00Z", "MPD-F021", tag="edge.dst_fall")
    b.fixed("4TZA661", "2026-11-01T09:05:00Z", "MPD-F021", tag="edge.dst_fall")
    b.fixed("9PKD210", "2026-11-01T09:40:00Z", "MPD-F021", tag="edge.dst_fall_outside")
    key["edge_cases"] = {
        "utc_midnight": {"case_number": "26-003307", "radius_m": 300, "before_min": 15, "after_min": 15,
                         "plates_in_window": ["3HVN552", "5KCE903"],
                         "note": "reads fall in partitions day=2026-04-14 and day=2026-04-15"},
        "dst_spring": {"case_number": "26-001950", "radius_m": 300, "before_min": 10, "after_min": 10,
                       "plates_in_window": ["6BLN337"], "plates_outside_window": ["2RFT845"],
                       "note": "01:35 PST to 03:25 PDT is 50 minutes, not 1 h 50 min"},
        "dst_fall": {"case_number": "26-009815", "radius_m": 300, "before_min": 10, "after_min": 10,
                     "plates_in_window": ["4TZA661"], "plates_outside_window": ["9PKD210"],
                     "note": "9PKD210 is read at 01:40 PST, the same wall-clock time as a read inside the "
                             "window at 01:40 PDT, but an hour later"},
    }
    return b.reads, key


@cache
def _cached() -> tuple[tuple[_Read, ...], dict]:
    reads, key = _build()
    return tuple(reads), key


def planted_plates() -> frozenset[str]:
    """Every plate the scenarios use (including misreads and hotlist entries): kept out of random traffic."""
    reads, _ = _cached()
    return frozenset({r.plate for r in reads} | {h[1] for h in _HOTLIST})


def planted_reads(seed: int = 462) -> pl.DataFrame:
    """All planted reads as a READ_SCHEMA frame (``read_id`` = ``S{seed}-P{n:06d}``), plus a ``tag`` column."""
    reads, _ = _cached()
    df = pl.DataFrame(
        {
            "read_id": [f"S{seed}-P{i:06d}" for i in range(1, len(reads) + 1)],
            "plate": [r.plate for r in reads],
            "plate_raw": [r.raw or r.plate for r in reads],
            "plate_confidence": [r.confidence for r in reads],
            "region": [r.region for r in reads],
            "captured_at": [r.when for r in reads],
            "camera_id": [r.camera_id for r in reads],
            "unit": [None] * len(reads),
            "source": [None] * len(reads),
            "lat": [r.lat for r in reads],
            "lon": [r.lon for r in reads],
            "heading": [r.heading for r in reads],
            "image_ref": [None] * len(reads),
            "tag": [r.tag for r in reads],
        },
        schema={**READ_SCHEMA, "tag": pl.String()},
    )
    cams = base_cameras().select("camera_id", pl.format("Site {}", "intersection_id").alias("u"))
    patrol = pl.col("camera_id").str.starts_with(PATROL_PREFIX)
    car = pl.col("camera_id").str.slice(len(PATROL_PREFIX)).cast(pl.Int64, strict=False)
    return (
        df.join(cams, on="camera_id", how="left", maintain_order="left")
        .with_columns(
            unit=pl.when(patrol).then(pl.format("Car {}", car + 200)).otherwise(pl.col("u")),
            source=pl.when(patrol).then(pl.lit("MPD-MOBILE")).otherwise(pl.lit("MPD-FIXED")),
        )
        .select(*READ_SCHEMA, "tag")
    )


def planted_incidents() -> pl.DataFrame:
    """The scenario incidents (points at intersections), in the incidents() schema."""
    pts = {r["intersection_id"]: r for r in intersections().iter_rows(named=True)}
    rows = []
    for case, offense, start, end, where, summary in _INCIDENTS:
        p = pts[where]
        rows.append((case, offense, _t(start), _t(end), p["lat"], p["lon"], None, p["name"], summary))
    return pl.DataFrame(rows, schema=INCIDENT_SCHEMA, orient="row")


def planted_hotlist() -> pl.DataFrame:
    """Hotlist entries, some of which the planted reads hit."""
    rows = [(ln, p, reg, reason, _t(added), src) for ln, p, reg, reason, added, src in _HOTLIST]
    return pl.DataFrame(rows, schema=HOTLIST_SCHEMA, orient="row")


def answer_key(seed: int = 462) -> dict:
    """The JSON-serialisable answer key, with the planted read ids of every scenario tag."""
    _, key = _cached()
    reads = planted_reads(seed)
    by_tag = reads.group_by("tag", maintain_order=True).agg("read_id")
    out = {k: dict(v) for k, v in key.items()}
    out["incidents"] = [
        {"case_number": r["case_number"], "offense_type": r["offense_type"],
         "occurred_start": _iso(r["occurred_start"]), "occurred_end": _iso(r["occurred_end"]),
         "lat": r["lat"], "lon": r["lon"], "location_name": r["location_name"]}
        for r in planted_incidents().iter_rows(named=True)
    ]
    out["read_ids_by_tag"] = {t: ids for t, ids in by_tag.iter_rows()}
    out["seed"] = seed
    out["timezone"] = TZ_NAME
    return out


INCIDENT_SCHEMA: dict[str, pl.DataType] = {
    "case_number": pl.String(),
    "offense_type": pl.String(),
    "occurred_start": pl.Datetime("us", "UTC"),
    "occurred_end": pl.Datetime("us", "UTC"),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "polygon_wkt": pl.String(),
    "location_name": pl.String(),
    "summary": pl.String(),
}

HOTLIST_SCHEMA: dict[str, pl.DataType] = {
    "list_name": pl.String(),
    "plate": pl.String(),
    "region": pl.String(),
    "reason": pl.String(),
    "added_at": pl.Datetime("us", "UTC"),
    "source": pl.String(),
}
