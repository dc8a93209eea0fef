"""Hotlist alerts and their verification (policy 462.3(f): verify through CLETS before enforcement action).

Workflow: ``new`` -> ``verified`` (who, when, the CLETS confirmation reference, whether the vehicle matches
the description) or ``rejected`` (misread, state mismatch, stale entry, vehicle mismatch, other); a verified
alert then gets its disposition (stop made, arrest, recovery, no action). A disposition before verification
is refused. A user sees and handles only alerts of the sources granted to them (462.3(e)). Every step is
one audited action whose record commits with the change."""

from __future__ import annotations

import statistics
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.areas.hotlists import granted_sources, require_source
from alpr_lib.areas.reads import stored_image
from alpr_lib.errors import AccessDenied, NotFound, ValidationError
from alpr_lib.records import alerts as alert_rows
from alpr_lib.timeutil import TimeLike, iso, parse_iso, requested_window, time_window

__all__ = ["ALERT_SCHEMA", "AlertFigures", "DisposeAlert", "GetAlert", "ListAlerts", "RejectAlert", "VerifyAlert"]

Status = Literal["new", "verified", "rejected"]
Reason = Literal["misread", "state mismatch", "stale entry", "vehicle mismatch", "other"]
Disposition = Literal["stop made", "arrest", "recovery", "no action"]

ALERT_SCHEMA: dict[str, Any] = {c: pl.String for c in alert_rows.COLUMNS} | {
    "priority": pl.Int64, "stale": pl.Boolean, "reads": pl.Int64, "lat": pl.Float64, "lon": pl.Float64,
    "vehicle_matches": pl.Boolean}
#: alerts returned by one list call (the count is always complete in the audit record)
MAX_ALERTS = 1_000


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    out = []
    for r in rows:
        row = dict(r)
        row["stale"] = bool(row["stale"])
        row["vehicle_matches"] = None if row["vehicle_matches"] is None else bool(row["vehicle_matches"])
        out.append(row)
    return pl.DataFrame(out, schema=ALERT_SCHEMA, orient="row")


def _alert_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValidationError(f"alert_id must be an alert's id (AL-...), not {value!r:.40}")
    return value.strip()


def _require_alert(ctx: Context, alert_id: str, what: str) -> dict[str, Any]:
    row = alert_rows.get(ctx.db, _alert_id(alert_id))
    if row is None:
        raise NotFound(f"no alert {alert_id!r:.40}; `alpr alerts list` shows the alerts you may see")
    require_source(ctx, row["source"], what)
    return row


def _text(name: str, value: str | None, *, required: bool = False, limit: int = 500) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(f"{name} is required")
    if len(text) > limit:
        raise ValidationError(f"{name} is at most {limit} characters")
    return text or None


@action("alerts.list", permission="alerts.review", namespace="alerts", method="list", result="polars.DataFrame")
class ListAlerts(Request):
    """Alerts from the sources granted to you, most urgent first (AMBER and wanted persons first, then the
    newest). ``status`` picks new, verified or rejected ones; a date or naive time is in the department's zone.
    ``with_images=True`` adds an ``image`` column: the plate crop's bytes where the store holds one."""

    _: KW_ONLY
    status: Status | None = None
    start: TimeLike = None
    end: TimeLike = None
    limit: int = 200
    with_images: bool = False

    def describe(self) -> dict[str, Any]:
        return {"status": self.status, "limit": self.limit, "with_images": self.with_images,
                **requested_window(self.start, self.end)}

    def plan(self, ctx: Context) -> Plan:
        if not 1 <= self.limit <= MAX_ALERTS:
            raise ValidationError(f"limit must be 1 to {MAX_ALERTS}, not {self.limit}")
        time_window(self.start, self.end, ctx.config.zone)
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        lo, hi = time_window(self.start, self.end, ctx.config.zone)
        granted = granted_sources(ctx)
        rows = alert_rows.rows(ctx.db, status=self.status, sources=granted, start=iso(lo) if lo else None,
                               end=iso(hi) if hi else None, limit=self.limit)
        frame = _frame(rows)
        if self.with_images:
            frame = frame.with_columns(pl.Series("image", [stored_image(ctx, r) for r in frame["image_ref"].to_list()],
                                                 dtype=pl.Binary))
        return Result(frame, frame.height, {"sources_granted": sorted(granted),
                                            "alerts_returned": frame["alert_id"].to_list()[:200],
                                            "plates_returned": sorted(set(frame["plate"].to_list()))[:200]})


