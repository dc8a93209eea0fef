"""The shape of a plate read and of a camera, declared once.

Ingest validates against these; generators, recognition and tests build frames with them, so that the
columns and types never drift between the places that write reads.
"""

from __future__ import annotations

import polars as pl

#: Columns of a plate read as stored in ``STORE/reads/day=YYYY-MM-DD/*.parquet``.
#: ``plate`` is normalised (upper-case A-Z/0-9, no spaces or dashes); ``plate_raw`` keeps the OCR text.
READ_SCHEMA: dict[str, pl.DataType] = {
    "read_id": pl.String(),  # unique and stable: the capturing system's id, or derived at ingest
    "plate": pl.String(),
    "plate_raw": pl.String(),  # original OCR text (nullable)
    "plate_confidence": pl.Float32(),  # 0..100, as OpenALPR reports it
    "region": pl.String(),  # two-letter state/province guess, e.g. "CA" (nullable)
    "captured_at": pl.Datetime("us", "UTC"),
    "camera_id": pl.String(),
    "unit": pl.String(),  # patrol vehicle or fixed site that carried the camera
    "source": pl.String(),  # capturing agency/system, e.g. "MPD-FIXED"
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "heading": pl.Float32(),  # degrees 0..360, direction of travel of the camera/unit (nullable)
    "image_ref": pl.String(),  # reference to the source image or crop (nullable)
}

#: Rows per row group in day files (in capture-time order, so a time window decodes few groups).
DAY_ROW_GROUP = 16_384

#: Columns the caller must supply; the rest may be null or are filled at ingest.
READ_REQUIRED: tuple[str, ...] = (
    "plate",
    "plate_confidence",
    "captured_at",
    "camera_id",
    "lat",
    "lon",
)

#: Columns added by the store at ingest (not supplied by callers).
STORE_COLUMNS: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "ingested_at": pl.Datetime("us", "UTC"),
}

CAMERA_SCHEMA: dict[str, pl.DataType] = {
    "camera_id": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),  # "fixed" or "mobile"
    "lat": pl.Float64(),  # null for mobile cameras
    "lon": pl.Float64(),
    "direction": pl.String(),  # e.g. "NB" for a fixed camera watching northbound traffic (nullable)
    "agency": pl.String(),
    "unit": pl.String(),
}

PLATE_MIN_LEN = 2
PLATE_MAX_LEN = 8
PLATE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
