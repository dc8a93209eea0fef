"""The approvals table: a supervisor's approval of a canvass beyond the offense limits, for one case and analyst."""

from __future__ import annotations

from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["COLUMNS", "get", "insert"]

COLUMNS = ("approval_id", "case_number", "offense_type", "analyst", "incident_id", "max_radius_m",
           "max_before_min", "max_after_min", "reason", "granted_by", "granted_at", "expires_at")


def insert(db: Backend, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO approvals({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
               tuple(row[c] for c in COLUMNS))


def get(db: Backend, approval_id: str) -> dict[str, Any] | None:
    rows = db.query(f"SELECT {', '.join(COLUMNS)} FROM approvals WHERE approval_id = ?", (approval_id,))
    return rows[0] if rows else None
