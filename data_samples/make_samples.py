"""Regenerate the small committed sample files in data_samples/ from the deterministic generator.

Usage:  python data_samples/make_samples.py [--seed 462] [--out data_samples]

The files are byte-for-byte reproducible for a given seed, so a diff after regenerating means the
generator changed. Everything here is also available in memory through ``alpr_lib.samples``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import polars as pl

from alpr_lib.samples import cameras, hotlists, incidents, iter_reads, planted_scenarios, roads_gdf

SAMPLE_READS = 2_000
TIME_FMT = "%Y-%m-%dT%H:%M:%S%.3fZ"


def _times_to_iso(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.col(pl.Datetime).dt.strftime(TIME_FMT))


def _reads_csv_frame(seed: int) -> pl.DataFrame:
    """About 2,000 reads: every planted scenario read plus background traffic, sorted by time."""
    reads = pl.concat(iter_reads(seed=seed, n_reads=SAMPLE_READS)).sort("captured_at", "read_id")
    return _times_to_iso(
        reads.with_columns(
            pl.col("lat", "lon").round(6), pl.col("heading").round(1), pl.col("plate_confidence").round(1)
        )
    )


#: Deliberately malformed rows for demonstrating ingest validation: (what is wrong, column, bad value).
BAD_ROWS: tuple[tuple[str, str, object], ...] = (
    ("plate has characters outside A-Z/0-9", "plate", "7AB$123"),
    ("plate longer than 8 characters", "plate", "ABCDEFGHJ12"),
    ("latitude out of range", "lat", 123.4),
    ("longitude out of range", "lon", -221.9),
    ("confidence above 100", "plate_confidence", 140.0),
    ("timestamp cannot be parsed", "captured_at", "yesterday at noon"),
    ("camera_id is empty", "camera_id", ""),
    ("plate is empty", "plate", ""),
    ("confidence below 0", "plate_confidence", -5.0),
)


def _bad_rows_frame(good: pl.DataFrame) -> tuple[pl.DataFrame, list[dict]]:
    """Good rows with the BAD_ROWS spliced in at fixed positions; returns the frame and the expected errors."""
    as_text = good.with_columns(pl.col(c).cast(pl.String) for c in good.columns)
    base = as_text.head(24)
    donors = as_text.slice(24, len(BAD_ROWS)).to_dicts()  # bad rows are made from reads not in the file
    rows = base.to_dicts()
    expected = []
    for i, (why, col, value) in enumerate(BAD_ROWS):
        pos = 2 + i * 3  # spread among the good rows
        bad = dict(donors[i])
        bad["read_id"] = f"{bad['read_id']}-BAD{i + 1}"
        bad[col] = str(value)
        if col == "plate":
            bad["plate_raw"] = str(value)
        rows.insert(pos, bad)
        expected.append({"data_row": pos + 1, "read_id": bad["read_id"], "column": col, "problem": why})
    fixed_positions = {e["read_id"]: e for e in expected}
    for n, r in enumerate(rows, start=1):  # recompute positions after all insertions
        if r["read_id"] in fixed_positions:
            fixed_positions[r["read_id"]]["data_row"] = n
    return pl.DataFrame(rows, schema=dict.fromkeys(base.columns, pl.String)), expected


def _write_csv(df: pl.DataFrame, path: Path) -> None:
    path.write_text(df.write_csv(), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=462)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    _write_csv(cameras(args.seed), out / "cameras.csv")
    _write_csv(_times_to_iso(incidents(args.seed)), out / "incidents.csv")
    _write_csv(_times_to_iso(hotlists(args.seed)), out / "hotlists.csv")
    reads = _reads_csv_frame(args.seed)
    _write_csv(reads, out / "reads_sample.csv")
    bad, expected = _bad_rows_frame(reads.filter(~pl.col("read_id").str.contains("-P")))
    _write_csv(bad, out / "reads_bad_rows.csv")

    roads = json.loads(roads_gdf().to_json(drop_id=True))
    (out / "roads.geojson").write_text(json.dumps(roads, separators=(",", ":")) + "\n", encoding="utf-8")
    key = planted_scenarios(args.seed)
    key["bad_rows_file"] = {"file": "reads_bad_rows.csv", "good_rows": bad.height - len(expected),
                            "bad_rows": expected}
    (out / "scenarios.json").write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")

    buf = io.StringIO()
    w = csv.writer(buf)
    for p in sorted(out.glob("*")):
        if p.is_file() and p.suffix in {".csv", ".json", ".geojson"}:
            w.writerow([p.name, p.stat().st_size])
    print(buf.getvalue(), end="")


if __name__ == "__main__":
    main()
