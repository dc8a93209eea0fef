"""Capture time and location of a camera image: a JSON sidecar first, then EXIF, else nothing.

Sidecar: ``<image>.json`` or ``<stem>.json`` next to the image, e.g.
``{"captured_at": "2024-05-01T12:34:56-07:00", "lat": 34.05, "lon": -118.25, "heading": 90}``
(``time``/``timestamp``, ``latitude``/``longitude``/``lng``, ``bearing`` are accepted too). Naive times
(no offset; EXIF usually has none unless ``OffsetTimeOriginal`` is set) are taken in the department's zone
``tz``.

A sidecar is data from outside, so every value in it is checked and a bad one is an error naming the
sidecar, the field and the value, never a value passed on to the reads: latitude in [-90, 90], longitude
in [-180, 180], heading in [-360, 360], all numbers finite (no NaN or infinity), the capture time a real
time between :data:`EARLIEST_CAPTURE` and now + :data:`FUTURE_TOLERANCE`, ids (``camera_id``, ``camera``,
``unit``, ``source``) short printable text, every other string at most :data:`MAX_SIDECAR_TEXT`
characters and free of control characters, no key given twice, aliases (``lat``/``latitude``) agreeing.
A sidecar that is not a regular file, is over :data:`MAX_SIDECAR_BYTES` or is not a JSON object is an
error too. EXIF positions and times outside those ranges are errors as well; EXIF values that cannot be
read at all (a camera's ``0000:00:00`` clock, a 0/0 GPS rational) count as absent, as before.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image

from ..errors import ValidationError
from .image import check_regular_file, open_regular_file, read_regular_file

__all__ = [
    "EARLIEST_CAPTURE",
    "FUTURE_TOLERANCE",
    "MAX_SIDECAR_BYTES",
    "MAX_SIDECAR_TEXT",
    "ImageMeta",
    "capture_time_problem",
    "check_coordinate",
    "has_control_chars",
    "image_metadata",
    "parse_time",
    "printable",
]

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_ORIGINAL = 0x9011
_DATETIME = 0x0132

#: A capture time before this is refused (no ALPR data predates it; the store refuses it too).
EARLIEST_CAPTURE = datetime(2000, 1, 1, tzinfo=UTC)
#: A capture time later than now plus this is refused (camera clocks drift; the store allows the same).
FUTURE_TOLERANCE = timedelta(days=1)
#: A sidecar is a few hundred bytes; a bigger file is refused unread.
MAX_SIDECAR_BYTES = 2 * 1024 * 1024
#: Longest string value (any field) in a sidecar.
MAX_SIDECAR_TEXT = 1024
#: Longest time, number-as-text, id and key in a sidecar.
_MAX_TIME_TEXT = 64
_MAX_NUMBER_TEXT = 32
_MAX_ID_TEXT = 64
_MAX_KEY_TEXT = 128
#: Nesting depth and number of values a sidecar may hold.
_MAX_DEPTH = 16
_MAX_VALUES = 10_000

_TIME_KEYS = ("captured_at", "time", "timestamp")
_LAT_KEYS = ("lat", "latitude")
_LON_KEYS = ("lon", "lng", "longitude")
_HEADING_KEYS = ("heading", "bearing")
_ID_KEYS = ("camera_id", "camera", "unit", "source")
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: Unicode categories refused in text: controls, invisible format characters (bidi overrides, zero-width),
#: lone surrogates, line and paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass(frozen=True)
class ImageMeta:
    captured_at: datetime | None  # UTC
    lat: float | None
    lon: float | None
    heading: float | None
    source: str  # "sidecar", "exif" or "none"


def has_control_chars(text: str) -> bool:
    """True when ``text`` holds a control, format (bidi, zero-width), surrogate or line-separator character."""
    return any(unicodedata.category(c) in _CONTROL_CATEGORIES for c in text)


def printable(text: str) -> str:
    """``text`` with control and other non-printing characters escaped, safe to print on a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def parse_time(value: str | float | int, tz: str = "America/Los_Angeles") -> datetime:
    """ISO-8601 text, EXIF ``YYYY:MM:DD HH:MM:SS`` or epoch seconds -> aware UTC datetime."""
    if isinstance(value, bool):
        raise ValidationError(f"unreadable time {value!r}; use ISO-8601, e.g. 2024-05-01T12:34:56-07:00")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValidationError(f"unreadable time {value!r}: not a valid number of epoch seconds") from exc
    text = str(value).strip()
    if len(text) > _MAX_TIME_TEXT:
        raise ValidationError(f"unreadable time {_show(text)}: longer than {_MAX_TIME_TEXT} characters")
    if len(text) >= 19 and text[4] == ":" and text[7] == ":":
        text = text[:4] + "-" + text[5:7] + "-" + text[8:]
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(
            f"unreadable time {_show(value)}; use ISO-8601, e.g. 2024-05-01T12:34:56-07:00"
        ) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    try:
        return dt.astimezone(UTC)
    except OverflowError as exc:  # year 1 or 9999 shifted past the calendar's ends
        raise ValidationError(f"unreadable time {_show(value)}: out of range") from exc


