"""Vectorised local wall-clock time -> UTC for the department's zone, DST included.

Routines are described in local time (a commuter leaves at 07:30 whatever the season) but reads are stored
in UTC; doing the conversion per read with ``zoneinfo`` would be far too slow at 100M reads, so the zone's
transitions are looked up once and applied with ``searchsorted``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np

TZ_NAME = "America/Los_Angeles"
US = 1_000_000
DAY_US = 86_400 * US
_EPOCH = date(1970, 1, 1)


@cache
def _transitions(tz_name: str, first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(local-naive thresholds in us, offset after each in us, offset before the first) for the years."""
    tz = ZoneInfo(tz_name)
    start = datetime(first_year - 1, 12, 31, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 2, tzinfo=UTC)

    def off(t: datetime) -> int:
        o = t.astimezone(tz).utcoffset()
        assert o is not None
        return int(o.total_seconds()) * US

    thresholds, offsets = [], []
    t = start
    first = off(t)
    prev = first
    while t < end:  # hourly scan: ~9k zone look-ups per year, done once
        t2 = t + timedelta(hours=1)
        o = off(t2)
        if o != prev:
            instant_us = int(t2.timestamp()) * US  # transitions fall on whole hours in this zone
            # Wall times at or after instant + max(old, new) offset take the new offset, which matches
            # zoneinfo's fold=0: a time in the spring-forward gap keeps the old offset (it lands an hour
            # later), a repeated autumn time takes its first (daylight-time) occurrence.
            thresholds.append(instant_us + max(o, prev))
            offsets.append(o)
            prev = o
        t = t2
    return np.asarray(thresholds, np.int64), np.asarray(offsets, np.int64), first


def local_to_utc_us(local_us: np.ndarray, first_year: int, last_year: int, tz_name: str = TZ_NAME) -> np.ndarray:
    """Convert local-naive epoch microseconds to UTC epoch microseconds."""
    th, offs, first = _transitions(tz_name, first_year, last_year)
    if local_us.size == 0:
        return local_us.copy()
    lo, hi = local_us.min(), local_us.max()
    before = np.searchsorted(th, lo, side="right")  # transitions before the data: fold into the start
    offset0 = offs[before - 1] if before else first
    out = local_us - offset0
    for t, o in zip(th[before:], offs[before:], strict=True):  # one or two transitions a year
        if t > hi:
            break
        out = np.where(local_us >= t, local_us - o, out)
    return out


def day_start_local_us(d: date) -> int:
    """Local-naive epoch microseconds of midnight starting ``d``."""
    return (d - _EPOCH).days * DAY_US


def to_utc(local: datetime, tz_name: str = TZ_NAME) -> datetime:
    """One local wall-clock time to an aware UTC datetime (for the hand-written planted scenarios)."""
    return local.replace(tzinfo=ZoneInfo(tz_name)).astimezone(UTC)
