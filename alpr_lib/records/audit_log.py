"""The audit_log table: the HMAC-chained record of every access (Civil Code 1798.90.52).

:data:`COLUMNS` is the one declaration of its columns; :mod:`alpr_lib.audit.log` builds and checks the chain
on top. Rows go in and out as plain dicts keyed by these columns (``query`` as its JSON text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["COLUMNS", "AuditFilter", "head", "insert", "select"]

COLUMNS = ("seq", "time", "session_id", "username", "organisation", "action", "query", "purpose",
           "case_number", "result_count", "client", "outcome", "reason", "store_kind", "prev_hash", "hash")

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM audit_log"
_INSERT = f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


@dataclass(frozen=True)
class AuditFilter:
    """Which records to read; every field optional. Times are ISO-8601 UTC, ``end`` exclusive."""

    username: str | None = None
    action: str | None = None
    outcome: str | None = None
    start: str | None = None
    end: str | None = None
    limit: int | None = None


def head(db: Backend) -> tuple[int, str] | None:
    """(seq, hash) of the last record, or None for an empty log. Call inside the writer's transaction."""
    rows = db.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return (int(rows[0]["seq"]), rows[0]["hash"]) if rows else None


def last(db: Backend) -> dict[str, Any] | None:
    """The newest record (seq, hash, time), or None for an empty log."""
    rows = db.query("SELECT seq, hash, time FROM audit_log ORDER BY seq DESC LIMIT 1")
    return {"seq": int(rows[0]["seq"]), "hash": rows[0]["hash"], "time": rows[0]["time"]} if rows else None


def insert(db: Backend, row: dict[str, Any]) -> None:
    db.execute(_INSERT, tuple(row[c] for c in COLUMNS))


def select(db: Backend, where: AuditFilter | None = None) -> list[dict[str, Any]]:
    """Records in sequence order, filtered by ``where``."""
    where = where or AuditFilter()
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("username", where.username), ("action", where.action), ("outcome", where.outcome)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if where.start:
        clauses.append("time >= ?")
        params.append(where.start)
    if where.end:
        clauses.append("time < ?")
        params.append(where.end)
    sql = _SELECT + (" WHERE " + " AND ".join(clauses) if clauses else "") + " ORDER BY seq"
    if where.limit is not None:
        sql += " LIMIT ?"
        params.append(int(where.limit))
    rows = db.query(sql, params)
    for row in rows:
        row["seq"] = int(row["seq"])
        if row["result_count"] is not None:
            row["result_count"] = int(row["result_count"])
    return rows
