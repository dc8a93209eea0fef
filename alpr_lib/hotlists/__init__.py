"""Hotlists and alerts (policy 462.2, 462.3(c),(e),(f)): the domain work below ``areas/hotlists.py`` and
``areas/alerts.py``.

- :mod:`.layouts`: the CSV layouts a list may come in, row checks with a row-numbered report, duplicates
  (also O/0-style look-alikes);
- :mod:`.matcher`: every read against every active entry, vectorised (exact, OCR-confusion tolerant, wildcard
  and partial entries, state mismatch flagged);
- :mod:`.encounters`: hits become alerts, one per encounter;
- :mod:`.notify`: the webhook / e-mail hook for new alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from alpr_lib.timeutil import parse_iso

__all__ = ["CATEGORIES", "DISPOSITIONS", "PATTERN_CATEGORIES", "REJECT_REASONS", "SOURCES", "STATUSES",
           "is_stale", "priority_of"]

#: where a list comes from (policy 462.3(e): department, state and federal data)
SOURCES = ("department", "state", "federal")

#: every category an entry may have, most urgent first: its priority is its place here (1 = first)
CATEGORIES = ("AMBER", "wanted person", "missing person", "warrant", "stolen vehicle", "stolen plate", "BOLO")

#: categories that may hold partial plates with wildcards (major crimes, policy 462.3(c))
PATTERN_CATEGORIES = frozenset({"AMBER", "wanted person", "missing person", "warrant", "BOLO"})

STATUSES = ("new", "verified", "rejected")
REJECT_REASONS = ("misread", "state mismatch", "stale entry", "vehicle mismatch", "other")
DISPOSITIONS = ("stop made", "arrest", "recovery", "no action")


def is_stale(list_row: Mapping[str, Any], now: datetime) -> bool:
    """Whether a list was not refreshed within its refresh period (its hits say so)."""
    return parse_iso(list_row["refreshed_at"]) + timedelta(days=int(list_row["refresh_days"])) < now


def priority_of(category: str) -> int:
    """1 for AMBER, 2 for wanted persons, ... (lower is more urgent)."""
    return CATEGORIES.index(category) + 1
