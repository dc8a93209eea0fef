"""Training certifications (policy 462.3(d), 462.8): no access to ALPR data without current training."""

from __future__ import annotations

from datetime import datetime

from alpr_lib.errors import ValidationError
from alpr_lib.store.records import RecordsDB
from alpr_lib.timeutil import iso, utc_now

__all__ = ["DEFAULT_COURSE", "current_certification", "list_certifications", "record_certification"]

DEFAULT_COURSE = "ALPR system user (policy 462)"


def record_certification(db: RecordsDB, *, username: str, course: str, completed_at: datetime,
                         expires_at: datetime, certified_by: str) -> int:
    if expires_at <= completed_at:
        raise ValidationError("a certification must expire after it was completed")
    if completed_at > utc_now():
        raise ValidationError("a certification cannot be completed in the future")
    with db.transaction() as tx:
        tx.execute("INSERT INTO certifications(username, course, completed_at, expires_at, certified_by, "
                   "recorded_at) VALUES (?,?,?,?,?,?)",
                   (username, course, iso(completed_at), iso(expires_at), certified_by, iso(utc_now())))
        return tx.query("SELECT max(cert_id) AS id FROM certifications")[0]["id"]


def current_certification(db: RecordsDB, username: str, now: datetime | None = None) -> dict | None:
    """The certification valid now with the latest expiry, or None."""
    at = iso(now or utc_now())
    rows = db.query("SELECT * FROM certifications WHERE username = ? AND completed_at <= ? AND expires_at > ? "
                    "ORDER BY expires_at DESC LIMIT 1", (username, at, at))
    return rows[0] if rows else None


def list_certifications(db: RecordsDB, username: str | None = None) -> list[dict]:
    if username:
        return db.query("SELECT * FROM certifications WHERE username = ? ORDER BY completed_at", (username,))
    return db.query("SELECT * FROM certifications ORDER BY username, completed_at")
