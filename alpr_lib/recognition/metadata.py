"""Capture time and location of a camera image: a JSON sidecar first, then EXIF, else nothing.

Sidecar: ``<image>.json`` or ``<stem>.json`` next to the image, e.g.
``{"captured_at": "2024-05-01T12:34:56-07:00", "lat": 34.05, "lon": -118.25, "heading": 90}``
(``time``/``timestamp``, ``latitude``/``longitude`` are accepted too). Naive times (no offset; EXIF
usually has none unless ``OffsetTimeOriginal`` is set) are taken in the department's zone ``tz``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from ..errors import ValidationError

__all__ = ["ImageMeta", "image_metadata", "parse_time"]

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_ORIGINAL = 0x9011
_DATETIME = 0x0132


@dataclass(frozen=True)
class ImageMeta:
    captured_at: datetime | None  # UTC
    lat: float | None
    lon: float | None
    heading: float | None
    source: str  # "sidecar", "exif" or "none"


def parse_time(value: str | float | int, tz: str = "America/Los_Angeles") -> datetime:
    """ISO-8601 text, EXIF ``YYYY:MM:DD HH:MM:SS`` or epoch seconds -> aware UTC datetime."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).strip()
    if len(text) >= 19 and text[4] == ":" and text[7] == ":":
        text = text[:4] + "-" + text[5:7] + "-" + text[8:]
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"unreadable time {value!r}; use ISO-8601, e.g. 2024-05-01T12:34:56-07:00") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(UTC)


def _sidecar(path: Path) -> dict | None:
    for cand in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if cand.is_file() and cand != path:
            try:
                data = json.loads(cand.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValidationError(f"sidecar {cand} is not valid JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise ValidationError(f"sidecar {cand} must hold a JSON object")
            return data
    return None


def _rational(v) -> float:
    try:
        return float(v)
    except TypeError:
        num, den = v
        return float(num) / float(den)


def _gps_degrees(values, ref: str | None) -> float:
    d, m, s = (_rational(v) for v in values)
    deg = d + m / 60 + s / 3600
    return -deg if ref in ("S", "W") else deg


def _exif(path: Path, tz: str) -> ImageMeta | None:
    try:
        with Image.open(path) as img:
            exif = img.getexif()
    except Exception:
        return None
    if not exif:
        return None
    sub = exif.get_ifd(_EXIF_IFD)
    raw_time = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    captured = None
    if raw_time:
        offset = sub.get(_OFFSET_ORIGINAL)
        try:
            captured = parse_time(f"{raw_time}{offset or ''}", tz)
        except ValidationError:
            captured = None
    lat = lon = heading = None
    gps = exif.get_ifd(_GPS_IFD)
    try:
        if gps and 2 in gps and 4 in gps:
            lat = _gps_degrees(gps[2], gps.get(1))
            lon = _gps_degrees(gps[4], gps.get(3))
        if gps and 17 in gps:
            heading = _rational(gps[17]) % 360
    except (TypeError, ValueError, ZeroDivisionError):
        lat = lon = heading = None
    if captured is None and lat is None:
        return None
    return ImageMeta(captured, lat, lon, heading, "exif")


def _first(data: dict, *keys: str):
    for k in keys:
        if data.get(k) is not None:
            return data[k]
    return None


def image_metadata(path: str | Path, tz: str = "America/Los_Angeles") -> ImageMeta:
    """Time and place of ``path`` from its sidecar, else its EXIF; fields absent there are None."""
    p = Path(path)
    side = _sidecar(p)
    if side is not None:
        t = _first(side, "captured_at", "time", "timestamp")
        lat, lon = _first(side, "lat", "latitude"), _first(side, "lon", "lng", "longitude")
        heading = _first(side, "heading", "bearing")
        try:
            return ImageMeta(
                parse_time(t, tz) if t is not None else None,
                float(lat) if lat is not None else None,
                float(lon) if lon is not None else None,
                float(heading) % 360 if heading is not None else None,
                "sidecar",
            )
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"sidecar for {p} has a bad value: {exc}") from exc
    return _exif(p, tz) or ImageMeta(None, None, None, None, "none")
