"""The certifications table (policy 462.3(d), 462.8): who completed which training, valid until when."""

from __future__ import annotations

from alpr_lib.records.backend import Backend

__all__ = ["current", "insert", "latest_expiry", "list_rows"]


def insert(db: Backend, *, username: str, course: str, completed_at: str, expires_at: str, certified_by: str,
           recorded_at: str) -> int:
    rows = db.query("INSERT INTO certifications(username, course, completed_at, expires_at, certified_by, "
                    "recorded_at) VALUES (?,?,?,?,?,?) RETURNING cert_id",
                    (username, course, completed_at, expires_at, certified_by, recorded_at))
    return int(rows[0]["cert_id"])


def current(db: Backend, username: str, at: str) -> dict | None:
    """The certification valid at ``at`` (ISO UTC) with the latest expiry, or None."""
    rows = db.query("SELECT * FROM certifications WHERE username = ? AND completed_at <= ? AND expires_at > ? "
                    "ORDER BY expires_at DESC LIMIT 1", (username, at, at))
    return rows[0] if rows else None


def latest_expiry(db: Backend, username: str) -> str | None:
    rows = db.query("SELECT max(expires_at) AS e FROM certifications WHERE username = ?", (username,))
    return rows[0]["e"] if rows else None


def list_rows(db: Backend, username: str | None = None) -> list[dict]:
    if username:
        return db.query("SELECT * FROM certifications WHERE username = ? ORDER BY completed_at", (username,))
    return db.query("SELECT * FROM certifications ORDER BY username, completed_at")
