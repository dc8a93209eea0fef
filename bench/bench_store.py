"""Benchmark of the read store: ingest, partial-plate / confusion search and plate history.

Run by hand (never in CI); results go into docs/benchmarks.md. Builds a store of N generated reads
(one year, ~400 cameras) through the real audited API, then times each query through the Session (audit write
included) and the same query as a plain full scan by Polars and by DuckDB. Building (generator included),
compaction and the queries each run in a process of their own and report that process's peak memory.

    .venv/bin/python bench/bench_store.py --reads 10_000_000 --dir /tmp/bench-10m
    .venv/bin/python bench/bench_store.py --reads 100_000_000 --dir /tmp/bench-100m
    .venv/bin/python bench/bench_store.py --reads 10_000_000 --dir /tmp/bench-10m-pg --records-url postgresql://...
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

PW = {"admin": "Bench-chief-pass-1", "analyst": "Bench-crime-pass-2", "svc": "Bench-feed-pass-3"}


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def peak_mb() -> int:
    """This process's peak resident memory so far, in MB (each phase runs in a process of its own)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def build(store_dir: Path, n_reads: int, seed: int, records_url: str | None = None) -> dict:
    import alpr_lib as alpr
    from alpr_lib import samples
    from alpr_lib.bootstrap import init_store

    init_store(store_dir, admin_username="admin", admin_password=PW["admin"], full_name="Bench Admin",
               title="ALPR Administrator", organisation="Bench PD", synthetic=True, records_url=records_url).close()
    admin = alpr.login("admin", PW["admin"], store_dir)
    admin.add_user("analyst", full_name="Bench Analyst", title="Analyst", organisation="Bench PD", roles=["analyst"],
                   password=PW["analyst"], must_change_password=False)
    admin.add_user("svc", full_name="Bench ingest", title="Service", organisation="Bench PD", roles=["service"],
                   password=PW["svc"], member_type="service")
    admin.certify("admin")
    admin.certify("analyst")
    svc = alpr.login("svc", PW["svc"], store_dir)
    gen_s = ingest_s = 0.0
    rows = 0
    per_batch: list[float] = []
    chunks = samples.iter_reads(seed=seed, n_reads=n_reads, n_cameras=400, chunk_rows=2_000_000)
    while True:
        t0 = time.perf_counter()
        chunk = next(chunks, None)
        gen_s += time.perf_counter() - t0
        if chunk is None:
            break
        t0 = time.perf_counter()
        batch = svc.ingest_reads(chunk, progress=False).ingested
        per_batch.append(time.perf_counter() - t0)
        rows += batch
        ingest_s += per_batch[-1]
        print(f"  ingested {rows:,} reads; this batch {batch / per_batch[-1]:,.0f} reads/s, "
              f"overall {rows / ingest_s:,.0f} reads/s", flush=True)
    ingest_peak = peak_mb()  # the generator's population and its current batch included
    before = {}  # searches straight after the bulk load: many small files, dictionary deltas not yet folded
    analyst = alpr.login("analyst", PW["analyst"], store_dir)
    purpose = {"purpose": "criminal investigation", "case_number": "26-005120"}
    for name, pattern in (("leading wildcard *K123", "*K123"), ("partial 7AB?12*", "7AB?12*")):
        analyst.search_plates(pattern, **purpose)
        before[name] = round(timed(lambda p=pattern: analyst.search_plates(p, **purpose))[0], 4)
    print(f"  before compaction: {before}", flush=True)
    last = sorted(per_batch[-10:])
    return {"reads": rows, "generate_s": round(gen_s, 1), "ingest_s": round(ingest_s, 1),
            "ingest_reads_per_s": round(rows / ingest_s), "batch_s_median_last_10": round(last[len(last) // 2], 2),
            "searches_before_compaction_s": before, "peak_mb": ingest_peak}


def compact(store_dir: Path) -> dict:
    """``alpr compact`` after the bulk load, as the nightly job would run it."""
    import alpr_lib as alpr

    admin = alpr.login("admin", PW["admin"], store_dir)
    t0 = time.perf_counter()
    merged = admin.compact_store(progress=False)
    return {"s": round(time.perf_counter() - t0, 1), **merged, "peak_mb": peak_mb()}


def queries(store_dir: Path) -> dict:
    import duckdb

    import alpr_lib as alpr
    from alpr_lib.search.patterns import parse_pattern

    s = alpr.login("analyst", PW["analyst"], store_dir)
    purpose = {"purpose": "criminal investigation", "case_number": "26-005120"}
    t0 = time.perf_counter()
    busiest = s.search_plates("*K123", **purpose)  # first query in a fresh process: dictionary + footers cold
    cold_s = time.perf_counter() - t0
    cases = {
        "partial 7AB?12* (confusion-tolerant)": lambda: s.search_plates("7AB?12*", **purpose),
        "partial 7AB?12* exact": lambda: s.search_plates("7AB?12*", **purpose, exact=True),
        "leading wildcard *K123": lambda: s.search_plates("*K123", **purpose),
        "confusion 8MKT4I7": lambda: s.search_plates("8MKT4I7", **purpose),
        "partial, one month 7AB?12*": lambda: s.search_plates("7AB?12*", **purpose, start="2026-06-01",
                                                              end="2026-06-30"),
        "plate history 7ABK123": lambda: s.plate_history("7ABK123", **purpose),
    }
    out = {"first query in a fresh process (*K123, cold caches)": {"s": round(cold_s, 3), "rows": busiest.height}}
    print(f"  first query, cold caches: {cold_s:.3f} s", flush=True)
    for name, fn in cases.items():
        seconds, frame = timed(fn)
        out[name] = {"s": round(seconds, 4), "rows": frame.height}
        print(f"  {name}: {seconds:.4f} s ({frame.height} rows)", flush=True)
    glob = str(store_dir / "reads" / "*" / "*.parquet")
    regex = parse_pattern("7AB?12*").regex(confusions=True)
    polars_s, frame = timed(lambda: pl.scan_parquet(glob, hive_partitioning=True)
                            .filter(pl.col("plate").str.contains(regex)).collect(), repeat=3)
    out["baseline polars full scan 7AB?12* (confusion)"] = {"s": round(polars_s, 3), "rows": frame.height}
    con = duckdb.connect()
    duck_s, count = timed(lambda: con.execute(
        f"SELECT * FROM read_parquet('{glob}', hive_partitioning=1) WHERE regexp_full_match(plate, ?)",
        [regex.strip("^$")]).fetchall(), repeat=3)
    out["baseline duckdb full scan 7AB?12* (confusion)"] = {"s": round(duck_s, 3), "rows": len(count)}
    polars_h, frame = timed(lambda: pl.scan_parquet(glob).filter(pl.col("plate") == "7ABK123").collect(), repeat=3)
    out["baseline polars plate history"] = {"s": round(polars_h, 3), "rows": frame.height}
    duck_h, rows = timed(lambda: con.execute(f"SELECT * FROM read_parquet('{glob}') WHERE plate = '7ABK123'")
                         .fetchall(), repeat=3)
    out["baseline duckdb plate history"] = {"s": round(duck_h, 3), "rows": len(rows)}
    for key in [k for k in out if k.startswith("baseline")]:
        print(f"  {key}: {out[key]['s']} s ({out[key]['rows']} rows)", flush=True)
    del busiest
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=lambda v: int(v.replace("_", "")), default=10_000_000)
    parser.add_argument("--dir", type=Path, required=True, help="Work directory (store + keys); reused if built")
    parser.add_argument("--seed", type=int, default=462)
    parser.add_argument("--records-url", help="Keep the records database in this (empty) PostgreSQL database")
    parser.add_argument("--json", type=Path, help="Write the results as JSON here")
    parser.add_argument("--phase", choices=["build", "compact", "queries"],
                        help="Run one phase in this process (by default each runs in a process of its own, so "
                             "that each reports its own peak memory)")
    args = parser.parse_args()
    os.environ.setdefault("ALPR_KEY_DIR", str(args.dir / "keys"))
    os.environ.setdefault("ALPR_CHECKPOINT_DIR", str(args.dir / "checkpoints"))
    store_dir = args.dir / "store"
    if args.phase is not None:
        phase = {"build": lambda: build(store_dir, args.reads, args.seed, args.records_url),
                 "compact": lambda: compact(store_dir),
                 "queries": lambda: {**queries(store_dir), "peak_mb": peak_mb()}}[args.phase]
        out = json.dumps(phase())
        args.json.write_text(out) if args.json else print(out)
        return
    result: dict = {"n_reads": args.reads}
    phases = ["queries"]
    if not (store_dir / "store.toml").exists():
        print(f"building a store of {args.reads:,} reads in {store_dir}", flush=True)
        phases = ["build", "compact", "queries"]
    for phase in phases:
        out = args.dir / f".{phase}.json"
        subprocess.run([sys.executable, __file__, "--phase", phase, "--dir", str(args.dir), "--reads",
                        str(args.reads), "--seed", str(args.seed), "--json", str(out),
                        *(["--records-url", args.records_url] if args.records_url else [])], check=True)
        result[phase] = json.loads(out.read_text())
    result["reads_bytes"] = sum(p.stat().st_size for p in (store_dir / "reads").rglob("*.parquet"))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
