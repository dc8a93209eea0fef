"""Report periods as people write them: a quarter (``2026-Q3``), a month (``2026-07``), a year (``2026``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alpr_lib.errors import ValidationError

__all__ = ["parse_period"]

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(text: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the period, its bounds at local midnight in the department's zone."""
    value = str(text).strip()
    if m := _QUARTER.match(value):
        year, q = int(m.group(1)), int(m.group(2))
        first, last = (year, 3 * q - 2), (year + (q == 4), 1 if q == 4 else 3 * q + 1)
    elif m := _MONTH.match(value):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ValidationError(f"{value!r}: the month must be 01 to 12")
        first, last = (year, month), (year + (month == 12), 1 if month == 12 else month + 1)
    elif m := _YEAR.match(value):
        first, last = (int(m.group(1)), 1), (int(m.group(1)) + 1, 1)
    else:
        raise ValidationError(f"cannot read the period {value[:40]!r}; write a quarter (2026-Q3), a month (2026-07) "
                              "or a year (2026)")
    if not 1900 < first[0] < 9000:
        raise ValidationError(f"{value!r}: give a year between 1901 and 8999")
    start = datetime(first[0], first[1], 1, tzinfo=zone).astimezone(UTC)
    end = datetime(last[0], last[1], 1, tzinfo=zone).astimezone(UTC)
    return start, end
