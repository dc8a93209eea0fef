"""The camera registry: every fixed site and patrol unit that produces reads."""

from __future__ import annotations

import polars as pl

from alpr_lib.errors import ValidationError
from alpr_lib.records import Backend
from alpr_lib.records import cameras as camera_rows
from alpr_lib.store.schema import CAMERA_SCHEMA
from alpr_lib.timeutil import iso, utc_now

__all__ = ["load", "upsert"]


def upsert(db: Backend, cameras: pl.DataFrame) -> int:
    """Validate and insert or replace cameras; returns how many were written."""
    missing = [c for c in ("camera_id", "name", "kind", "agency") if c not in cameras.columns]
    if missing:
        raise ValidationError(f"the camera table lacks column(s) {missing}; columns: {list(CAMERA_SCHEMA)}")
    frame = cameras.select([pl.col(c).cast(t) if c in cameras.columns else pl.lit(None, dtype=t).alias(c)
                            for c, t in CAMERA_SCHEMA.items()])
    rows = []
    for number, row in enumerate(frame.iter_rows(named=True), start=1):
        if not row["camera_id"]:
            raise ValidationError(f"camera row {number}: camera_id is missing")
        if row["kind"] not in ("fixed", "mobile"):
            raise ValidationError(f"camera {row['camera_id']}: kind must be 'fixed' or 'mobile'")
        if row["kind"] == "fixed":
            lat, lon = row["lat"], row["lon"]
            if lat is None or lon is None or not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
                raise ValidationError(f"camera {row['camera_id']}: a fixed camera needs a valid lat/lon")
        rows.append((row["camera_id"], row["name"] or row["camera_id"], row["kind"], row["lat"], row["lon"],
                     row["direction"], row["agency"], row["unit"]))
    with db.transaction() as tx:
        camera_rows.upsert(tx, rows, iso(utc_now()))
    return len(rows)


def load(db: Backend) -> pl.DataFrame:
    rows = camera_rows.list_rows(db)
    return pl.DataFrame(rows, schema=CAMERA_SCHEMA, orient="row") if rows else pl.DataFrame(schema=CAMERA_SCHEMA)
