"""The flag_reviews table: an auditor's finding on an audit-review flag (policy 462.5(c): audits, follow-up).

A flag is identified by its ``flag_id`` (rule, user and records, see :class:`alpr_lib.review.model.Flag`); the
row keeps the rule, user and records as they were when it was reviewed, with the finding and the follow-up.
A flag may be reviewed again (a later finding); every review is kept, the newest is the one in force.
"""

from __future__ import annotations

import json
from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["SCHEMA", "insert", "latest_by_flag", "select"]

#: migration 7 (both dialects)
SCHEMA = """
CREATE TABLE IF NOT EXISTS flag_reviews (
    review_id TEXT PRIMARY KEY,
    flag_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    username TEXT NOT NULL,
    records TEXT NOT NULL,
    explanation TEXT NOT NULL,
    finding TEXT NOT NULL,
    follow_up TEXT,
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flag_reviews_flag ON flag_reviews(flag_id);
CREATE INDEX IF NOT EXISTS flag_reviews_time ON flag_reviews(reviewed_at)
"""

_COLUMNS = ("review_id", "flag_id", "rule", "username", "records", "explanation", "finding", "follow_up",
            "reviewed_by", "reviewed_at")


def insert(db: Backend, row: dict[str, Any]) -> None:
    values = {**row, "records": json.dumps(list(row["records"]))}
    db.execute(f"INSERT INTO flag_reviews ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
               tuple(values[c] for c in _COLUMNS))


def _row(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "records": [int(s) for s in json.loads(r["records"])]}


def select(db: Backend, *, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
    """Reviews made in [start, end) (ISO UTC text; either may be None), oldest first."""
    clauses, params = [], []
    if start:
        clauses.append("reviewed_at >= ?")
        params.append(start)
    if end:
        clauses.append("reviewed_at < ?")
        params.append(end)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = db.query(f"SELECT {', '.join(_COLUMNS)} FROM flag_reviews{where} ORDER BY reviewed_at, review_id", params)
    return [_row(r) for r in rows]


def latest_by_flag(db: Backend, flag_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The newest review of each of ``flag_ids`` that has one."""
    if not flag_ids:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(flag_ids), 500):
        chunk = flag_ids[start:start + 500]
        rows = db.query(f"SELECT {', '.join(_COLUMNS)} FROM flag_reviews WHERE flag_id IN "
                        f"({', '.join('?' * len(chunk))}) ORDER BY reviewed_at, review_id", chunk)
        for r in rows:
            out[r["flag_id"]] = _row(r)
    return out
