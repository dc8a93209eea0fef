"""Benchmark: canvass, multi-scene and convoy through the audited Session vs a plain Polars and DuckDB scan.

    python bench/bench_geo.py --reads 10_000_000 --store /tmp/alpr-bench-10m
    python bench/bench_geo.py --reads 100_000_000 --store /tmp/alpr-bench-100m   # ~2.5 GB, a few minutes

The store is built once (synthetic Milpitas sample, ~400 cameras, one year, planted scenarios included)
through the real ingest path and reused on later runs. Each query is timed warm (best of ``--repeat``):
the Session figure includes the policy checks and the audit write. The Polars and DuckDB baselines answer
the same question by scanning every read file with no day pruning or plate index, which is what an
analyst's ad-hoc query over the Parquet files would do.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PURPOSE = "criminal investigation"
ADMIN_PW = "Bench-chief-pass-01"
ANALYST_PW = "Bench-crime-pass-02"
R = 6_371_008.8


def build(store: Path, n_reads: int, seed: int, n_cameras: int) -> None:
    import alpr_lib as alpr
    from alpr_lib.bootstrap import init_store
    from alpr_lib.samples import iter_reads

    init_store(
        store,
        admin_username="admin",
        admin_password=ADMIN_PW,
        full_name="Bench Admin",
        title="Admin",
        organisation="Bench PD",
        synthetic=True,
    ).close()
    admin = alpr.login("admin", ADMIN_PW, store)
    admin.add_user(
        "svc",
        full_name="Ingest",
        title="Service",
        organisation="Bench PD",
        roles=["service"],
        password=ADMIN_PW,
        member_type="service",
    )
    admin.add_user(
        "analyst",
        full_name="Analyst",
        title="Analyst",
        organisation="Bench PD",
        roles=["analyst"],
        password=ANALYST_PW,
        must_change_password=False,
    )
    admin.certify("analyst")
    svc = alpr.login("svc", ADMIN_PW, store)
    days = min(365, (datetime.now(UTC).date() - date(2025, 12, 1)).days - 1)
    t0, total = time.perf_counter(), 0
    for chunk in iter_reads(
        seed=seed,
        n_reads=n_reads,
        start=date(2025, 12, 1),
        days=days,
        n_cameras=n_cameras,
        chunk_rows=5_000_000,
        progress=True,
    ):
        total += svc.ingest_reads(chunk, progress=False).ingested
    print(f"built {total:,} reads in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def hav_expr(lat: float, lon: float) -> pl.Expr:
    import math

    p1 = math.radians(lat)
    dphi = pl.col("lat").radians() - p1
    dl = (pl.col("lon") - lon).radians()
    a = (dphi / 2).sin() ** 2 + math.cos(p1) * pl.col("lat").radians().cos() * (dl / 2).sin() ** 2
    return 2 * R * a.sqrt().arcsin()


def hav_sql(lat: float, lon: float) -> str:
    return (
        f"2*{R}*asin(sqrt(pow(sin((radians(lat)-radians({lat}))/2),2) + cos(radians({lat}))*cos(radians(lat))"
        f"*pow(sin((radians(lon)-radians({lon}))/2),2)))"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reads", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--store", type=Path, default=Path("/tmp/alpr-bench"))
    ap.add_argument("--cameras", type=int, default=400)
    ap.add_argument("--seed", type=int, default=462)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = ap.parse_args()
    secrets = args.store.parent / f"{args.store.name}-secrets"
    os.environ.setdefault("ALPR_KEY_DIR", str(secrets / "keys"))
    os.environ.setdefault("ALPR_CHECKPOINT_DIR", str(secrets / "checkpoints"))
    if not (args.store / "store.toml").exists():
        build(args.store, args.reads, args.seed, args.cameras)

    import duckdb

    import alpr_lib as alpr
    from alpr_lib.samples import planted_scenarios

    key = planted_scenarios(args.seed)
    inc = {i["case_number"]: i for i in key["incidents"]}
    s = alpr.login("analyst", ANALYST_PW, args.store)
    summary = s.store_summary()
    files = str(args.store / "reads" / "*" / "*.parquet")
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    rows: list[dict[str, object]] = []

    def record(query: str, how: str, seconds: float, result: int) -> None:
        rows.append({"query": query, "how": how, "seconds": round(seconds, 4), "rows": result})
        print(f"{query:<38} {how:<24} {seconds * 1000:9.1f} ms   {result} rows", file=sys.stderr)

    def made(case: str):
        i = inc[case]
        return s.create_incident(
            case,
            i["offense_type"],
            i["occurred_start"],
            occurred_end=i["occurred_end"],
            lat=i["lat"],
            lon=i["lon"],
            exist_ok=True,
        )

    # 1. canvass of one incident ------------------------------------------------------------------------
    c = key["canvass"]
    shooting = made(c["case_number"])
    lo = shooting.occurred_start - timedelta(minutes=c["before_min"])
    hi = shooting.occurred_end + timedelta(minutes=c["after_min"])
    sec, out = best(
        lambda: s.canvass(
            shooting, c["radius_m"], c["before_min"], c["after_min"], purpose=PURPOSE, case_number=c["case_number"]
        ),
        args.repeat,
    )
    record("canvass 1 incident (300 m, ±30 min)", "Session.canvass", sec, len(out))
    sec, out = best(
        lambda: (
            pl.scan_parquet(files)
            .filter(pl.col("captured_at").is_between(lo, hi), hav_expr(shooting.lat, shooting.lon) <= c["radius_m"])
            .collect()
        ),
        args.repeat,
    )
    record("canvass 1 incident (300 m, ±30 min)", "Polars full scan", sec, out.height)
    q = (
        f"SELECT * FROM read_parquet('{files}') WHERE captured_at BETWEEN '{lo.isoformat()}' AND '{hi.isoformat()}'"
        f" AND {hav_sql(shooting.lat, shooting.lon)} <= {c['radius_m']}"
    )
    sec, out = best(lambda: con.execute(q).fetchall(), args.repeat)
    record("canvass 1 incident (300 m, ±30 min)", "DuckDB full scan", sec, len(out))

    # 2. multi-scene of 3 incidents ---------------------------------------------------------------------
    ms = key["multi_scene"]
    three = [made(n) for n in ms["case_numbers"]]
    sec, out = best(
        lambda: s.multi_scene(
            three,
            ms["radius_m"],
            ms["before_min"],
            ms["after_min"],
            purpose=PURPOSE,
            case_number=ms["case_numbers"][0],
            group_confusions=True,
        ),
        args.repeat,
    )
    record("multi-scene 3 incidents (k=2)", "Session.multi_scene", sec, len(out))

    def polars_multi() -> pl.DataFrame:
        parts = [
            pl.scan_parquet(files)
            .filter(
                pl.col("captured_at").is_between(
                    i.occurred_start - timedelta(minutes=30), i.occurred_end + timedelta(minutes=30)
                ),
                hav_expr(i.lat, i.lon) <= 300,
            )
            .select("plate", pl.lit(k).alias("scene"))
            for k, i in enumerate(three)
        ]
        return (
            pl.concat(parts)
            .group_by("plate")
            .agg(pl.col("scene").n_unique().alias("n"))
            .filter(pl.col("n") >= 2)
            .collect()
        )

    sec, out = best(polars_multi, args.repeat)
    record("multi-scene 3 incidents (k=2)", "Polars full scan", sec, out.height)
    union = " UNION ALL ".join(
        f"SELECT plate, {k} AS scene FROM read_parquet('{files}') WHERE captured_at BETWEEN "
        f"'{(i.occurred_start - timedelta(minutes=30)).isoformat()}' AND "
        f"'{(i.occurred_end + timedelta(minutes=30)).isoformat()}' AND {hav_sql(i.lat, i.lon)} <= 300"
        for k, i in enumerate(three)
    )
    q = f"SELECT plate, count(DISTINCT scene) n FROM ({union}) GROUP BY plate HAVING n >= 2"
    sec, out = best(lambda: con.execute(q).fetchall(), args.repeat)
    record("multi-scene 3 incidents (k=2)", "DuckDB full scan", sec, len(out))

    # 3. convoy of one plate over the year --------------------------------------------------------------
    cv = key["convoy"]
    sec, out = best(
        lambda: s.convoy(
            cv["plate"],
            purpose=PURPOSE,
            case_number=cv["case_number"],
            offense_type=cv["offense_type"],
            gap_s=cv["gap_s"],
            min_co_occurrences=2,
        ),
        max(1, args.repeat // 2),
    )
    record("convoy 1 plate, 1 year (60 s)", "Session.convoy", sec, len(out))

    def polars_convoy() -> pl.DataFrame:
        scan = pl.scan_parquet(files).select("plate", "camera_id", "captured_at", "read_id")
        tgt = scan.filter(pl.col("plate") == cv["plate"]).select(
            "camera_id", pl.col("captured_at").alias("t"), pl.col("read_id").alias("tid")
        )
        return (
            scan.filter(pl.col("plate") != cv["plate"])
            .join(tgt, on="camera_id")
            .filter((pl.col("captured_at") - pl.col("t")).abs() <= timedelta(seconds=cv["gap_s"]))
            .group_by("plate")
            .agg(pl.col("tid").n_unique().alias("n"))
            .filter(pl.col("n") >= 2)
            .collect()
        )

    sec, out = best(polars_convoy, max(1, args.repeat // 2))
    record("convoy 1 plate, 1 year (60 s)", "Polars full scan", sec, out.height)
    q = (
        f"WITH r AS (SELECT plate, camera_id, captured_at, read_id FROM read_parquet('{files}')), "
        f"t AS (SELECT camera_id, captured_at AS t, read_id AS tid FROM r WHERE plate = '{cv['plate']}') "
        f"SELECT r.plate, count(DISTINCT tid) n FROM r JOIN t ON r.camera_id = t.camera_id "
        f"AND r.captured_at BETWEEN t.t - INTERVAL {cv['gap_s']} SECOND AND t.t + INTERVAL {cv['gap_s']} SECOND "
        f"WHERE r.plate <> '{cv['plate']}' GROUP BY r.plate HAVING n >= 2"
    )
    sec, out = best(lambda: con.execute(q).fetchall(), max(1, args.repeat // 2))
    record("convoy 1 plate, 1 year (60 s)", "DuckDB full scan", sec, len(out))

    meta = {
        "reads": summary["reads"],
        "files": summary["files"],
        "cpus": os.cpu_count(),
        "polars": pl.__version__,
        "duckdb": duckdb.__version__,
        "repeat": args.repeat,
    }
    print(f"\n{meta['reads']:,} reads in {meta['files']} files; {meta['cpus']} CPUs; best of {args.repeat}\n")
    print("| query | Session (pruned, audited) | Polars full scan | DuckDB full scan |\n|---|---|---|---|")
    for query in dict.fromkeys(r["query"] for r in rows):
        cells = [f"{r['seconds']:.3f} s ({r['rows']})" for r in rows if r["query"] == query]
        print(f"| {query} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
