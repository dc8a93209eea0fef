"""Shared pieces of the records-management tests: a store holding reads on both sides of the retention cutoff,
and readers of the store's files that go around the library (to prove nothing of a purged read remains)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from alpr_lib.timeutil import utc_now
from tests.conftest import random_reads

INVESTIGATION = {"purpose": "criminal investigation", "case_number": "24-001234"}
OLD_PLATE = "6OLD123"  # only in old reads: gone after a purge unless held
HELD_PLATE = "6HLD456"  # old reads held by a plate hold
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def straddling_reads(n: int = 300, *, prefix: str = "S") -> pl.DataFrame:
    """Reads from 40 days before the retention cutoff (365 days ago) to 20 days after it, with two planted
    plates that occur only before the cutoff."""
    start = utc_now() - timedelta(days=365 + 40)
    reads = random_reads(n, seed=13, start=start, days=60, prefix=prefix)
    old = start + timedelta(days=3)
    planted = pl.DataFrame([
        {**reads.row(0, named=True), "read_id": f"{prefix}OLD{i}", "plate": plate,
         "captured_at": old + timedelta(hours=i)}
        for i, plate in enumerate([OLD_PLATE, OLD_PLATE, HELD_PLATE, HELD_PLATE])]).cast(reads.schema)
    return pl.concat([reads, planted])


def cutoff() -> datetime:
    return utc_now() - timedelta(days=365)


def parquet_read_ids(store: Path) -> set[str]:
    """Every read id in every Parquet file under reads/ and index/by_plate/ (live or not), read with pyarrow."""
    ids: set[str] = set()
    for sub in ("reads", "index/by_plate"):
        for path in (store / sub).rglob("*.parquet"):
            ids.update(pq.read_table(path, columns=["read_id"]).column("read_id").to_pylist())
    return ids


def dictionary_plates(store: Path) -> dict[str, int]:
    """Plate -> read count, summed over every dictionary file under index/ (read with pyarrow)."""
    counts: dict[str, int] = {}
    for path in (store / "index").glob("plates-*.parquet"):
        table = pq.read_table(path, columns=["plate", "n_reads"]).to_pylist()
        for row in table:
            counts[row["plate"]] = counts.get(row["plate"], 0) + row["n_reads"]
    return counts


def dictionary_sightings(store: Path) -> dict[str, tuple[int, datetime, datetime]]:
    """Plate -> (reads, first, last sighting), combined over every dictionary file under index/ (pyarrow)."""
    out: dict[str, tuple[int, datetime, datetime]] = {}
    for path in (store / "index").glob("plates-*.parquet"):
        for row in pq.read_table(path).to_pylist():
            n, first, last = out.get(row["plate"], (0, row["first_seen"], row["last_seen"]))
            out[row["plate"]] = (n + row["n_reads"], min(first, row["first_seen"]), max(last, row["last_seen"]))
    return out


def image_names(store: Path) -> set[str]:
    return {p.stem for p in (store / "images").rglob("*") if p.is_file()}


def old(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("captured_at") < cutoff() - timedelta(minutes=5))


def young(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("captured_at") >= cutoff() + timedelta(minutes=5))


__all__ = ["HELD_PLATE", "INVESTIGATION", "OLD_PLATE", "PNG", "UTC", "cutoff", "dictionary_plates",
           "dictionary_sightings", "image_names",
           "old", "parquet_read_ids", "straddling_reads", "young"]
