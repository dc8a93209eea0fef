"""Approvals of canvasses beyond the offense limits: a supervisor's decision, on record, for one case.

An approval names the case, the offense, the analyst it is for, optionally the incident, and the largest
radius and window it allows; it expires. A canvass over the limit is refused unless it presents an
approval that matches all of these (:func:`check_request`). Granting is itself an audited Session access.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from alpr_lib.analysis.limits import OffenseLimit, normalise_offense
from alpr_lib.errors import AccessDenied, NotFound, ValidationError
from alpr_lib.records import Backend
from alpr_lib.records import approvals as approval_rows
from alpr_lib.timeutil import iso, parse_iso

__all__ = ["Approval", "check_request", "get_approval", "insert_approval", "make_approval"]

MAX_VALID_DAYS = 30


@dataclass(frozen=True)
class Approval:
    """A recorded approval (see the module docstring)."""

    approval_id: str
    case_number: str
    offense_type: str
    analyst: str
    incident_id: str | None
    max_radius_m: float
    max_before_min: float
    max_after_min: float
    reason: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime


_COLUMNS = approval_rows.COLUMNS


def make_approval(*, case_number: str, offense_type: str, analyst: str, incident_id: str | None,
                  radius_m: float, before_min: float, after_min: float, reason: str, granted_by: str,
                  now: datetime, valid_days: int) -> Approval:
    if not reason or len(reason.strip()) < 10:
        raise ValidationError("give the reason for the approval (at least a sentence): it is kept on record")
    if analyst == granted_by:
        raise AccessDenied("a supervisor cannot approve their own canvass; ask another supervisor")
    if not 1 <= int(valid_days) <= MAX_VALID_DAYS:
        raise ValidationError(f"valid_days must be between 1 and {MAX_VALID_DAYS}")
    return Approval(f"APR-{uuid.uuid4().hex[:12]}", case_number, normalise_offense(offense_type), analyst,
                    incident_id, float(radius_m), float(before_min), float(after_min), reason.strip(), granted_by,
                    now, now + timedelta(days=int(valid_days)))


def insert_approval(db: Backend, approval: Approval) -> None:
    values = {c: getattr(approval, c) for c in _COLUMNS}
    approval_rows.insert(db, {c: iso(v) if isinstance(v, datetime) else v for c, v in values.items()})


def get_approval(db: Backend, approval_id: str) -> Approval:
    row = approval_rows.get(db, str(approval_id))
    if row is None:
        raise NotFound(f"no approval {approval_id!r}; ask a supervisor to record one with s.grant_approval(...)")
    row["granted_at"], row["expires_at"] = parse_iso(row["granted_at"]), parse_iso(row["expires_at"])
    return Approval(**{c: row[c] for c in _COLUMNS})


def check_request(approval: Approval, *, limit: OffenseLimit, case_number: str | None, analyst: str,
                  incident_ids: list[str | None], radius_m: float, before_min: float, after_min: float,
                  now: datetime) -> None:
    """Refuse (AccessDenied) unless the approval covers exactly this case, analyst, offense and extent."""
    problems = []
    if approval.case_number != case_number:
        problems.append(f"it is for case {approval.case_number}, not {case_number}")
    if approval.analyst != analyst:
        problems.append(f"it was granted to {approval.analyst}, not {analyst}")
    if approval.offense_type != limit.offense_type:
        problems.append(f"it is for a {approval.offense_type}, not a {limit.offense_type}")
    if approval.incident_id is not None and any(i != approval.incident_id for i in incident_ids):
        problems.append(f"it covers incident {approval.incident_id} only")
    if now >= approval.expires_at:
        problems.append(f"it expired at {iso(approval.expires_at)}")
    over = [f"{what} {asked:g} > approved {allowed:g}" for what, asked, allowed in (
        ("radius_m", radius_m, approval.max_radius_m), ("before_min", before_min, approval.max_before_min),
        ("after_min", after_min, approval.max_after_min)) if asked > allowed]
    problems.extend(over)
    if problems:
        raise AccessDenied(f"approval {approval.approval_id} does not cover this canvass: {'; '.join(problems)}. "
                           "Ask a supervisor for an approval matching the request (s.grant_approval(...))")