def capture_time_problem(at: datetime, now: datetime | None = None) -> str | None:
    """Why ``at`` cannot be a capture time (before 2000, or in the future beyond the tolerance), else None."""
    if at < EARLIEST_CAPTURE:
        return f"is before {EARLIEST_CAPTURE:%Y-%m-%d}"
    latest = (now or datetime.now(UTC)) + FUTURE_TOLERANCE
    if at > latest:
        return f"is in the future (later than now + {FUTURE_TOLERANCE})"
    return None


def check_coordinate(value: object, lo: float, hi: float) -> tuple[float | None, str | None]:
    """(the number, None) when ``value`` is a finite number (or number text) in [lo, hi], else (None, why)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, "is not a number"
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_TEXT or not _NUMBER_TEXT.fullmatch(text):
            return None, "is not a finite number"
        value = text
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None, "is not a finite number"
    if not math.isfinite(number):
        return None, "is not a finite number"
    if not lo <= number <= hi:
        return None, f"is outside [{lo:g}, {hi:g}]"
    return number, None


def _show(value: object, limit: int = 40) -> str:
    """A short, escaped rendering of a (possibly huge or hostile) value for an error message."""
    if isinstance(value, str):
        shown = repr(value[:limit]) + ("..." if len(value) > limit else "")
        return shown + (f" ({len(value)} characters)" if len(value) > limit else "")
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


class _Sidecar:
    """Validation of one sidecar's parsed JSON; every error names the sidecar, the field and the value."""

    def __init__(self, where: Path, tz: str) -> None:
        self.where = where
        self.tz = tz

    def bad(self, field: str, value: object, problem: str) -> ValidationError:
        return ValidationError(f"sidecar {self.where}: field {field!r} = {_show(value)} {problem}")

    def text(self, field: str, value: str, limit: int) -> None:
        if len(value) > limit:
            raise self.bad(field, value, f"is longer than {limit} characters")
        if has_control_chars(value):
            raise self.bad(field, value, "contains control characters")

    def time(self, field: str, value: object) -> datetime:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.bad(field, value, "is not a time (ISO-8601 text or epoch seconds)")
        if isinstance(value, str):
            self.text(field, value, _MAX_TIME_TEXT)
        elif isinstance(value, float) and not math.isfinite(value):
            raise self.bad(field, value, "is not a finite number")
        try:
            at = parse_time(value, self.tz)
        except ValidationError as exc:
            raise self.bad(field, value, "is not a readable time (use ISO-8601, e.g. 2024-05-01T12:34:56-07:00)"
                           ) from exc
        problem = capture_time_problem(at)
        if problem:
            raise self.bad(field, value, f"{problem} ({at:%Y-%m-%dT%H:%M:%SZ})")
        return at

    def number(self, field: str, value: object, lo: float, hi: float) -> float:
        if isinstance(value, str):
            self.text(field, value, _MAX_NUMBER_TEXT)
        number, problem = check_coordinate(value, lo, hi)
        if problem:
            raise self.bad(field, value, problem)
        assert number is not None
        return number

    def ident(self, field: str, value: object) -> None:
        if isinstance(value, bool):
            raise self.bad(field, value, "is not an id (text or a whole number)")
        if isinstance(value, int):
            if abs(value) >= 10**_MAX_ID_TEXT:
                raise self.bad(field, value, f"is longer than {_MAX_ID_TEXT} digits")
            return
        if isinstance(value, str):
            self.text(field, value, _MAX_ID_TEXT)
            if not value.strip():
                raise self.bad(field, value, "is blank")
            return
        if not isinstance(value, dict | list):  # an object (camera make/model...) is walked like any other
            raise self.bad(field, value, "is not an id (text or a whole number)")

    def walk(self, field: str, value: object, depth: int, count: list[int]) -> None:
        """Every other value: finite numbers, bounded text without control characters, bounded nesting."""
        count[0] += 1
        if count[0] > _MAX_VALUES:
            raise ValidationError(f"sidecar {self.where} holds more than {_MAX_VALUES} values")
        if depth > _MAX_DEPTH:
            raise ValidationError(f"sidecar {self.where}: field {field!r} is nested more than {_MAX_DEPTH} deep")
        if isinstance(value, str):
            self.text(field, value, MAX_SIDECAR_TEXT)
        elif isinstance(value, float) and not math.isfinite(value):
            raise self.bad(field, value, "is not a finite number")
        elif isinstance(value, dict):
            for k, v in value.items():
                self.key(f"{field}.{k}", k)
                self.walk(f"{field}.{k}", v, depth + 1, count)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.walk(f"{field}[{i}]", v, depth + 1, count)

    def key(self, field: str, key: str) -> None:
        if len(key) > _MAX_KEY_TEXT or has_control_chars(key):
            raise ValidationError(
                f"sidecar {self.where}: key {_show(key)} is longer than {_MAX_KEY_TEXT} characters "
                "or contains control characters"
            )

    def aliased(self, data: dict, keys: tuple[str, ...], check) -> Any:
        """The value of the first present key of ``keys``; every present one is checked and must agree."""
        found: tuple[str, Any] | None = None
        for k in keys:
            if data.get(k) is None:
                continue
            value = check(k, data[k])
            if found is not None and value != found[1]:
                raise self.bad(k, data[k], f"disagrees with field {found[0]!r} = {_show(data[found[0]])}")
            found = found or (k, value)
        return found[1] if found else None

    def meta(self, data: dict) -> ImageMeta:
        for k in data:
            self.key(k, k)
        at = self.aliased(data, _TIME_KEYS, self.time)
        lat = self.aliased(data, _LAT_KEYS, lambda k, v: self.number(k, v, -90, 90))
        lon = self.aliased(data, _LON_KEYS, lambda k, v: self.number(k, v, -180, 180))
        heading = self.aliased(data, _HEADING_KEYS, lambda k, v: self.number(k, v, -360, 360))
        known = {*_TIME_KEYS, *_LAT_KEYS, *_LON_KEYS, *_HEADING_KEYS}
        count = [0]
        for k, v in data.items():
            if k in _ID_KEYS and v is not None:
                self.ident(k, v)
            if k not in known:
                self.walk(k, v, 1, count)
        return ImageMeta(at, lat, lon, heading % 360 if heading is not None else None, "sidecar")


