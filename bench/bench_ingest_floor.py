"""How fast could ingest be on this machine? Measures of the alternatives to the current store layout.

Run by hand (never in CI); results go into docs/benchmarks.md ("Ingest: how far two cores go").

* ``writers``: CPU-seconds to encode one generated 2M-read batch as Parquet with each writer and setting
  within reach (Polars, Arrow, DuckDB; compression; row-group size), in memory, without the disk.
* ``pipeline``: the library's own ingest stages (validation, id checks, both sorts, dictionary delta, both
  copies written and fsynced) over several batches, as ingest runs them and with every speed-for-something
  trade-off taken at once (no capture-time sort, LZ4 day files in 65,536-row groups, 4,096-row groups in the
  bucket copy). The records transaction and the store's duplicate check are left out: an upper bound.
* ``one-copy`` (needs a store built by bench_store.py): the issue's other layout, one copy only with every
  day file sorted by plate in 1,024-row groups; times plate history and searches against it. The plates
  come from audited Session searches; the copy is read directly (as the plain-scan baselines do).

    .venv/bin/python bench/bench_ingest_floor.py writers pipeline
    .venv/bin/python bench/bench_ingest_floor.py one-copy --bench-dir /tmp/bench-100m --work /tmp/one-copy
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

BATCH = 2_000_000


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of the fastest of ``repeat`` runs."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), cpu_s()
        fn()
        runs.append((cpu_s() - cpu, time.perf_counter() - wall))
    return min(runs)


def batches(n: int) -> list[pl.DataFrame]:
    from alpr_lib import samples

    chunks = samples.iter_reads(seed=462, n_reads=50 * BATCH, n_cameras=400, chunk_rows=BATCH)
    return [next(chunks) for _ in range(n)]


def writers(work: Path) -> None:
    import duckdb
    import pyarrow.parquet as pq

    from alpr_lib.store import plate_index

    batch = batches(1)[0].sort("captured_at").with_columns(pl.lit("20261129T000000-00000000").alias("batch_id"),
                                                           pl.lit(None, pl.Datetime("us", "UTC")).alias("ingested_at"))
    by_plate = (plate_index.with_bucket_sort_key(batch).sort("_k", maintain_order=True)
                .drop("_k", "batch_id", "ingested_at"))

    def polars(compression: str, group: int) -> Callable[[], object]:
        return lambda: batch.write_parquet(io.BytesIO(), compression=compression, compression_level=1
                                           if compression == "zstd" else None, row_group_size=group)

    def arrow(group: int) -> Callable[[], object]:
        return lambda: pq.write_table(by_plate.to_arrow(), io.BytesIO(), row_group_size=group, compression="lz4",
                                      use_dictionary=False, write_statistics=["plate"])

    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads=2")
    con.register("batch", batch.to_arrow())
    duck_file = work / "duckdb.parquet"

    def duck(compression: str) -> Callable[[], object]:
        return lambda: con.execute(f"COPY batch TO '{duck_file}' (FORMAT parquet, COMPRESSION {compression}, "
                                   "ROW_GROUP_SIZE 16384)")

    cases = {
        "day files, Polars zstd-1, 16,384-row groups (ingest now)": polars("zstd", 16_384),
        "day files, Polars LZ4, 16,384-row groups": polars("lz4", 16_384),
        "day files, Polars LZ4, 65,536-row groups": polars("lz4", 65_536),
        "day files, DuckDB zstd, 16,384-row groups": duck("zstd"),
        "day files, DuckDB LZ4, 16,384-row groups": duck("lz4"),
        "bucket copy, Arrow LZ4, 1,024-row groups (ingest now)": arrow(1_024),
        "bucket copy, Arrow LZ4, 2,048-row groups": arrow(2_048),
        "bucket copy, Arrow LZ4, 4,096-row groups": arrow(4_096),
    }
    print(f"encoding one {BATCH:,}-read batch (best of 3):")
    for name, fn in cases.items():
        cpu, wall = best_of(fn)
        print(f"  {name:58s} {cpu:5.2f} CPU-s  {wall:5.2f} s", flush=True)


def pipeline(work: Path, n_batches: int) -> None:
    from alpr_lib.store import files, ingest, plate_index
    from alpr_lib.store.schema import DAY_ROW_GROUP

    chunks = batches(n_batches)
    as_ingest = files.write_parquet_atomic

    def traded_write(frame: pl.DataFrame, path: Path, *, row_group_size: int = DAY_ROW_GROUP,
                     metadata: dict[str, str] | None = None, lookup_column: str | None = None) -> None:
        if lookup_column is not None:
            return as_ingest(frame, path, row_group_size=4_096, metadata=metadata, lookup_column=lookup_column)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path, compression="lz4", row_group_size=65_536, metadata=metadata)
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
        return None

    def one_batch(out: Path, frame: pl.DataFrame, traded: bool) -> None:
        ingest._frame_digest(frame)
        good = ingest._derive_ids(ingest.validate_reads(frame).good)
        ingest._first_of_each_id(good.get_column("read_id"))
        good = good.drop("_row").with_columns(pl.lit(out.name).alias("batch_id"),
                                              pl.lit(None, pl.Datetime("us", "UTC")).alias("ingested_at"))
        if not traded:
            good = good.sort("captured_at", maintain_order=True)
        by_plate = plate_index.with_bucket_sort_key(good).sort("_k", maintain_order=True)
        delta = plate_index.batch_dictionary(by_plate)
        if traded:  # day files cut from the plate-sorted frame: no capture-time sort
            day = by_plate.get_column("captured_at").dt.date().alias("_day")
            days = by_plate.drop("_k").with_columns(day).partition_by("_day", include_key=False)
        else:
            days = [part for _, part in ingest._day_slices(good)]
        jobs = [(part, out / f"day-{i}.parquet", DAY_ROW_GROUP, None) for i, part in enumerate(days)]
        jobs += [(part, out / f"bucket-{b}.parquet", plate_index.BY_PLATE_ROW_GROUP, "plate")
                 for b, part in plate_index.bucket_slices(by_plate.drop("batch_id", "ingested_at"))]
        files.write_parquet_many(jobs)
        plate_index.write_dictionary(delta, out / "delta.parquet")

    print(f"{n_batches} batches of {BATCH:,} reads through the ingest stages (no records transaction):")
    for traded in (False, True, False, True):
        files.write_parquet_atomic = traded_write if traded else as_ingest
        shutil.rmtree(work, ignore_errors=True)
        wall, cpu = time.perf_counter(), cpu_s()
        for i, frame in enumerate(chunks):
            one_batch(work / f"batch-{i}", frame, traded)
        wall, cpu = time.perf_counter() - wall, cpu_s() - cpu
        name = "every trade-off taken" if traded else "as ingest runs now"
        print(f"  {name:24s} {n_batches * BATCH / wall:>11,.0f} reads/s  {cpu / n_batches:.2f} CPU-s per batch",
              flush=True)
    files.write_parquet_atomic = as_ingest
    shutil.rmtree(work, ignore_errors=True)


def one_copy(bench_dir: Path, work: Path) -> None:
    from bench_store import PW

    import alpr_lib as alpr
    from alpr_lib.store import plate_index

    os.environ.setdefault("ALPR_KEY_DIR", str(bench_dir / "keys"))
    os.environ.setdefault("ALPR_CHECKPOINT_DIR", str(bench_dir / "checkpoints"))
    work.mkdir(parents=True, exist_ok=True)
    days = sorted((bench_dir / "store" / "reads").glob("day=*"))
    if len(list(work.glob("*.parquet"))) != len(days):
        def rewrite(day: Path) -> None:
            frame = pl.read_parquet(sorted(day.glob("*.parquet"))).sort("plate", maintain_order=True)
            frame.write_parquet(work / f"{day.name}.parquet", compression="zstd", compression_level=1,
                                row_group_size=1_024)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(rewrite, days))
        print(f"rewrote {len(days)} day files sorted by plate in {time.perf_counter() - t0:.0f} s", flush=True)
    copy = sorted(str(p) for p in work.glob("*.parquet"))
    s = alpr.login("analyst", PW["analyst"], bench_dir / "store")
    purpose = {"purpose": "criminal investigation", "case_number": "26-005120"}
    cases = {"plate history 7ABK123": ["7ABK123"]}
    for pattern in ("7AB?12*", "*K123", "8MKT4I7"):
        cases[f"search {pattern}"] = s.search_plates(pattern, **purpose).get_column("plate").unique().to_list()
    t0 = time.perf_counter()
    for path in copy:  # footers parsed once, as a long-lived search process would keep them
        plate_index._row_groups(path)
    print(f"footers of {len(copy)} day files: {time.perf_counter() - t0:.2f} s (once per process)")

    def lookup(wanted: list[str]) -> int:
        with ThreadPoolExecutor(4) as pool:
            found = [f for f in pool.map(lambda p: plate_index._read_plates(p, wanted), copy) if f is not None]
        return sum(f.height for f in found)

    for name, wanted in cases.items():
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            rows = lookup(wanted)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        scanned = pl.scan_parquet(copy).filter(pl.col("plate").is_in(wanted)).collect().height
        scan_s = time.perf_counter() - t0
        print(f"  {name:24s} {len(wanted):4d} plates: row-group lookup {statistics.median(times):.3f} s "
              f"({rows} reads), Polars scan {scan_s:.3f} s ({scanned} reads)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="+", choices=["writers", "pipeline", "one-copy"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/alpr-ingest-floor"), help="Scratch directory")
    parser.add_argument("--batches", type=int, default=5, help="Batches for the pipeline part")
    parser.add_argument("--bench-dir", type=Path, help="A bench_store.py --dir (for one-copy)")
    args = parser.parse_args()
    if "writers" in args.parts:
        writers(args.work / "writers")
    if "pipeline" in args.parts:
        pipeline(args.work / "pipeline", args.batches)
    if "one-copy" in args.parts:
        if args.bench_dir is None:
            parser.error("one-copy needs --bench-dir (a store built by bench_store.py)")
        one_copy(args.bench_dir, args.work / "one-copy")


if __name__ == "__main__":
    main()
