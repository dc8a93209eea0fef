"""Deterministic synthetic plate reads around Milpitas, CA, from a few thousand to 100 million.

Everything per read is done with numpy arrays and polars column operations (no Python loop per read), in
chunks that each cover a contiguous range of local days, so 100M reads stream through in bounded memory and
land in few day partitions per chunk. The planted scenarios (``planted.py``) are added to the chunk that holds
their day, with the same plates, places and times for every size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from alpr_lib.errors import ValidationError
from alpr_lib.samples._localtime import DAY_US, TZ_NAME, day_start_local_us, local_to_utc_us
from alpr_lib.samples.milpitas import road_edges, roads_gdf
from alpr_lib.samples.planted import answer_key, planted_reads
from alpr_lib.samples.plates import misread, strings_from_matrix
from alpr_lib.samples.population import Population, build_population, cameras
from alpr_lib.samples.records import hotlists, incidents

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["OCR_ERROR_RATE", "SampleData", "generate_sample", "iter_reads", "planted_scenarios"]

#: Share of reads with an OCR error (confusable substitution, dropped or added character).
OCR_ERROR_RATE = 0.03
#: Share of reads taken by patrol-car cameras.
PATROL_SHARE = 0.10
#: Read share per vehicle class (commuter, resident, commercial, through).
CLASS_READ_SHARE = np.array([0.40, 0.30, 0.12, 0.18])
_CLASS_CUM = np.cumsum(CLASS_READ_SHARE)[:-1]
#: Relative daily volume on weekdays / weekend days per class.
_WEEKDAY_W = np.array([1.0, 1.0, 1.0, 1.0])
_WEEKEND_W = np.array([0.3, 1.1, 0.25, 1.2])
_H = 3600.0


def planted_scenarios(seed: int = 462) -> dict[str, Any]:
    """The answer key of the planted scenarios (JSON-serialisable), without generating any reads."""
    return answer_key(seed)


def _read_ids(seed: int, first: int, k: int) -> pl.Series:
    """``S{seed}-{n:011d}`` for n in [first, first + k), built as bytes (string formatting is too slow).

    Ids in a chunk are consecutive, so the last four digits cycle through a 10,000-row table and the
    higher digits change once per 10,000 rows: the matrix is filled with ``tile``/``repeat`` copies.
    """
    prefix = np.frombuffer(f"S{seed}-".encode(), np.uint8)
    p = prefix.size
    g0, g1 = first // 10_000, (first + k - 1) // 10_000 + 1
    groups = np.arange(g0, g1, dtype=np.int64)
    out = np.empty(((g1 - g0) * 10_000, p + 11), np.uint8)
    out[:, :p] = prefix
    out[:, p:p + 3] = np.repeat(_T4[(groups // 10_000) % 1000, 1:], 10_000, axis=0)
    out[:, p + 3:p + 7] = np.repeat(_T4[groups % 10_000], 10_000, axis=0)
    out[:, p + 7:] = np.tile(_T4, (g1 - g0, 1))
    off = first - g0 * 10_000
    return strings_from_matrix(out[off:off + k], np.full(k, p + 11), "read_id")


_T4 = np.frombuffer("".join(f"{i:04d}" for i in range(10_000)).encode(), np.uint8).reshape(10_000, 4)

# Time-of-day modes: (is_uniform, a, b) -- normal(mean=a, sd=b) or uniform(a, b), in local hours.
_MODES = np.array([
    (0, 7.6, 0.55),  # 0 commuter weekday, morning peak
    (0, 17.4, 0.75),  # 1 commuter weekday, evening peak
    (1, 9.0, 21.0),  # 2 commuter weekday, other trips
    (0, 13.5, 3.2),  # 3 residents, and commuters at the weekend: daytime errands
    (1, 6.5, 18.0),  # 4 commercial fleets: working hours
    (0, 14.0, 4.5),  # 5 through traffic, busier in the afternoon
    (1, 0.0, 24.0),  # 6 through traffic at any hour
])
_MODE_UNIFORM = _MODES[:, 0] > 0
_MODE_A = _MODES[:, 1].astype(np.float32)
# normal: a + sd * z; uniform: a + (b - a) * u
_MODE_SCALE = np.where(_MODE_UNIFORM, _MODES[:, 2] - _MODES[:, 1], _MODES[:, 2]).astype(np.float32)


def _tod_seconds(rng: np.random.Generator, kind: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Local time of day (seconds) by vehicle class and day type: the routines, as table look-ups."""
    k = kind.size
    u = rng.random(k, dtype=np.float32)
    commuter_mode = np.where(u < 0.45, 0, np.where(u < 0.90, 1, 2))
    through_mode = np.where(u < 0.70, 5, 6)
    mode = np.choose(kind, [np.where(weekend, 3, commuter_mode), 3, 4, through_mode]).astype(np.int8)
    uni = _MODE_UNIFORM[mode]
    z = np.where(uni, rng.random(k, dtype=np.float32), rng.standard_normal(k, dtype=np.float32))
    h = _MODE_A[mode] + _MODE_SCALE[mode] * z
    return np.mod(h, np.float32(24.0)) * np.float32(_H)