def _no_duplicates(pairs: list[tuple[str, Any]], where: Path) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise ValidationError(f"sidecar {where}: field {_show(k)} is given twice")
        out[k] = v
    return out


def _sidecar_path(path: Path) -> Path | None:
    """The sidecar next to ``path``, if something exists under either sidecar name."""
    for cand in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if cand != path and (cand.exists() or cand.is_symlink()):
            return cand
    return None


def _sidecar(path: Path, tz: str) -> ImageMeta | None:
    cand = _sidecar_path(path)
    if cand is None:
        return None
    raw = read_regular_file(cand, MAX_SIDECAR_BYTES, "sidecar", ValidationError)
    try:
        data = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=lambda pairs: _no_duplicates(pairs, cand))
    except ValidationError:
        raise
    except RecursionError as exc:
        raise ValidationError(f"sidecar {cand} is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an over-long integer
        raise ValidationError(f"sidecar {cand} is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"sidecar {cand} must hold a JSON object")
    return _Sidecar(cand, tz).meta(data)


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


def _read_exif(source: Path | bytes) -> Image.Exif | None:
    try:
        if isinstance(source, bytes):
            with Image.open(io.BytesIO(source)) as img:
                return img.getexif()
        with open_regular_file(source) as (f, _st), Image.open(f) as img:
            return img.getexif()
    except Exception:
        return None


def _exif(path: Path, tz: str, data: bytes | None) -> ImageMeta | None:
    exif = _read_exif(data if data is not None else path)
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
            captured = None  # unset or unreadable camera clock: no time
        if captured is not None and (problem := capture_time_problem(captured)):
            raise ValidationError(
                f"{path}: EXIF capture time {_show(str(raw_time))} {problem}; give a sidecar with captured_at"
            )
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
    if lat is not None and lon is not None and not (math.isfinite(lat) and math.isfinite(lon)):
        lat = lon = None  # 0/0 rationals: no GPS fix, as a ZeroDivisionError above
    if heading is not None and not math.isfinite(heading):
        heading = None
    for name, value, lo, hi in (("latitude", lat, -90, 90), ("longitude", lon, -180, 180)):
        if value is not None and not lo <= value <= hi:
            raise ValidationError(f"{path}: EXIF GPS {name} {value!r} is outside [{lo}, {hi}]")
    if captured is None and lat is None:
        return None
    return ImageMeta(captured, lat, lon, heading, "exif")


def image_metadata(
    path: str | Path, tz: str = "America/Los_Angeles", *, data: bytes | None = None, exif: bool = True
) -> ImageMeta:
    """Time and place of ``path`` from its sidecar, else its EXIF; fields absent there are None.

    ``data`` are the image's bytes when the caller has read them already (EXIF is read from them, the
    path is not opened again); ``exif=False`` skips EXIF (video files). A sidecar or EXIF value out of
    range raises :class:`ValidationError`; a path that exists but is not a regular file raises
    :class:`RecognitionError` without being opened.
    """
    p = Path(path)
    side = _sidecar(p, tz)
    if side is not None:
        return side
    if not exif:
        return ImageMeta(None, None, None, None, "none")
    if data is None:
        if not (p.exists() or p.is_symlink()):
            return ImageMeta(None, None, None, None, "none")
        check_regular_file(p)
    return _exif(p, tz, data) or ImageMeta(None, None, None, None, "none")
