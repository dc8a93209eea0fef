"""Training certifications (policy 462.3(d), 462.8): no access to ALPR data without current training.

A certification is either recorded by hand (training taken elsewhere, ``alpr users certify``: basis
"recorded") or issued when a trainer signs off a trainee who passed every module of the department's course
(basis "course", naming the course version). Either opens data access until it expires or is revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from alpr_lib.errors import ValidationError
from alpr_lib.records import Backend
from alpr_lib.records import certifications as cert_rows
from alpr_lib.timeutil import iso, parse_iso, utc_now

__all__ = ["DEFAULT_COURSE", "CertificateState", "certificate_state", "current_certification",
           "list_certifications", "record_certification", "revoke_certifications"]

DEFAULT_COURSE = "ALPR system user (policy 462)"


def record_certification(db: Backend, *, username: str, course: str, completed_at: datetime,
                         expires_at: datetime, certified_by: str, course_version: str | None = None,
                         basis: str = "recorded", score: float | None = None) -> int:
    if expires_at <= completed_at:
        raise ValidationError("a certification must expire after it was completed")
    if completed_at > utc_now():
        raise ValidationError("a certification cannot be completed in the future")
    return cert_rows.insert(db, username=username, course=course, completed_at=iso(completed_at),
                            expires_at=iso(expires_at), certified_by=certified_by, recorded_at=iso(utc_now()),
                            course_version=course_version, basis=basis, score=score)


def current_certification(db: Backend, username: str, now: datetime | None = None) -> dict | None:
    """The certification valid now (not expired, not revoked) with the latest expiry, or None."""
    return cert_rows.current(db, username, iso(now or utc_now()))


def list_certifications(db: Backend, username: str | None = None) -> list[dict]:
    return cert_rows.list_rows(db, username)


def revoke_certifications(db: Backend, username: str, *, by: str, reason: str, now: datetime | None = None
                          ) -> list[int]:
    """Revoke every unexpired certification of ``username`` (access closes at once); returns their ids."""
    if not reason or not reason.strip():
        raise ValidationError("say why the certificate is revoked (reason='...'); the trainee is told")
    return cert_rows.revoke_current(db, username, iso(now or utc_now()), by, reason.strip())


@dataclass(frozen=True)
class CertificateState:
    """Where a user stands: ``status`` is current, refresher_due, expired, revoked or none."""

    status: str
    row: dict | None
    refresher_due: datetime | None

    @property
    def opens_access(self) -> bool:
        return self.status in ("current", "refresher_due")

    @property
    def expires_at(self) -> datetime | None:
        return parse_iso(self.row["expires_at"]) if self.row else None


def certificate_state(db: Backend, username: str, now: datetime | None = None, *,
                      refresher_notice_days: int = 30) -> CertificateState:
    """The user's certificate status now, and when refresher training is due (``refresher_notice_days``
    before the current certificate expires)."""
    now = now or utc_now()
    row = current_certification(db, username, now)
    if row is not None:
        expires = parse_iso(row["expires_at"])
        due = expires - timedelta(days=refresher_notice_days)
        return CertificateState("refresher_due" if now >= due else "current", row, due)
    last = cert_rows.latest(db, username)
    if last is None:
        return CertificateState("none", None, None)
    if last.get("revoked_at"):
        return CertificateState("revoked", last, None)
    if parse_iso(last["expires_at"]) <= now:
        return CertificateState("expired", last, parse_iso(last["expires_at"]))
    return CertificateState("none", last, None)  # recorded as completed in the future: not yet valid
