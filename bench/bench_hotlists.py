"""Hotlist matching at ingest, and alert latency with ``alpr watch`` running (issue 12).

Run by hand (never in CI); results go into docs/benchmarks.md ("Hotlists: matching at ingest, alert latency").

* ``throughput``: two fresh stores fed the same batches of generated reads through ``ingest_reads`` (the
  audited action, as a feed calls it): one without hotlists, one with a 1,000,000-entry list of which 1,000
  are wildcard or partial entries (confusion matching on). Reports reads/s of each (median of the batches
  after the first) and the ratio (target >= 0.8), the import time of the list, the matcher's cold build (the
  first ingest after an import) and the matcher alone over one batch.
* ``latency``: ``alpr watch`` running on a folder (a real process, default 0.5 s poll); small batches, each
  with one hotlisted plate, are dropped by rename one after another; the time from the rename to the alert
  being in the records database, p50/p95 (target p95 < 2 s).

    .venv/bin/python bench/bench_hotlists.py throughput latency --work /tmp/bench-hot
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

PASSWORD = "Bench-pass-00001"
SETTINGS = {"password_hash_time_cost": 1, "password_hash_memory_kib": 8192}
CHARS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ0123456789"))


def _store(path: Path):
    import alpr_lib as alpr
    from alpr_lib.bootstrap import init_store

    if path.exists():
        shutil.rmtree(path)
    init_store(path, admin_username="admin", admin_password=PASSWORD, full_name="Bench Admin", title="Admin",
               organisation="Bench PD", synthetic=True, settings=SETTINGS).close()
    admin = alpr.login("admin", PASSWORD, path)
    for name, roles, member in (("sup", ["supervisor"], "member"), ("feed", ["service"], "service"),
                                ("op", ["operator"], "member"), ("trainer", ["trainer"], "member")):
        admin.add_user(name, full_name=name, title=name, organisation="Bench PD", roles=roles, password=PASSWORD,
                       member_type=member, must_change_password=False)
    admin.certify("trainer")
    trainer = alpr.login("trainer", PASSWORD, path)
    for name in ("sup", "op"):
        trainer.certify(name)
    for name in ("sup", "op"):
        admin.hotlists.grant(name, ["department", "state", "federal"])
    return lambda user: alpr.login(user, PASSWORD, path)


def _entries(n: int, n_patterns: int, hits: list[str], seed: int = 7, avoid: set[int] | None = None) -> pl.DataFrame:
    """``n`` entries in the sample data's plate formats (so look-alike candidates occur as in real lists):
    ``hits`` (plates the batches hold), random full plates, and ``n_patterns`` partial plates made from other
    random plates (one character unknown, half of them with the end unknown too: ``7AB?12*``). ``avoid``:
    look-alike classes (packed) no random full plate may fall in, so that only ``hits`` are on the road."""
    from alpr_lib.hotlists.matcher import packed
    from alpr_lib.samples.plates import random_plates, strings_from_matrix

    rng = np.random.default_rng(seed)
    mat, lens, _ = random_plates(rng, int((n - len(hits)) * 1.1))
    drawn = strings_from_matrix(mat, lens).unique(maintain_order=True)
    if avoid:
        drawn = drawn.filter(~pl.Series(packed(drawn)).is_in(pl.Series(sorted(avoid), dtype=pl.UInt64).implode()))
    pool = drawn.to_list()
    plates = pool[:n - n_patterns - len(hits)]
    patterns = []
    for i, plate in enumerate(pool[n - n_patterns - len(hits):][:n_patterns]):
        chars = list(plate)
        chars[int(rng.integers(1, len(chars) - 1))] = "?"
        patterns.append("".join(chars[:-1]) + "*" if i % 2 else "".join(chars))
    every = plates + hits
    size = len(every) + len(patterns)
    frame = pl.DataFrame({"plate": every + patterns, "state": ["CA"] * len(every) + [None] * len(patterns),
                          "category": ["stolen vehicle"] * len(every) + ["wanted person"] * len(patterns),
                          "entered_at": ["2025-01-01"] * size, "expires_at": [None] * size,
                          "notes": [None] * size})
    return frame.unique("plate", maintain_order=True)


def _on_the_road(frames: list[pl.DataFrame], share: float, seed: int = 11) -> tuple[list[str], set[int]]:
    """Plates of vehicles in the batches, picked at random until their reads are ``share`` of all reads, and
    the look-alike classes of every plate read (which the other entries avoid)."""
    from alpr_lib.hotlists.matcher import packed

    counts = pl.concat([f.select("plate") for f in frames]).group_by("plate").len().sort("plate")
    counts = counts.sample(fraction=1.0, shuffle=True, seed=seed)
    total = int(counts["len"].sum())
    picked = counts.filter(pl.col("len").cum_sum() <= share * total)["plate"].to_list()
    return picked, set(np.unique(packed(counts["plate"])).tolist())


def throughput(work: Path, n_batches: int, batch: int, hit_share: float | None = None) -> None:
    from alpr_lib import samples
    from alpr_lib.hotlists.matcher import Matcher
    from alpr_lib.records import hotlists as rows
    from alpr_lib.store.store import Store

    print(f"generating {n_batches} batches of {batch:,} reads")
    start = datetime.now(UTC) - timedelta(days=30)
    chunks = samples.iter_reads(seed=462, n_reads=n_batches * batch, start=start.date(), days=20,
                                n_cameras=400, chunk_rows=batch)
    frames = [next(chunks) for _ in range(n_batches)]
    if hit_share is None:  # random entries in the local formats: many collide with vehicles on the road
        hits = sorted(set(frames[1].get_column("plate").head(100).to_list()))  # vehicles on the list that drive by
        entries = _entries(1_000_000, 1_000, hits)
    else:  # only the picked vehicles (and look-alike misreads of them) are on the road
        hits, avoid = _on_the_road(frames, hit_share)
        entries = _entries(1_000_000, 1_000, hits, avoid=avoid)
        print(f"{len(hits):,} listed vehicles on the road, {hit_share:.1%} of the reads")
    plain = _store(work / "plain")
    hot = _store(work / "hot")
    t = time.perf_counter()
    report = hot("sup").hotlists.import_list(entries, "bench-1m", "state")
    print(f"import of {entries.height:,} entries: {time.perf_counter() - t:.1f} s ({report.summary()})")
    names = {"without hotlists": plain("feed"), "with 1M-entry hotlist": hot("feed")}
    times: dict[str, list[float]] = {name: [] for name in names}
    n_alerts: list[int] = []
    for i, frame in enumerate(frames):  # interleaved, so both see the same load on a shared machine
        for name, feed in names.items():
            profile = cProfile.Profile() if i == 0 and name.startswith("with 1M") else None
            if profile:  # the first ingest after an import also builds the matcher: where does it go?
                profile.enable()
            t = time.perf_counter()
            out = feed.ingest_reads(frame, progress=False)
            times[name].append(time.perf_counter() - t)
            if profile:
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(12)
            print(f"  {name}: batch {i}: {times[name][-1]:.2f} s, {out.ingested:,} reads, {out.alerts_raised} alerts")
            if name.startswith("with 1M"):
                n_alerts.append(out.alerts_raised)
    results = {name: (batch / (statistics.median(t[1:]) if len(t) > 1 else t[0]), t[0]) for name, t in times.items()}
    for name, (rate, first) in results.items():
        print(f"{name}: {rate:,.0f} reads/s (median of batches 2-{n_batches}); first batch {first:.2f} s")
    ratio = results["with 1M-entry hotlist"][0] / results["without hotlists"][0]
    alerts = statistics.median(n_alerts[1:]) if len(n_alerts) > 1 else n_alerts[0]
    print(f"ratio: {ratio:.2f} (target >= 0.80), {alerts:,.0f} alerts per batch of {batch:,} reads "
          f"({alerts / batch:.2%})")
    store = Store.open(work / "hot")
    t = time.perf_counter()
    matcher = Matcher(rows.matchable_entries(store.db))
    print(f"matcher build from the records database (cold, after an import): {time.perf_counter() - t:.2f} s")
    store.close()
    now = datetime.now(UTC)
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        found = matcher.match(frames[1], now)
        runs.append(time.perf_counter() - t)
    print(f"matcher alone, {batch:,} reads x {matcher.size:,} entries: {min(runs):.3f} s ({found.height:,} hits); "
          f"{batch / min(runs):,.0f} reads/s")


def latency(work: Path, n_files: int) -> None:
    from alpr_lib.records import alerts as alert_rows
    from alpr_lib.store.store import Store

    login = _store(work / "latency")
    plates = [f"9LT{i:04d}" for i in range(n_files)]
    listed = pl.DataFrame({"plate": plates, "state": ["CA"] * n_files, "category": ["stolen vehicle"] * n_files,
                           "entered_at": ["2025-01-01"] * n_files, "expires_at": [None] * n_files,
                           "notes": [None] * n_files})
    login("sup").hotlists.import_list(listed, "latency", "department")
    folder = work / "drops"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    secret = work / "op.pw"
    secret.write_text(PASSWORD)
    secret.chmod(0o600)
    env = dict(os.environ, ALPR_PASSWORD_FILE=str(secret))
    watcher = subprocess.Popen([str(Path(sys.executable).with_name("alpr")), "watch", str(folder), "--store",
                                str(work / "latency"), "--user", "op"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    store = Store.open(work / "latency")
    waits = []
    try:
        time.sleep(3)  # the watcher logs in
        rng = np.random.default_rng(1)
        for i, plate in enumerate(plates):
            now = datetime.now(UTC) - timedelta(minutes=5)
            n = 50
            frame = pl.DataFrame({
                "read_id": [f"LAT{i:03d}-{k:03d}" for k in range(n)],
                "plate": [plate] + ["".join(r) for r in CHARS[rng.integers(0, len(CHARS), size=(n - 1, 7))]],
                "plate_confidence": [90.0] * n, "region": ["CA"] * n,
                "captured_at": [now + timedelta(seconds=k) for k in range(n)], "camera_id": [f"CAM{i}"] * n,
                "unit": ["U1"] * n, "source": ["BENCH"] * n, "lat": [37.43] * n, "lon": [-121.9] * n,
                "heading": [0.0] * n}).with_columns(pl.col("captured_at").dt.cast_time_unit("us"))
            part = folder / f"unit-{i:03d}.csv.part"
            frame.write_csv(part)
            t = time.perf_counter()
            os.replace(part, folder / f"unit-{i:03d}.csv")
            while not any(r["plate"] == plate for r in alert_rows.rows(store.db, start=None)):
                if time.perf_counter() - t > 30:
                    raise SystemExit(f"no alert for {plate} after 30 s")
                time.sleep(0.01)
            waits.append(time.perf_counter() - t)
            time.sleep(float(rng.uniform(0, 0.5)))  # drops arrive at any moment of the poll cycle
    finally:
        watcher.terminate()
        watcher.wait(30)
        store.close()
    waits.sort()
    p95 = waits[min(len(waits) - 1, round(0.95 * (len(waits) - 1)))]
    print(f"file drop -> alert, {n_files} files of 50 reads (alpr watch, 0.5 s poll): p50 "
          f"{statistics.median(waits):.2f} s, p95 {p95:.2f} s, max {waits[-1]:.2f} s (target p95 < 2 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="+", choices=["throughput", "latency"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-hot"))
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--hit-share", type=float, default=None,
                        help="list only vehicles whose reads are this share of all reads (e.g. 0.005); "
                             "default: random entries in the local formats, which collide with many vehicles")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    home = args.work / "home"  # the audit keys of the bench stores, outside them
    (home / ".config" / "alpr").mkdir(parents=True, exist_ok=True)
    audit = home / ".config" / "alpr" / "audit.toml"
    audit.write_text(f'key_dir = "{home / "keys"}"\ncheckpoint_dir = "{home / "checkpoints"}"\n')
    audit.chmod(0o600)
    os.environ["HOME"] = str(home)
    if "throughput" in args.what:
        throughput(args.work, args.batches, args.batch, args.hit_share)
    if "latency" in args.what:
        latency(args.work, args.files)


if __name__ == "__main__":
    main()
