"""Sample incidents and hotlists: the planted ones plus plausible background records.

Background records make the lists look like a real department's (an analyst must pick the right case from
many), while the planted ones carry the scenarios' answers.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
import polars as pl

from alpr_lib.samples._localtime import to_utc
from alpr_lib.samples.milpitas import intersections
from alpr_lib.samples.planted import HOTLIST_SCHEMA, INCIDENT_SCHEMA, planted_hotlist, planted_incidents
from alpr_lib.samples.plates import FORMATS, random_plates, strings_from_matrix

#: Offense types used by the sample incidents (weights for background incidents).
OFFENSES: dict[str, float] = {
    "vehicle burglary": 0.22,
    "auto theft": 0.18,
    "catalytic converter theft": 0.10,
    "burglary": 0.14,
    "robbery": 0.10,
    "hit and run": 0.12,
    "assault with a deadly weapon": 0.06,
    "shooting": 0.03,
    "carjacking": 0.03,
    "homicide": 0.02,
}

_SUMMARY = {
    "vehicle burglary": "Window smashed, property taken from a parked car near {where}.",
    "auto theft": "Vehicle reported stolen from {where}; no suspect description.",
    "catalytic converter theft": "Catalytic converter cut from a parked vehicle near {where}.",
    "burglary": "Commercial burglary reported near {where}; alarm activation.",
    "robbery": "Robbery of a pedestrian near {where}; suspect left in a vehicle.",
    "hit and run": "Collision at {where}; the other driver left the scene.",
    "assault with a deadly weapon": "Road-rage assault at {where}; suspect vehicle fled.",
    "shooting": "Shots fired near {where}; casings recovered.",
    "carjacking": "Carjacking at {where}; victim's vehicle taken.",
    "homicide": "Homicide investigation near {where}.",
}

#: The Great Mall parking lot, for an incident that is an area rather than a point.
GREAT_MALL_LOT_WKT = (
    "POLYGON ((-121.9035 37.4152, -121.8990 37.4152, -121.8990 37.4178, -121.9035 37.4178, -121.9035 37.4152))"
)


def incidents(seed: int = 462, start: date = date(2025, 12, 1), days: int = 365,
              n_background: int = 40) -> pl.DataFrame:
    """Incidents: the planted scenario incidents plus ``n_background`` random ones, sorted by time.

    Columns: case_number ("NN-NNNNNN"), offense_type, occurred_start, occurred_end (UTC), lat, lon,
    polygon_wkt (nullable), location_name, summary.
    """
    return _incidents(seed, start, days, n_background).clone()


@lru_cache(maxsize=8)
def _incidents(seed: int, start: date, days: int, n_background: int) -> pl.DataFrame:
    rng = np.random.default_rng([seed, 3001])
    planted = planted_incidents()
    taken = set(planted["case_number"].to_list())
    pts = intersections()
    offenses = list(OFFENSES)
    w = np.array(list(OFFENSES.values()))
    rows = []
    for _ in range(n_background):  # tens of records, not reads
        offense = offenses[int(rng.choice(len(offenses), p=w / w.sum()))]
        p = pts.row(int(rng.integers(0, pts.height)), named=True)
        local = datetime.combine(start, datetime.min.time()) + timedelta(
            days=int(rng.integers(0, days)), minutes=int(rng.integers(0, 24 * 60)))
        begin = to_utc(local)
        end = begin + timedelta(minutes=int(rng.choice([5, 10, 20, 45, 90])))
        while True:
            case = f"{local.year % 100:02d}-{int(rng.integers(1000, 12000)):06d}"
            if case not in taken:
                taken.add(case)
                break
        lat = round(p["lat"] + float(rng.normal(0, 0.0004)), 6)
        lon = round(p["lon"] + float(rng.normal(0, 0.0004)), 6)
        rows.append((case, offense, begin, end, lat, lon, None, f"near {p['name']}",
                     _SUMMARY[offense].format(where=p["name"])))
    # one area incident: a string of vehicle burglaries across the mall lot over an afternoon
    local = datetime(2026, 7, 11, 13, 0)
    rows.append(("26-006640", "vehicle burglary", to_utc(local), to_utc(local + timedelta(hours=4)),
                 37.4165, -121.90125, GREAT_MALL_LOT_WKT, "Great Mall parking lot",
                 "Six vehicles broken into across the Great Mall east parking lot during the afternoon."))
    background = pl.DataFrame(rows, schema=INCIDENT_SCHEMA, orient="row")
    return pl.concat([planted, background]).sort("occurred_start")


def hotlists(seed: int = 462, n_background: int = 18) -> pl.DataFrame:
    """Hotlist entries: planted ones (some read by cameras) plus random entries never read.

    Columns: list_name, plate, region, reason, added_at (UTC), source. The generator keeps every hotlist
    plate out of random traffic, so only planted reads ever hit a hotlist.
    """
    return _hotlists(seed, n_background).clone()


@lru_cache(maxsize=8)
def _hotlists(seed: int, n_background: int) -> pl.DataFrame:
    rng = np.random.default_rng([seed, 4001])
    mat, lens, fmt = random_plates(rng, n_background)
    plates = strings_from_matrix(mat, lens).to_list()
    lists = (("stolen_vehicles", "stolen vehicle", "NCIC stolen vehicles"),
             ("stolen_plates", "stolen plate", "CA DOJ SVS stolen plates"),
             ("bolo", "department BOLO: person of interest", "department BOLO"))
    rows = []
    for i, plate in enumerate(plates):
        ln, reason, src = lists[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
        added = to_utc(datetime(2025, 11, 1) + timedelta(days=int(rng.integers(0, 390)), hours=8 + i % 9))
        rows.append((ln, plate, FORMATS[int(fmt[i])][0], reason, added, src))
    background = pl.DataFrame(rows, schema=HOTLIST_SCHEMA, orient="row")
    return pl.concat([planted_hotlist(), background]).unique("plate", keep="first", maintain_order=True)
