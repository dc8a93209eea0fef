"""Time conventions in one place: stored in UTC, typed by people in the department's zone.

A bare date or naive time is read in the department's zone; an end *date* includes that whole day
(it becomes the next local midnight, exclusive); ``None`` means unbounded.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alpr_lib.errors import ValidationError

__all__ = ["TimeLike", "iso", "parse_instant", "parse_iso", "requested_window", "resolved_window", "time_window",
           "utc_now"]

TimeLike = str | date | datetime | None


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (one place so tests can reason about it)."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO-8601 text with microseconds, as stored in the records database."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    """Inverse of :func:`iso`."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _parse_text(value: str) -> date | datetime:
    text = value.strip()
    if not text:
        raise ValidationError("empty time; give a date like 2026-06-01 or a time like 2026-06-01 13:30")
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"cannot read the time {value!r}; use ISO format such as 2026-06-01, 2026-06-01 13:30 "
            "or 2026-06-01T20:30:00Z"
        ) from None


def parse_instant(value: TimeLike, zone: ZoneInfo, *, end: bool = False) -> datetime | None:
    """Turn a user-supplied bound into an aware UTC datetime (exclusive when it is an end date)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = _parse_text(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError(f"the time {value} is out of range") from None
    if isinstance(value, date):
        try:
            day = value + timedelta(days=1) if end else value
            return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        except OverflowError:
            raise ValidationError(f"the date {value} is out of range; give a date between years 1 and 9998") from None
    raise ValidationError(f"expected a date, datetime, ISO string or None, got {type(value).__name__}")


def time_window(start: TimeLike, end: TimeLike, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Resolve ``start``/``end`` to a half-open UTC interval [start, end)."""
    lo = parse_instant(start, zone)
    hi = parse_instant(end, zone, end=True)
    if lo is not None and hi is not None and hi <= lo:
        raise ValidationError(f"the end ({end}) is not after the start ({start})")
    return lo, hi


def requested_window(start: TimeLike, end: TimeLike) -> dict[str, str | None]:
    """The time bounds as the user typed them, for an audit record's queried elements."""
    return {"start": str(start) if start else None, "end": str(end) if end else None}


def resolved_window(lo: datetime | None, hi: datetime | None) -> dict[str, str | None]:
    """The resolved UTC interval [lo, hi), for an audit record's queried elements."""
    return {"start_utc": iso(lo) if lo else None, "end_utc": iso(hi) if hi else None}
