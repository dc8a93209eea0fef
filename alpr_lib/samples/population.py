"""The vehicle population and the camera registry of the sample area.

Reads are drawn from a fixed population (so a plate recurs with a routine) rather than from fresh random
plates; each vehicle carries a class (commuter, resident, commercial, through) and a set of four cameras it
passes, which is what makes frequent-location and convoy analysis meaningful on generated data.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import polars as pl

from alpr_lib.errors import ValidationError
from alpr_lib.samples.milpitas import base_cameras, haversine_m, road_edges
from alpr_lib.samples.planted import PATROL_PREFIX, patrol_unit, planted_plates
from alpr_lib.samples.plates import _ADDED, CONFUSION_GROUPS, FORMATS, random_plates, strings_from_matrix
from alpr_lib.store.schema import CAMERA_SCHEMA

AGENCY = "Milpitas PD"
KINDS: tuple[str, ...] = ("commuter", "resident", "commercial", "through")
DEFAULT_FIXED = 30
DEFAULT_PATROL = 6
_DIRS = np.array(["NB", "EB", "SB", "WB"])
_DIR_HEADING = {"NB": 0.0, "EB": 90.0, "SB": 180.0, "WB": 270.0}
_RAMP_WORDS = ("I-880", "I-680", "Montague", "SR-237", "Tasman")


def _split_cameras(n_cameras: int | None) -> tuple[int, int]:
    if n_cameras is None:
        return DEFAULT_FIXED, DEFAULT_PATROL
    if n_cameras < DEFAULT_FIXED + DEFAULT_PATROL:
        raise ValidationError(
            f"n_cameras must be at least {DEFAULT_FIXED + DEFAULT_PATROL} (got {n_cameras}): the 30 named "
            "fixed sites and 6 patrol units are always present"
        )
    n_patrol = max(DEFAULT_PATROL, round(n_cameras * 0.03))
    return n_cameras - n_patrol, n_patrol


def cameras(seed: int = 462, n_cameras: int | None = None) -> pl.DataFrame:
    """The camera registry (exactly ``CAMERA_SCHEMA``): fixed cameras, then patrol-car units.

    The first 30 fixed cameras (``MPD-F001``..``MPD-F030``, at intersections) and the first 6 patrol units
    (``MPD-P01``..``MPD-P06``) are the same for every seed and size, so planted scenarios can name them;
    ``n_cameras`` (e.g. 400 for the 100M benchmark) adds mid-block cameras along the road network.
    """
    return _cameras(seed, n_cameras).clone()


@lru_cache(maxsize=8)
def _cameras(seed: int, n_cameras: int | None) -> pl.DataFrame:
    n_fixed, n_patrol = _split_cameras(n_cameras)
    base = base_cameras()
    ids = base["camera_id"].to_list()
    names = [f"{n} ({d})" for n, d in zip(base["name"], base["direction"], strict=True)]
    lats, lons = base["lat"].to_list(), base["lon"].to_list()
    dirs = base["direction"].to_list()
    units = [f"Site {i}" for i in base["intersection_id"]]
    extra = n_fixed - len(ids)
    if extra > 0:
        rng = np.random.default_rng([seed, 7001])
        e = road_edges()
        w = e["length_m"].to_numpy()
        pick = rng.choice(e.height, size=extra, p=w / w.sum())
        frac = rng.uniform(0.15, 0.85, extra)
        flat, flon = e["from_lat"].to_numpy()[pick], e["from_lon"].to_numpy()[pick]
        tlat, tlon = e["to_lat"].to_numpy()[pick], e["to_lon"].to_numpy()[pick]
        bearing = e["bearing_deg"].to_numpy()[pick] + 180.0 * rng.integers(0, 2, extra)
        d = _DIRS[np.round((bearing % 360.0) / 90.0).astype(int) % 4]
        streets = e["street"].to_numpy()[pick]
        fids, tids = e["from_id"].to_numpy()[pick], e["to_id"].to_numpy()[pick]
        for k in range(extra):  # registry rows (hundreds at most), not reads
            num = len(ids) + 1
            ids.append(f"MPD-F{num:03d}")
            names.append(f"{streets[k]} between {fids[k]} and {tids[k]} ({d[k]})")
            lats.append(round(float(flat[k] + frac[k] * (tlat[k] - flat[k])), 6))
            lons.append(round(float(flon[k] + frac[k] * (tlon[k] - flon[k])), 6))
            dirs.append(str(d[k]))
            units.append(f"Site M{num:03d}")
    fixed = pl.DataFrame(
        {"camera_id": ids, "name": names, "kind": "fixed", "lat": lats, "lon": lons, "direction": dirs,
         "agency": AGENCY, "unit": units},
        schema=CAMERA_SCHEMA,
    )
    patrol = pl.DataFrame(
        {"camera_id": [f"{PATROL_PREFIX}{k:02d}" for k in range(1, n_patrol + 1)],
         "name": [f"Patrol car {patrol_unit(k)} ALPR" for k in range(1, n_patrol + 1)],
         "kind": "mobile", "lat": None, "lon": None, "direction": None, "agency": AGENCY,
         "unit": [patrol_unit(k) for k in range(1, n_patrol + 1)]},
        schema=CAMERA_SCHEMA,
    )
    return pl.concat([fixed, patrol])


@dataclass(frozen=True)
class Population:
    """Vehicles ordered by class; arrays are aligned with ``plates``."""

    plates: pl.Series
    mat: np.ndarray  # (n, 8) uint8 plate characters
    lens: np.ndarray  # (n,) plate lengths
    region: pl.Series
    kind: np.ndarray  # (n,) int8 index into KINDS
    cam_sets: np.ndarray  # (n, 4) int16 indices of fixed cameras each vehicle passes
    class_start: np.ndarray  # (4,) first row of each class
    class_size: np.ndarray  # (4,) rows per class


#: The planted partial plate that random traffic must never match (see planted.py, scenario a).
PLANTED_PATTERN = "7AB?12"  # searched as "7AB?12*": anchored at the start, anything after


def _search_groups() -> list[str]:
    """Confusion groups of the search (the documented data file) plus the generator's own misread groups."""
    groups = list(CONFUSION_GROUPS)
    try:
        text = resources.files("alpr_lib").joinpath("data", "ocr_confusions.toml").read_text(encoding="utf-8")
        groups += [g.upper() for g in tomllib.loads(text)["groups"]]
    except (FileNotFoundError, KeyError, tomllib.TOMLDecodeError):
        pass
    return groups


