"""How old the reads that searches actually returned were, by purpose (the State Auditor's recommendation,
report 2019-118: base the retention period on need). Each search and plate history records in its audit record
how many returned reads fell in each age band; these statistics add them up from the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import polars as pl

__all__ = ["AGE_BANDS", "ELEMENT", "age_bands", "age_statistics"]

#: (label, upper bound in days, inclusive); the last band is open
AGE_BANDS: tuple[tuple[str, int | None], ...] = (("0-30", 30), ("31-90", 90), ("91-180", 180), ("181-365", 365),
                                                  ("366+", None))
#: the audit element holding the bands of one search's results
ELEMENT = "returned_age_days"
#: the actions whose results are counted
ACTIONS = ("reads.search", "reads.history")


def age_bands(frame: pl.DataFrame, now: datetime) -> dict[str, int]:
    """Returned reads per age band (days between capture and the search)."""
    if frame.height == 0 or "captured_at" not in frame.columns:
        return {label: 0 for label, _ in AGE_BANDS}
    days = frame.select(((pl.lit(now) - pl.col("captured_at")).dt.total_days()).alias("d")).to_series()
    out, lower = {}, None
    for label, upper in AGE_BANDS:
        cond = pl.Series([True] * len(days)) if upper is None else days <= upper
        if lower is not None:
            cond = cond & (days > lower)
        out[label] = int(cond.sum())
        lower = upper
    return out


def age_statistics(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Per purpose: searches counted, reads returned, reads per age band and the share older than a year."""
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["action"] not in ACTIONS or row["outcome"] != "allowed":
            continue
        query = json.loads(row["query"]) if isinstance(row["query"], str) else row["query"]
        bands = query.get(ELEMENT) if isinstance(query, dict) else None
        if not isinstance(bands, dict):
            continue
        purpose = row["purpose"] or "(none)"
        entry = totals.setdefault(purpose, {"searches": 0, **{label: 0 for label, _ in AGE_BANDS}})
        entry["searches"] += 1
        for label, _ in AGE_BANDS:
            entry[label] += int(bands.get(label, 0) or 0)
    schema = {"purpose": pl.String, "searches": pl.Int64, "reads_returned": pl.Int64,
              **{f"age_{label}_days": pl.Int64 for label, _ in AGE_BANDS}, "share_older_than_365_days": pl.Float64}
    out = []
    for purpose, entry in sorted(totals.items()):
        returned = sum(entry[label] for label, _ in AGE_BANDS)
        out.append({"purpose": purpose, "searches": entry["searches"], "reads_returned": returned,
                    **{f"age_{label}_days": entry[label] for label, _ in AGE_BANDS},
                    "share_older_than_365_days": round(entry["366+"] / returned, 4) if returned else 0.0})
    return pl.DataFrame(out, schema=schema) if out else pl.DataFrame(schema=schema)
