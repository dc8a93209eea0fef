"""Recognition results -> plate reads in the store's read schema (``alpr_lib.store.schema.READ_SCHEMA``).

The frame returned by :func:`reads_frame` is what ``Session.ingest_reads(frame)`` takes; this module
never touches the store itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

from ..errors import ValidationError
from ..store.schema import READ_SCHEMA
from .metadata import has_control_chars
from .pipeline import PlateResult, Recognition
from .postprocess import normalise_plate

__all__ = ["MAX_LABEL_LEN", "MIN_REGION_CONFIDENCE", "ImageRead", "check_label", "image_reads", "read_id_for",
           "reads_frame"]

#: A region guess below this confidence (0..100) is stored as null rather than as a likely-wrong state.
MIN_REGION_CONFIDENCE = 50.0
#: Longest camera id, unit or source (the store refuses camera ids over 64 characters).
MAX_LABEL_LEN = 64


def check_label(value: str | None, name: str, *, required: bool = False) -> None:
    """Refuse a camera id, unit or source that is blank (when required), too long or holds control characters.

    These go into every read and onto terminals and audit records, so they are checked before any work.
    """
    if value is None:
        if required:
            raise ValidationError(f"{name} is required (the camera that took the images)")
        return
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(f"{name} is required (the camera that took the images)")
    if len(value) > MAX_LABEL_LEN:
        raise ValidationError(f"{name} is {len(value)} characters, over the {MAX_LABEL_LEN} limit")
    if has_control_chars(value):
        raise ValidationError(f"{name} {value!r} contains control characters")


@dataclass(frozen=True)
class ImageRead:
    """One plate seen in one image (or video frame), with where and when the image was taken."""

    plate: str
    plate_raw: str
    confidence: float  # 0..100
    region: str | None
    captured_at: datetime
    lat: float | None
    lon: float | None
    heading: float | None
    image_ref: str
    plate_index: int
    quad: tuple[float, ...]  # x1, y1, ..., x4, y4 in the source image


def read_id_for(camera_id: str, image_ref: str, plate_index: int, captured_at: datetime) -> str:
    """Stable id: the same image ingested twice gets the same read ids (the store can reject duplicates)."""
    key = f"{camera_id}|{image_ref}|{plate_index}|{captured_at.astimezone(UTC).isoformat()}"
    return "rec-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def image_reads(
    rec: Recognition,
    image_ref: str,
    captured_at: datetime,
    lat: float | None,
    lon: float | None,
    heading: float | None = None,
) -> list[ImageRead]:
    """The plates of one recognised image as :class:`ImageRead` rows."""
    if captured_at.tzinfo is None:
        raise ValidationError(f"captured_at for {image_ref} must be timezone-aware (got {captured_at!r})")
    out = []
    for i, res in enumerate(rec.results):
        out.append(_read(res, i, image_ref, captured_at.astimezone(UTC), lat, lon, heading))
    return out


def _read(res: PlateResult, index: int, ref: str, at: datetime, lat, lon, heading) -> ImageRead:
    return ImageRead(
        plate=normalise_plate(res.plate),
        plate_raw=res.plate_raw,
        confidence=float(np.clip(res.confidence, 0, 100)),
        # the region is a guess from the plate's format: stored only when the format points to one state
        region=(res.region.upper() or None) if res.region_confidence >= MIN_REGION_CONFIDENCE else None,
        captured_at=at,
        lat=lat,
        lon=lon,
        heading=heading,
        image_ref=ref,
        plate_index=index,
        quad=tuple(float(v) for v in np.asarray(res.quad).reshape(-1)),
    )


def reads_frame(
    reads: Iterable[ImageRead], camera_id: str, unit: str | None = None, source: str | None = None
) -> pl.DataFrame:
    """A polars frame with exactly the store's read schema (column order and dtypes)."""
    check_label(camera_id, "camera_id", required=True)
    rows = [
        {
            "read_id": read_id_for(camera_id, r.image_ref, r.plate_index, r.captured_at),
            "plate": r.plate,
            "plate_raw": r.plate_raw,
            "plate_confidence": r.confidence,
            "region": r.region,
            "captured_at": r.captured_at,
            "camera_id": camera_id,
            "unit": unit,
            "source": source,
            "lat": r.lat,
            "lon": r.lon,
            "heading": r.heading,
            "image_ref": r.image_ref,
        }
        for r in reads
    ]
    return pl.DataFrame(rows, schema=READ_SCHEMA, orient="row") if rows else pl.DataFrame(schema=READ_SCHEMA)