def _prefix_match(mat: np.ndarray, lens: np.ndarray, sets: list[np.ndarray | None]) -> np.ndarray:
    """Rows whose first ``len(sets)`` characters fall in ``sets`` (None: any character)."""
    hit = lens >= len(sets)
    for j, allowed in enumerate(sets):
        if allowed is not None:
            hit &= np.isin(mat[:, j], allowed)
    return hit


def _excluded(mat: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Plates that could match the planted partial plate with confusions, as read or after one OCR error.

    Random traffic must not add matches, so the partial-plate answer key holds at every size and under the
    search's (wider) confusion table. A substitution keeps a character inside its misread group; a dropped
    or added character shifts the rest, so each of those shapes is checked too.
    """
    groups = _search_groups()

    def widen(chars: set[str]) -> set[str]:
        return chars | {o for g in groups if chars & set(g) for o in g}

    target = [None if ch == "?" else widen({ch}) for ch in PLANTED_PATTERN]
    # what a source character may be so that one substitution lands in the target set
    sub = [None if t is None else widen(t) for t in target]

    def arr(chars: set[str] | None) -> np.ndarray | None:
        return None if chars is None else np.frombuffer("".join(sorted(chars)).encode(), np.uint8)

    hit = _prefix_match(mat, lens, [arr(t) for t in sub])
    n = len(target)
    for p in range(n):  # a character dropped at p: the source has one extra character there
        hit |= _prefix_match(mat, lens, [arr(t) for t in target[:p]] + [None] + [arr(t) for t in target[p:]])
    added = set(_ADDED.decode())
    for p in range(n):  # a character added at p: it must itself fit target[p]
        if target[p] is None or target[p] & added:
            hit |= _prefix_match(mat, lens, [arr(t) for t in target[:p] + target[p + 1:]])
    return hit


def _shares(local: bool, commercial: bool) -> np.ndarray:
    s = np.array([f[2] for f in FORMATS])
    out_of_state = np.array([f[0] != "CA" for f in FORMATS])
    s[out_of_state] *= 0.4 if local else 3.0
    if commercial:
        s[1] *= 12.0  # the commercial-plate format
    return s / s.sum()


def population_sizes(n_reads: int) -> dict[str, int]:
    """Vehicles per class for a run of ``n_reads`` (distinct plates grow with the data, capped ~2.7M)."""
    n_local = int(np.clip(n_reads // 60, 1_500, 1_700_000))
    n_through = int(np.clip(n_reads // 8, 500, 1_000_000))
    return {"commuter": int(n_local * 0.40), "resident": int(n_local * 0.45),
            "commercial": n_local - int(n_local * 0.40) - int(n_local * 0.45), "through": n_through}


def _neighbours(lat: np.ndarray, lon: np.ndarray, k: int) -> np.ndarray:
    d = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1)[:, :k]


@lru_cache(maxsize=4)
def build_population(seed: int, n_reads: int, n_cameras: int | None = None) -> Population:
    """The vehicle population for a run (cached: every chunk of one run shares it)."""
    rng = np.random.default_rng([seed, 1001])
    sizes = population_sizes(n_reads)
    mats, lens_l, fmts, kinds = [], [], [], []
    for k, kind in enumerate(KINDS):
        n = int(sizes[kind] * 1.02) + 16  # a little spare for removed duplicates
        m, ln, f = random_plates(rng, n, _shares(kind != "through", kind == "commercial"))
        mats.append(m)
        lens_l.append(ln)
        fmts.append(f)
        kinds.append(np.full(n, k, np.int8))
    mat, lens = np.concatenate(mats), np.concatenate(lens_l)
    fmt, kind = np.concatenate(fmts), np.concatenate(kinds)
    plates = strings_from_matrix(mat, lens, "plate")
    keep = plates.is_first_distinct().to_numpy() & ~_excluded(mat, lens)
    reserved = pl.Series(sorted(planted_plates() | _hotlist_plates(seed)), dtype=pl.String)
    keep &= ~plates.is_in(reserved.implode()).to_numpy()
    # trim each class to its size
    for k, kname in enumerate(KINDS):
        rows = np.flatnonzero(keep & (kind == k))
        keep[rows[sizes[kname]:]] = False
    idx = np.flatnonzero(keep)
    mat, lens, fmt, kind = mat[idx], lens[idx], fmt[idx], kind[idx]
    plates = plates.gather(idx)
    region = pl.Series("region", [f[0] for f in FORMATS]).gather(fmt)

    cams = cameras(seed, n_cameras).filter(pl.col("kind") == "fixed")
    lat, lon = cams["lat"].to_numpy(), cams["lon"].to_numpy()
    nbr = _neighbours(lat, lon, 3)
    ramps = np.flatnonzero(np.array([any(w in n for w in _RAMP_WORDS) for n in cams["name"]]))
    n = idx.size
    nf = lat.size
    nbr = nbr.astype(np.int16)
    ramps = ramps.astype(np.int16)
    home = rng.integers(0, nf, n, dtype=np.int16)
    sets = np.empty((n, 4), np.int16)
    sets[:, 0] = home
    sets[:, 1] = nbr[home, 0]
    r1 = ramps[rng.integers(0, ramps.size, n, dtype=np.int16)]
    r2 = ramps[rng.integers(0, ramps.size, n, dtype=np.int16)]
    commuter, resident = kind == 0, kind == 1
    sets[:, 2] = np.where(commuter, r1, np.where(resident, nbr[home, 1], rng.integers(0, nf, n, dtype=np.int16)))
    sets[:, 3] = np.where(commuter, r2, np.where(resident, nbr[home, 2], rng.integers(0, nf, n, dtype=np.int16)))
    through = kind == 3
    sets[through, 0] = r1[through]
    sets[through, 1] = r2[through]
    del home, r1, r2
    start = np.searchsorted(kind, np.arange(4))
    size = np.bincount(kind, minlength=4)
    return Population(plates, mat, lens, region, kind, sets, start, size)


def population(seed: int = 462, n_reads: int = 300_000, n_cameras: int | None = None) -> pl.DataFrame:
    """The vehicles behind a run: ``plate``, ``region``, ``kind``, ``home_camera_id`` (for tests and teaching)."""
    p = build_population(seed, n_reads, n_cameras)
    cam_ids = cameras(seed, n_cameras).filter(pl.col("kind") == "fixed")["camera_id"]
    return pl.DataFrame({
        "plate": p.plates,
        "region": p.region,
        "kind": pl.Series(KINDS).gather(p.kind.astype(np.int64)),
        "home_camera_id": cam_ids.gather(p.cam_sets[:, 0].astype(np.int64)),
    })


def _hotlist_plates(seed: int) -> frozenset[str]:
    from alpr_lib.samples.records import hotlists

    return frozenset(hotlists(seed)["plate"].to_list())