@action("alerts.get", permission="alerts.review", namespace="alerts", method="get", result="dict")
class GetAlert(Request):
    """One alert with the reads of its encounter and the plate crop (``image``: bytes) where the store holds
    one."""

    alert_id: str

    def plan(self, ctx: Context) -> Plan:
        _require_alert(ctx, self.alert_id, "see this alert")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        row = dict(_require_alert(ctx, self.alert_id, "see this alert"))
        row["stale"] = bool(row["stale"])
        row["encounter_reads"] = alert_rows.reads_of(ctx.db, row["alert_id"])
        row["image"] = stored_image(ctx, row.get("image_ref"))
        return Result(row, 1, {"alert_id": row["alert_id"], "plates_returned": [row["plate"]]})


def _change(ctx: Context, row: dict[str, Any], changes: dict[str, Any], expect: str,
            elements: dict[str, Any]) -> Result:
    """Apply a workflow step if the alert still has status ``expect``; its audit record commits with it."""
    with ctx.db.transaction() as tx:
        if not alert_rows.update(tx, row["alert_id"], {**changes, "updated_at": iso(ctx.now)}, expect_status=expect):
            raise ValidationError(f"alert {row['alert_id']} changed meanwhile (it is no longer {expect}); list it "
                                  "again")
        after = dict(alert_rows.get(tx, row["alert_id"]) or {})
        after["stale"] = bool(after.get("stale"))
        result = Result(after, 1, {"alert_id": row["alert_id"], "plate": row["plate"],
                                   "status_before": row["status"], **elements})
        ctx.audit_in(tx, result)
    return result


@action("alerts.verify", permission="alerts.review", namespace="alerts", method="verify", result="dict")
class VerifyAlert(Request):
    """Record that a new alert was confirmed through CLETS (policy 462.3(f)): the confirmation reference is
    required; whether the vehicle matches the entry's description and what it looks like are optional.
    Only a verified alert may get a disposition."""

    alert_id: str
    clets_ref: str
    _: KW_ONLY
    vehicle_matches: bool | None = None
    vehicle_description: str | None = None
    note: str | None = None

    def plan(self, ctx: Context) -> Plan:
        row = _require_alert(ctx, self.alert_id, "verify this alert")
        _text("clets_ref", self.clets_ref, required=True, limit=64)
        _text("vehicle_description", self.vehicle_description)
        _text("note", self.note, limit=2000)
        if row["status"] != "new":
            raise ValidationError(f"alert {row['alert_id']} is already {row['status']}; only a new alert is verified")
        if self.vehicle_matches is False:
            raise ValidationError("the vehicle does not match the entry: reject the alert with reason 'vehicle "
                                  "mismatch' instead of verifying it")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        row = _require_alert(ctx, self.alert_id, "verify this alert")
        ref = _text("clets_ref", self.clets_ref, required=True, limit=64)
        changes = {"status": "verified", "verified_by": ctx.user.username, "verified_at": iso(ctx.now),
                   "clets_ref": ref, "vehicle_matches": None if self.vehicle_matches is None
                   else int(self.vehicle_matches), "vehicle_description": _text("vehicle_description",
                                                                                self.vehicle_description),
                   "note": _text("note", self.note, limit=2000)}
        return _change(ctx, row, changes, "new", {"status": "verified", "clets_ref": ref})


@action("alerts.reject", permission="alerts.review", namespace="alerts", method="reject", result="dict")
class RejectAlert(Request):
    """Record that a new alert was wrong, and why: misread, state mismatch, stale entry, vehicle mismatch, or
    other (say what in ``note``). The reasons make the false-hit figures."""

    alert_id: str
    reason: Reason
    _: KW_ONLY
    note: str | None = None

    def plan(self, ctx: Context) -> Plan:
        row = _require_alert(ctx, self.alert_id, "reject this alert")
        _text("note", self.note, required=self.reason == "other", limit=2000)
        if row["status"] != "new":
            raise ValidationError(f"alert {row['alert_id']} is already {row['status']}; only a new alert is rejected")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        row = _require_alert(ctx, self.alert_id, "reject this alert")
        changes = {"status": "rejected", "rejected_reason": self.reason, "rejected_by": ctx.user.username,
                   "rejected_at": iso(ctx.now), "note": _text("note", self.note, limit=2000)}
        return _change(ctx, row, changes, "new", {"status": "rejected", "reason": self.reason})