@dataclass(frozen=True)
class _Ctx:
    seed: int
    start: date
    days: int
    pop: Population
    n_fixed: int
    cam_lat: np.ndarray
    cam_lon: np.ndarray
    cam_heading: np.ndarray
    cam_ids: pl.Series
    cam_units: pl.Series
    cam_sources: pl.Series
    patrol_idx: np.ndarray  # indices into the camera table
    weekday0: int  # weekday of ``start``
    years: tuple[int, int]
    edges: dict[str, np.ndarray]


def _context(seed: int, n_reads: int, start: date, days: int, n_cameras: int | None) -> _Ctx:
    cams = cameras(seed, n_cameras)
    fixed = (cams["kind"] == "fixed").to_numpy()
    heading = cams["direction"].replace_strict({"NB": 0.0, "EB": 90.0, "SB": 180.0, "WB": 270.0},
                                               default=None, return_dtype=pl.Float64)
    e = road_edges()
    w = e["length_m"].to_numpy()
    edges = {c: e[c].to_numpy() for c in ("from_lat", "from_lon", "to_lat", "to_lon", "bearing_deg")}
    edges["cum"] = np.cumsum(w) / w.sum()
    end_year = date.fromordinal(start.toordinal() + days + 1).year
    return _Ctx(
        seed=seed, start=start, days=days, pop=build_population(seed, n_reads, n_cameras),
        n_fixed=int(fixed.sum()),
        cam_lat=cams["lat"].fill_null(0.0).to_numpy(), cam_lon=cams["lon"].fill_null(0.0).to_numpy(),
        cam_heading=heading.fill_null(0.0).to_numpy(),
        cam_ids=cams["camera_id"], cam_units=cams["unit"],
        cam_sources=pl.Series(np.where(fixed, "MPD-FIXED", "MPD-MOBILE")),
        patrol_idx=np.flatnonzero(~fixed), weekday0=start.weekday(),
        years=(start.year, end_year + 1), edges=edges,
    )


def _pick_days(rng: np.random.Generator, kind: np.ndarray, d0: int, d1: int, weekday0: int) -> np.ndarray:
    """Day index per read in [d0, d1), weighted by class (commuters and fleets are quieter at weekends)."""
    days = np.arange(d0, d1)
    weekend = ((weekday0 + days) % 7) >= 5
    wk, we = days[~weekend], days[weekend]
    if wk.size == 0 or we.size == 0:  # a chunk of only weekdays or only weekend days
        return days[(rng.random(kind.size) * days.size).astype(np.int64)]
    p_we = _WEEKEND_W * we.size / (_WEEKEND_W * we.size + _WEEKDAY_W * wk.size)
    on_we = rng.random(kind.size, dtype=np.float32) < p_we[kind]
    u = rng.random(kind.size)
    return np.where(on_we, we[(u * we.size).astype(np.int64)], wk[(u * wk.size).astype(np.int64)])


