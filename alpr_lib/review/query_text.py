"""An audit record's query as text a person reads: one formatter for the terminal (``alpr audit``) and the
audit-review dashboard, so that an auditor sees the same words for the same record in both."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["compact_query"]


def compact_query(text: str | None, zone: ZoneInfo, max_items: int | None = None) -> str:
    """``key=value; ...``: nulls left out, lists as text (``(none)`` when empty; the first ``max_items`` and
    `` ...`` when longer), yes/no for booleans, nested keys dotted, and a resolved ``*_utc`` bound shown in
    local time only where the bound as typed is missing. Text that is not a JSON object is shown as it is."""
    if not text:
        return ""
    try:
        query = json.loads(text)
    except ValueError:
        return text
    if not isinstance(query, dict):
        return str(query)
    pairs = _flat("", query)
    given = {key for key, value in pairs if value is not None}
    parts = []
    for key, value in pairs:
        if value is None:
            continue
        if key.endswith("_utc") and isinstance(value, str):
            base = key.removesuffix("_utc")
            if base in given:
                continue  # the bound as the user typed it says the same
            key, value = base, _local(value, zone)
        if isinstance(value, list):
            value = _list_text(value, max_items)
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{key}={value}")
    return "; ".join(parts)


def _list_text(values: list, max_items: int | None) -> str:
    shown = values if max_items is None else values[:max_items]
    text = ", ".join(v if isinstance(v, str) else json.dumps(v) for v in shown) or "(none)"
    return text + (" ..." if len(shown) < len(values) else "")


def _flat(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _flat(f"{prefix}.{key}" if prefix else key, item)]
    return [(prefix, value)]


def _local(text: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
