"""Cases: incidents analysts canvass around, and supervisors' approvals beyond the offense limits."""

from __future__ import annotations

from dataclasses import KW_ONLY
from typing import Any

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.checks import check_case_number
from alpr_lib.access.door import Context
from alpr_lib.analysis import approvals as approval_records
from alpr_lib.analysis import incidents as incident_records
from alpr_lib.analysis.scenes import check_extent
from alpr_lib.auth.users import require_user
from alpr_lib.errors import AccessDenied, NotFound, ValidationError
from alpr_lib.timeutil import TimeLike, iso


def case_of(ctx: Context, case_number: str) -> str:
    """A case number in the department's format (a bad one is bad input here, not a refusal)."""
    try:
        case = check_case_number(ctx.config, "criminal investigation", case_number)
    except AccessDenied as exc:
        raise ValidationError(str(exc)) from None
    if case is None:
        raise ValidationError("give the case number, e.g. 24-001234")
    return case


@action("incidents.create", permission="incidents.write", namespace="cases", method="create_incident",
        aliases=("create_incident",), result="Incident")
class CreateIncident(Request):
    """Record an incident to canvass around: a point (lat, lon) or a polygon (WKT, lon/lat order).

    ``occurred_at``/``occurred_end`` are read in the department's zone unless they carry one. With
    ``exist_ok=True`` an identical incident already on record (same case, offense, time and place) is returned
    instead of a duplicate, so notebooks can be re-run."""

    case_number: str
    offense_type: str
    occurred_at: TimeLike
    _: KW_ONLY
    occurred_end: TimeLike = None
    lat: float | None = None
    lon: float | None = None
    polygon_wkt: str | None = None
    location_name: str | None = None
    summary: str = ""
    exist_ok: bool = False

    def describe(self) -> dict[str, Any]:
        return {"case_number": self.case_number, "offense_type": self.offense_type,
                "occurred_at": str(self.occurred_at),
                "occurred_end": str(self.occurred_end) if self.occurred_end else None,
                "lat": self.lat, "lon": self.lon, "polygon_wkt": self.polygon_wkt}

    def work(self, ctx: Context, plan: Plan) -> Result:
        new = incident_records.make_incident(
            case_number=case_of(ctx, self.case_number), offense_type=self.offense_type,
            occurred_at=self.occurred_at, occurred_end=self.occurred_end, lat=self.lat, lon=self.lon,
            polygon_wkt=self.polygon_wkt, location_name=self.location_name, summary=self.summary,
            zone=ctx.config.zone, created_by=ctx.user.username, now=ctx.now)
        same = [i for i in incident_records.find_incidents(ctx.db, case_number=new.case_number)
                if i.offense_type == new.offense_type and i.occurred_start == new.occurred_start
                and i.occurred_end == new.occurred_end and i.geometry.equals_exact(new.geometry, 1e-7)]
        if same:
            if not self.exist_ok:
                raise ValidationError(f"incident {same[0].incident_id} already records this for case "
                                      f"{new.case_number}; use it, or pass exist_ok=True")
            return Result(same[0], 1, {"incident_id": same[0].incident_id, "existing": True})
        incident_records.insert_incident(ctx.db, new)
        return Result(new, 1, {"incident_id": new.incident_id, "existing": False})


@action("incidents.list", permission="reads.canvass", namespace="cases", method="incidents",
        aliases=("incidents",), result="polars.DataFrame")
class ListIncidents(Request):
    """Recorded incidents (optionally of one case or offense), oldest first."""

    _: KW_ONLY
    case_number: str | None = None
    offense_type: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"case_number": self.case_number, "offense_type": self.offense_type}

    def work(self, ctx: Context, plan: Plan) -> Result:
        found = incident_records.find_incidents(ctx.db, case_number=self.case_number,
                                                offense_type=self.offense_type)
        if self.case_number is not None and not found:  # a mistyped case number is said here, not three cells on
            raise NotFound(f"no incident on record with case number {self.case_number!r}"
                           f"{f' and offense {self.offense_type!r}' if self.offense_type else ''}; "
                           "s.cases.incidents() lists the incidents on record; s.cases.create_incident(...) "
                           "records one")
        return Result(incident_records.incidents_frame(found, ctx.config.timezone), len(found))


@action("incidents.get", permission="reads.canvass", namespace="cases", method="incident", aliases=("incident",),
        result="Incident")
class GetIncident(Request):
    """One incident record by id (to pass to canvass or to a map)."""

    incident_id: str

    def work(self, ctx: Context, plan: Plan) -> Result:
        return Result(incident_records.get_incident(ctx.db, self.incident_id), 1)


@action("approvals.grant", permission="approvals.grant", namespace="cases", method="grant_approval",
        aliases=("grant_approval",), result="str")
class GrantApproval(Request):
    """Record a supervisor's approval for ``analyst`` to canvass beyond the offense limit for this case.

    Returns the approval id the analyst passes as ``approval=``. Supervisors cannot approve themselves."""

    case_number: str
    _: KW_ONLY
    analyst: str
    offense_type: str
    radius_m: float
    before_min: float
    after_min: float
    reason: str
    incident_id: str | None = None
    valid_days: int = 7

    def describe(self) -> dict[str, Any]:
        return {"case_number": self.case_number, "analyst": self.analyst, "offense_type": self.offense_type,
                "radius_m": self.radius_m, "before_min": self.before_min, "after_min": self.after_min,
                "incident_id": self.incident_id, "valid_days": self.valid_days, "reason": self.reason}

    def work(self, ctx: Context, plan: Plan) -> Result:
        case = case_of(ctx, self.case_number)
        target = require_user(ctx.db, self.analyst)
        radius, before, after = check_extent(self.radius_m, self.before_min, self.after_min)
        if self.incident_id is not None:
            incident_records.get_incident(ctx.db, self.incident_id)
        approval = approval_records.make_approval(
            case_number=case, offense_type=self.offense_type, analyst=target.username, incident_id=self.incident_id,
            radius_m=radius, before_min=before, after_min=after, reason=self.reason, granted_by=ctx.user.username,
            now=ctx.now, valid_days=self.valid_days)
        approval_records.insert_approval(ctx.db, approval)
        return Result(approval.approval_id, 1, {"approval_id": approval.approval_id,
                                                "expires_at": iso(approval.expires_at)})