def _background(ctx: _Ctx, rng: np.random.Generator, first_id: int, k: int, d0: int, d1: int) -> pl.DataFrame:
    pop = ctx.pop
    kp = round(k * PATROL_SHARE)
    kf = k - kp

    # --- fixed-camera reads: vehicle, day, time, camera from the vehicle's routine -----------------------
    u = rng.random(kf, dtype=np.float32)
    kind = np.zeros(kf, np.int8)
    for c in _CLASS_CUM:
        kind += u >= c
    # within a class some vehicles are out far more than others (u**1.5 skews towards low rows)
    u = rng.random(kf)
    vid = pop.class_start[kind] + (u * np.sqrt(u) * pop.class_size[kind]).astype(np.int64)
    day_f = _pick_days(rng, kind, d0, d1, ctx.weekday0)
    weekend = ((ctx.weekday0 + day_f) % 7) >= 5
    tod_f = _tod_seconds(rng, kind, weekend)
    cam_f = pop.cam_sets[vid, rng.integers(0, 4, kf, dtype=np.int8)].astype(np.int64)
    lat_f = ctx.cam_lat[cam_f] + rng.standard_normal(kf, dtype=np.float32) * 0.00003
    lon_f = ctx.cam_lon[cam_f] + rng.standard_normal(kf, dtype=np.float32) * 0.00003
    head_f = np.mod(ctx.cam_heading[cam_f] + rng.standard_normal(kf, dtype=np.float32) * 4.0, 360.0)

    # --- patrol reads: cars on shift driving the street network, reading parked and passing cars ------------
    unit = rng.integers(0, ctx.patrol_idx.size, kp)
    cam_p = ctx.patrol_idx[unit]
    day_p = rng.integers(d0, d1, kp)
    night = (unit % 2) == 1  # even-numbered cars work nights (18:00-06:00), odd ones days (06:00-18:00)
    # a night shift runs 18:00-06:00; its after-midnight hours are folded into the same local day
    tod_p = np.mod(np.where(night, 18.0, 6.0) + rng.uniform(0.0, 12.0, kp), 24.0) * _H
    vid_p = rng.integers(0, pop.class_start[3], kp)  # local vehicles (parked near home or work)
    e = ctx.edges
    edge = np.minimum(np.searchsorted(e["cum"], rng.random(kp), side="right"), e["cum"].size - 1)
    frac = rng.random(kp)
    lat_p = e["from_lat"][edge] + frac * (e["to_lat"][edge] - e["from_lat"][edge]) + rng.normal(0, 0.00004, kp)
    lon_p = e["from_lon"][edge] + frac * (e["to_lon"][edge] - e["from_lon"][edge]) + rng.normal(0, 0.00004, kp)
    head_p = np.mod(e["bearing_deg"][edge] + 180.0 * rng.integers(0, 2, kp), 360.0)

    vid = np.concatenate([vid, vid_p])
    cam = np.concatenate([cam_f, cam_p])
    day = np.concatenate([day_f, day_p])
    tod = np.concatenate([tod_f, tod_p])
    local_us = day_start_local_us(ctx.start) + day * DAY_US + (tod * 1000).astype(np.int64) * 1000
    utc_us = local_to_utc_us(local_us, *ctx.years)

    # --- plates, OCR errors and raw text ------------------------------------------------------------------
    plate = pop.plates.gather(vid)
    err = np.flatnonzero(rng.random(k) < OCR_ERROR_RATE)
    if err.size:
        m2, l2 = misread(rng, pop.mat[vid[err]], pop.lens[vid[err]])
        plate = plate.scatter(err, strings_from_matrix(m2, l2))
    raw = plate.clone()
    fancy = np.flatnonzero(rng.random(k) < 0.05)  # the OCR kept a space or dash from the plate's spacing
    if fancy.size:
        sub = plate.gather(fancy).to_frame("p")
        cut = (pl.col("p").str.len_chars() - 3).clip(1)  # "7ABC 123", "ABC-1234", "123 ABC"
        sep = pl.Series(np.where(rng.random(fancy.size) < 0.6, " ", "-"))
        sub = sub.select(pl.col("p").str.slice(0, cut) + sep + pl.col("p").str.slice(cut))
        raw = raw.scatter(fancy, sub.to_series())
    conf = np.clip(99.6 - rng.standard_exponential(k, dtype=np.float32) * 4.5, 62.0, 99.9)
    if err.size:
        conf[err] = rng.uniform(51.0, 84.0, err.size)

    image_ref = pl.repeat(None, k, dtype=pl.String, eager=True).alias("image_ref")
    read_id = _read_ids(ctx.seed, first_id, k)
    with_img = np.flatnonzero(rng.random(k, dtype=np.float32) < 0.1)
    if with_img.size:
        refs = pl.select(pl.format("alpr-images/{}.jpg", read_id.gather(with_img))).to_series()
        image_ref = image_ref.scatter(with_img, refs)

    return pl.DataFrame({
        "read_id": read_id,
        "plate": plate,
        "plate_raw": raw,
        "plate_confidence": np.round(conf, 1).astype(np.float32),
        "region": pop.region.gather(vid),
        "captured_at": pl.Series(utc_us).cast(pl.Datetime("us", "UTC")),
        "camera_id": ctx.cam_ids.gather(cam),
        "unit": ctx.cam_units.gather(cam),
        "source": ctx.cam_sources.gather(cam),
        "lat": np.concatenate([lat_f, lat_p]),
        "lon": np.concatenate([lon_f, lon_p]),
        "heading": np.concatenate([head_f, head_p]).astype(np.float32),
        "image_ref": image_ref,
    })