@action("alerts.dispose", permission="alerts.review", namespace="alerts", method="dispose", result="dict")
class DisposeAlert(Request):
    """Record what was done about a verified alert: stop made, arrest, recovery or no action. Refused before
    verification (policy 462.3(f): no enforcement action on an unverified alert)."""

    alert_id: str
    disposition: Disposition
    _: KW_ONLY
    note: str | None = None

    def plan(self, ctx: Context) -> Plan:
        row = _require_alert(ctx, self.alert_id, "dispose this alert")
        _text("note", self.note, limit=2000)
        if row["status"] != "verified":
            raise AccessDenied(f"alert {row['alert_id']} is {row['status']}, not verified: confirm it through CLETS "
                               f"first (`alpr alerts verify {row['alert_id']} --clets-ref REF`); no enforcement "
                               "action on an unverified alert (policy 462.3(f))",
                               audit_elements={"alert_id": row["alert_id"], "status": row["status"]})
        if row["disposition"] is not None:
            raise ValidationError(f"alert {row['alert_id']} already has the disposition {row['disposition']!r}")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        row = _require_alert(ctx, self.alert_id, "dispose this alert")
        changes = {"disposition": self.disposition, "disposed_by": ctx.user.username, "disposed_at": iso(ctx.now)}
        if self.note:
            changes["note"] = "; ".join(x for x in (row["note"], _text("note", self.note, limit=2000)) if x)
        return _change(ctx, row, changes, "verified", {"disposition": self.disposition})


@dataclass(frozen=True)
class _Window(Plan):
    start: Any = None
    end: Any = None


@action("alerts.figures", permission="alerts.figures", namespace="alerts", method="figures", needs_training=False,
        result="dict")
class AlertFigures(Request):
    """Hotlist figures (counts only, no plate data): ``hits`` (alerts), ``verified``, ``rejected``, ``new``,
    ``verification_rate`` (verified / decided), ``false_hit_rate`` and ``false_hit_rate_by_reason`` (rejected
    for each reason / decided), ``median_minutes_to_verify`` (alert raised -> verified), by match kind and by
    category. ``start``/``end`` bound the capture time (department's zone for dates)."""

    start: TimeLike = None
    end: TimeLike = None

    def describe(self) -> dict[str, Any]:
        return requested_window(self.start, self.end)

    def plan(self, ctx: Context) -> _Window:
        lo, hi = time_window(self.start, self.end, ctx.config.zone)
        return _Window(lo, hi)

    def work(self, ctx: Context, plan: _Window) -> Result:
        rows = alert_rows.rows(ctx.db, start=iso(plan.start) if plan.start else None,
                               end=iso(plan.end) if plan.end else None)
        figures = figures_of(rows)
        return Result(figures, figures["hits"])


def figures_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of a set of alert rows (see :class:`AlertFigures`)."""
    verified = [r for r in rows if r["status"] == "verified"]
    rejected = [r for r in rows if r["status"] == "rejected"]
    decided = len(verified) + len(rejected)
    by_reason: dict[str, float] = {}
    for r in rejected:
        by_reason[r["rejected_reason"]] = by_reason.get(r["rejected_reason"], 0) + 1
    minutes = [(parse_iso(r["verified_at"]) - parse_iso(r["created_at"])).total_seconds() / 60 for r in verified]

    def count(key: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in rows:
            out[r[key]] = out.get(r[key], 0) + 1
        return out

    return {
        "hits": len(rows), "new": len(rows) - decided, "verified": len(verified), "rejected": len(rejected),
        "disposed": sum(1 for r in verified if r["disposition"]),
        "verification_rate": round(len(verified) / decided, 4) if decided else None,
        "false_hit_rate": round(len(rejected) / decided, 4) if decided else None,
        "false_hit_rate_by_reason": {k: round(v / decided, 4) for k, v in sorted(by_reason.items())},
        "median_minutes_to_verify": round(statistics.median(minutes), 2) if minutes else None,
        "by_match_kind": count("match_kind"), "by_category": count("category"),
        "stale_hits": sum(1 for r in rows if r["stale"]),
        "state_flagged": sum(1 for r in rows if r["state_flag"]),
    }
