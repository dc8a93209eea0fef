"""The sessions table: each login's lifetime, so an ended or expired session stays ended everywhere."""

from __future__ import annotations

from alpr_lib.records.backend import Backend

__all__ = ["by_ticket", "end", "end_all_of_user", "get", "insert", "open_by_user", "set_ticket", "touch"]


def insert(db: Backend, *, session_id: str, username: str, client: str, started_at: str) -> None:
    db.execute("INSERT INTO sessions(session_id, username, client, started_at, last_seen_at) VALUES (?,?,?,?,?)",
               (session_id, username, client, started_at, started_at))


def get(db: Backend, session_id: str) -> dict | None:
    rows = db.query("SELECT * FROM sessions WHERE session_id = ?", (session_id,))
    return rows[0] if rows else None


def set_ticket(db: Backend, session_id: str, ticket_hash: str) -> None:
    db.execute("UPDATE sessions SET ticket_hash = ? WHERE session_id = ?", (ticket_hash, session_id))


def by_ticket(db: Backend, ticket_hash: str) -> dict | None:
    """The open session a ticket belongs to (None if there is none, or it has ended)."""
    rows = db.query("SELECT * FROM sessions WHERE ticket_hash = ? AND ended_at IS NULL", (ticket_hash,))
    return rows[0] if rows else None


def touch(db: Backend, session_id: str, at: str) -> None:
    db.execute("UPDATE sessions SET last_seen_at = ? WHERE session_id = ?", (at, session_id))


def end(db: Backend, session_id: str, at: str, reason: str) -> None:
    db.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE session_id = ? AND ended_at IS NULL",
               (at, reason, session_id))


def end_all_of_user(db: Backend, username: str, at: str, reason: str) -> int:
    """End every open session of ``username`` (an account disabled or its password reset)."""
    return db.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE username = ? AND ended_at IS NULL",
                      (at, reason, username))


def open_by_user(db: Backend) -> dict[str, tuple[str, ...]]:
    """Username -> ids of its sessions not ended (audit review: a disabled account with a live session)."""
    out: dict[str, list[str]] = {}
    for row in db.query("SELECT username, session_id FROM sessions WHERE ended_at IS NULL ORDER BY started_at"):
        out.setdefault(row["username"], []).append(row["session_id"])
    return {name: tuple(ids) for name, ids in out.items()}