def _chunk_plan(n_bg: int, days: int, chunk_rows: int) -> list[tuple[int, int, int, int]]:
    """(first background id, rows, first day, end day) per chunk: contiguous day ranges, even row split."""
    nc = max(1, math.ceil(n_bg / chunk_rows))
    plan = []
    for c in range(nc):
        a, b = n_bg * c // nc, n_bg * (c + 1) // nc
        d0 = min(days * c // nc, days - 1)
        d1 = max(days * (c + 1) // nc, d0 + 1)
        plan.append((a, b - a, d0, d1))
    return plan


#: Rows generated per internal block (memory of the numpy temporaries scales with it, not with chunk_rows).
_BLOCK_ROWS = 500_000


def _blocks(rows: int) -> list[tuple[int, int]]:
    nb = math.ceil(rows / _BLOCK_ROWS)
    return [(rows * j // nb, rows * (j + 1) // nb) for j in range(nb)]


def iter_reads(
    seed: int = 462,
    n_reads: int = 300_000,
    start: date = date(2025, 12, 1),
    days: int = 365,
    chunk_rows: int = 2_000_000,
    n_cameras: int | None = None,
    progress: bool = False,
) -> Iterator[pl.DataFrame]:
    """Yield reads (exactly ``READ_SCHEMA``) in chunks of about ``chunk_rows``, ``n_reads`` in total.

    Deterministic for the same arguments. Chunk ``i`` covers a contiguous range of local days (rows are not
    sorted inside it). Background read ids are ``S{seed}-{n:011d}``; the planted scenario reads (ids
    ``S{seed}-P{n:06d}``, fixed times in 2025-12..2026-11) are always included, each in the chunk whose
    day range holds it (the first or last chunk if the run's dates do not cover it).
    """
    if n_reads < 0 or chunk_rows <= 0 or days <= 0:
        raise ValidationError(f"need n_reads >= 0, chunk_rows > 0 and days > 0 (got {n_reads}, {chunk_rows}, {days})")
    planted = planted_reads(seed).drop("tag")
    local_day = planted.select(
        (pl.col("captured_at").dt.convert_time_zone(TZ_NAME).dt.date() - pl.lit(start)).dt.total_days()
    ).to_series().to_numpy()
    n_bg = max(0, n_reads - planted.height)
    plan = _chunk_plan(n_bg, days, chunk_rows)
    ctx = _context(seed, n_reads, start, days, n_cameras)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_reads, unit="reads", desc="generating reads")
    for c, (first, rows, d0, d1) in enumerate(plan):
        lo = -(10**9) if c == 0 else d0
        hi = 10**9 if c == len(plan) - 1 else d1
        mine = planted.filter((local_day >= lo) & (local_day < hi))
        # built in sub-blocks so that the numpy temporaries stay small whatever chunk_rows is
        parts = [
            _background(ctx, np.random.default_rng([seed, 2001, c, len(plan), j]), first + a, b - a, d0, d1)
            for j, (a, b) in enumerate(_blocks(rows))
        ]
        out = pl.concat([*parts, mine]) if parts or mine.height else planted.clear()
        if bar is not None:
            bar.update(out.height)
        yield out
    if bar is not None:
        bar.close()


@dataclass(frozen=True)
class SampleData:
    """A complete small sample: reads, the camera registry, incidents, hotlists, roads and the answer key."""

    reads: pl.DataFrame
    cameras: pl.DataFrame
    incidents: pl.DataFrame
    hotlists: pl.DataFrame
    roads: gpd.GeoDataFrame  # LineStrings, EPSG:4326
    scenarios: dict[str, Any]


def generate_sample(
    seed: int = 462,
    n_reads: int = 300_000,
    start: date = date(2025, 12, 1),
    days: int = 365,
    n_cameras: int | None = None,
    progress: bool = False,
) -> SampleData:
    """Everything for a demo store in one call (about a second at the default size); reads sorted by time.

    For large ``n_reads`` stream :func:`iter_reads` into the store instead: this holds every read in memory.
    """
    chunks = iter_reads(seed, n_reads, start, days, n_cameras=n_cameras, progress=progress)
    reads = pl.concat(list(chunks)).sort("captured_at", "read_id")
    return SampleData(
        reads=reads,
        cameras=cameras(seed, n_cameras),
        incidents=incidents(seed, start, days),
        hotlists=hotlists(seed),
        roads=roads_gdf(),
        scenarios=planted_scenarios(seed),
    )

