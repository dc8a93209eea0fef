"""The committed files in data_samples/ are what the generator makes, small, and say what they claim."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import polars as pl

from alpr_lib.store.schema import PLATE_CHARSET, PLATE_MAX_LEN, READ_SCHEMA

ROOT = Path(__file__).resolve().parents[2] / "data_samples"
FILES = ("cameras.csv", "roads.geojson", "incidents.csv", "hotlists.csv", "reads_sample.csv",
         "reads_bad_rows.csv", "scenarios.json")


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "make_samples.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_files_match_generator(tmp_path: Path) -> None:
    _make_samples().main(["--out", str(tmp_path)])
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (ROOT / name).read_bytes(), (
            f"data_samples/{name} is stale: run python data_samples/make_samples.py"
        )
    assert sum((ROOT / n).stat().st_size for n in FILES) < 1_000_000


def test_reads_sample_parses_with_schema() -> None:
    reads = pl.read_csv(ROOT / "reads_sample.csv", schema_overrides={"captured_at": pl.String})
    reads = reads.with_columns(pl.col("captured_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.3fZ", time_zone="UTC"))
    assert reads.columns == list(READ_SCHEMA)
    assert reads.height == 2_000
    key = json.loads((ROOT / "scenarios.json").read_text())
    planted = {i for ids in key["read_ids_by_tag"].values() for i in ids}
    assert planted <= set(reads["read_id"])


def test_bad_rows_are_exactly_the_listed_ones() -> None:
    """A reference validator finds the documented bad rows and nothing else."""
    df = pl.read_csv(ROOT / "reads_bad_rows.csv", infer_schema=False)
    key = json.loads((ROOT / "scenarios.json").read_text())["bad_rows_file"]
    ts = pl.col("captured_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%.3fZ", strict=False)
    conf = pl.col("plate_confidence").cast(pl.Float64, strict=False)
    bad = df.with_row_index("data_row", offset=1).filter(
        ~pl.col("plate").fill_null("").str.contains(f"^[{PLATE_CHARSET}]{{2,{PLATE_MAX_LEN}}}$")
        | ~pl.col("lat").cast(pl.Float64).is_between(-90, 90)
        | ~pl.col("lon").cast(pl.Float64).is_between(-180, 180)
        | ~conf.is_between(0, 100)
        | ts.is_null()
        | pl.col("camera_id").fill_null("").eq("")
    )
    assert bad["data_row"].to_list() == [r["data_row"] for r in key["bad_rows"]]
    assert bad["read_id"].to_list() == [r["read_id"] for r in key["bad_rows"]]
    assert df.height - bad.height == key["good_rows"]
