"""Benchmark of the retention purge (issue 13): the purge of one day, then of a month, from a large store.

Run by hand (never in CI); results go into docs/benchmarks.md. Builds a store of N generated reads over 396
days (one year of retention plus a month and a day; ~400 cameras) through the real audited API and compacts it
(one file per partition, as after a nightly compaction), then runs the purge at two instants: the first purges
exactly the first day (every copy: day files, plate buckets, dictionary), the second the next 30 days. Each
phase runs in a process of its own and reports that process's peak memory. The purge is timed as the work the
``retention.purge`` action runs (``alpr_lib.retention.purge.purge``) with a chosen "now", so the cut falls on
midnights; the door adds one audit record to it.

    .venv/bin/python bench/bench_purge.py --reads 10_000_000 --dir /tmp/bench-purge-10m
    .venv/bin/python bench/bench_purge.py --reads 100_000_000 --dir /tmp/bench-purge-100m   # by hand: ~2.4 GB
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

PW = {"admin": "Bench-chief-pass-1", "svc": "Bench-feed-pass-3"}
DAYS = 396


def peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def cpu_s() -> float:
    """CPU seconds of this process so far (user + system, all threads): comparable on a loaded machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _start() -> date:
    return (datetime.now(UTC) - timedelta(days=DAYS + 1)).date()


def build(store_dir: Path, n_reads: int, seed: int) -> dict:
    import alpr_lib as alpr
    from alpr_lib import samples
    from alpr_lib.bootstrap import init_store

    init_store(store_dir, admin_username="admin", admin_password=PW["admin"], full_name="Bench Admin",
               title="ALPR Administrator", organisation="Bench PD", synthetic=True).close()
    admin = alpr.login("admin", PW["admin"], store_dir)
    admin.add_user("svc", full_name="Bench ingest", title="Service", organisation="Bench PD", roles=["service"],
                   password=PW["svc"], member_type="service")
    admin.certify("admin")
    svc = alpr.login("svc", PW["svc"], store_dir)
    t0 = time.perf_counter()
    rows = 0
    for chunk in samples.iter_reads(seed=seed, n_reads=n_reads, start=_start(), days=DAYS, n_cameras=400,
                                    chunk_rows=2_000_000):
        rows += svc.ingest_reads(chunk, progress=False).ingested
        print(f"  ingested {rows:,} reads", flush=True)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    admin.compact_store(progress=False)
    return {"reads": rows, "ingest_s": round(ingest_s, 1), "compact_s": round(time.perf_counter() - t0, 1),
            "start_day": _start().isoformat(), "peak_mb": peak_mb()}


def purge_at(store_dir: Path, days_purged_until: int) -> dict:
    """Purge with "now" chosen so that the cutoff is midnight UTC ``days_purged_until`` days after the first day."""
    from alpr_lib.retention.purge import purge
    from alpr_lib.store.store import Store

    start = date.fromisoformat(json.loads((store_dir.parent / ".build.json").read_text())["start_day"])
    store = Store.open(store_dir)
    try:
        retention = int(store.config.retention_days)
        now = datetime.combine(start, datetime.min.time(), UTC) + timedelta(days=retention + days_purged_until)
        t0, c0 = time.perf_counter(), cpu_s()
        report = purge(store, now, username="admin")
        seconds, cpu = time.perf_counter() - t0, cpu_s() - c0
    finally:
        store.close()
    return {"s": round(seconds, 2), "cpu_s": round(cpu, 2), "load_avg_1m": round(os.getloadavg()[0], 1),
            "reads_deleted": report.reads_deleted,
            "days": sum(1 for d in report.days if d.deleted), "peak_mb": peak_mb()}


def _home(work: Path) -> Path:
    """An account home whose audit system file keeps the keys and checkpoints in the work directory."""
    home = work / "home"
    config = home / ".config" / "alpr"
    config.mkdir(parents=True, exist_ok=True, mode=0o700)
    audit = config / "audit.toml"
    if not audit.exists():
        audit.write_text(f'key_dir = "{work / "keys"}"\ncheckpoint_dir = "{work / "checkpoints"}"\n')
        audit.chmod(0o600)
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=lambda v: int(v.replace("_", "")), default=10_000_000)
    parser.add_argument("--dir", type=Path, required=True, help="Work directory (store, keys)")
    parser.add_argument("--seed", type=int, default=462)
    parser.add_argument("--json", type=Path, help="Write the results as JSON here")
    parser.add_argument("--phase", choices=["build", "day", "month"], help="Run one phase in this process")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(_home(args.dir.resolve()))
    store_dir = args.dir / "store"
    if args.phase is not None:
        phase = {"build": lambda: build(store_dir, args.reads, args.seed),
                 "day": lambda: purge_at(store_dir, 1),
                 "month": lambda: purge_at(store_dir, 31)}[args.phase]
        out = json.dumps(phase())
        args.json.write_text(out) if args.json else print(out)
        return
    if (store_dir / "store.toml").exists():
        raise SystemExit(f"{store_dir} exists: the purge changes the store, give a new --dir")
    result: dict = {"n_reads": args.reads}
    for phase in ("build", "day", "month"):
        out = args.dir / f".{phase}.json"
        subprocess.run([sys.executable, __file__, "--phase", phase, "--dir", str(args.dir), "--reads",
                        str(args.reads), "--seed", str(args.seed), "--json", str(out)], check=True)
        result[phase] = json.loads(out.read_text())
        print(f"{phase}: {result[phase]}", flush=True)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
