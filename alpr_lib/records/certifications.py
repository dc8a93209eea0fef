"""The certifications table (policy 462.3(d), 462.8): who completed which training, valid until when."""

from __future__ import annotations

from alpr_lib.records.backend import Backend

__all__ = ["current", "insert", "latest", "latest_expiry", "list_rows", "revoke_current"]


def insert(db: Backend, *, username: str, course: str, completed_at: str, expires_at: str, certified_by: str,
           recorded_at: str, course_version: str | None = None, basis: str = "recorded",
           score: float | None = None) -> int:
    """``basis``: "recorded" (training taken elsewhere, recorded by hand) or "course" (the department's course,
    passed and signed off; ``course_version`` names the version it was earned on)."""
    rows = db.query("INSERT INTO certifications(username, course, completed_at, expires_at, certified_by, "
                    "recorded_at, course_version, basis, score) VALUES (?,?,?,?,?,?,?,?,?) RETURNING cert_id",
                    (username, course, completed_at, expires_at, certified_by, recorded_at, course_version, basis,
                     score))
    return int(rows[0]["cert_id"])


def current(db: Backend, username: str, at: str) -> dict | None:
    """The certification valid at ``at`` (ISO UTC) with the latest expiry, or None."""
    rows = db.query("SELECT * FROM certifications WHERE username = ? AND completed_at <= ? AND expires_at > ? "
                    "AND revoked_at IS NULL ORDER BY expires_at DESC LIMIT 1", (username, at, at))
    return rows[0] if rows else None


def latest(db: Backend, username: str) -> dict | None:
    """The certification with the latest expiry, revoked or not (to say why access is closed)."""
    rows = db.query("SELECT * FROM certifications WHERE username = ? ORDER BY expires_at DESC, cert_id DESC LIMIT 1",
                    (username,))
    return rows[0] if rows else None


def revoke_current(db: Backend, username: str, at: str, by: str, reason: str) -> list[int]:
    """Revoke every certification of ``username`` not yet expired or revoked; returns their ids."""
    rows = db.query("UPDATE certifications SET revoked_at = ?, revoked_by = ?, revoked_reason = ? "
                    "WHERE username = ? AND revoked_at IS NULL AND expires_at > ? RETURNING cert_id",
                    (at, by, reason, username, at))
    return sorted(int(r["cert_id"]) for r in rows)


def latest_expiry(db: Backend, username: str) -> str | None:
    rows = db.query("SELECT max(expires_at) AS e FROM certifications WHERE username = ?", (username,))
    return rows[0]["e"] if rows else None


def list_rows(db: Backend, username: str | None = None) -> list[dict]:
    if username:
        return db.query("SELECT * FROM certifications WHERE username = ? ORDER BY completed_at", (username,))
    return db.query("SELECT * FROM certifications ORDER BY username, completed_at")
