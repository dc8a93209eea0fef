"""The release_requests table: the register of written requests for ALPR data from other agencies (policy
462.7, Civil Code 1798.90.55), refused ones included, with each decision and what was released. Rows are
never deleted: the register is retained on file."""

from __future__ import annotations

from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["COLUMNS", "add", "all_requests", "counts", "get", "set_decision", "set_fulfilled"]

COLUMNS = ("request_id", "agency", "agency_type", "state", "requester", "contact", "purpose", "case_number",
           "plate", "start_at", "end_at", "scope", "status", "legal_reason", "routed_to", "entered_by",
           "entered_at", "decided_by", "decided_at", "decision_reason", "fulfilled_by", "fulfilled_at",
           "package_id", "reads_released")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM release_requests"


def add(db: Backend, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO release_requests({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
               tuple(row.get(c) for c in COLUMNS))


def get(db: Backend, request_id: str) -> dict[str, Any] | None:
    rows = db.query(_SELECT + " WHERE request_id = ?", (request_id,))
    return rows[0] if rows else None


def set_decision(db: Backend, request_id: str, status: str, decided_by: str, decided_at: str,
                 reason: str | None) -> int:
    """Approve or deny a pending request (0 when it was no longer pending)."""
    return db.execute("UPDATE release_requests SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ? "
                      "WHERE request_id = ? AND status = 'pending'", (status, decided_by, decided_at, reason,
                                                                      request_id))


def set_fulfilled(db: Backend, request_id: str, fulfilled_by: str, fulfilled_at: str, package_id: str,
                  reads: int) -> int:
    return db.execute("UPDATE release_requests SET status = 'fulfilled', fulfilled_by = ?, fulfilled_at = ?, "
                      "package_id = ?, reads_released = ? WHERE request_id = ? AND status = 'approved'",
                      (fulfilled_by, fulfilled_at, package_id, reads, request_id))


def all_requests(db: Backend) -> list[dict[str, Any]]:
    return db.query(_SELECT + " ORDER BY entered_at, request_id")


def counts(db: Backend) -> dict[str, int]:
    return {r["status"]: int(r["n"]) for r in
            db.query("SELECT status, count(*) AS n FROM release_requests GROUP BY status")}
