"""Training certifications (policy 462.3(d), 462.8): no access to ALPR data without current training."""

from __future__ import annotations

from datetime import datetime

from alpr_lib.errors import ValidationError
from alpr_lib.records import Backend
from alpr_lib.records import certifications as cert_rows
from alpr_lib.timeutil import iso, utc_now

__all__ = ["DEFAULT_COURSE", "current_certification", "list_certifications", "record_certification"]

DEFAULT_COURSE = "ALPR system user (policy 462)"


def record_certification(db: Backend, *, username: str, course: str, completed_at: datetime,
                         expires_at: datetime, certified_by: str) -> int:
    if expires_at <= completed_at:
        raise ValidationError("a certification must expire after it was completed")
    if completed_at > utc_now():
        raise ValidationError("a certification cannot be completed in the future")
    return cert_rows.insert(db, username=username, course=course, completed_at=iso(completed_at),
                            expires_at=iso(expires_at), certified_by=certified_by, recorded_at=iso(utc_now()))


def current_certification(db: Backend, username: str, now: datetime | None = None) -> dict | None:
    """The certification valid now with the latest expiry, or None."""
    return cert_rows.current(db, username, iso(now or utc_now()))


def list_certifications(db: Backend, username: str | None = None) -> list[dict]:
    return cert_rows.list_rows(db, username)
