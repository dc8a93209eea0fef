"""Release requests (policy 462.7, Civil Code 1798.90.55): the written request of another agency, refused at
once when the law bars the recipient (federal, private, other, out of state: the refusal is kept on file),
decided by the Administration Division Commander or the recorded designee (never by whoever entered it), and
fulfilled only after approval with an evidence-style package tied to the request. The register keeps every
request, decision and what was released."""

from __future__ import annotations

import os
import uuid
from dataclasses import KW_ONLY
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.areas.evidence import _key, _out_path, _secret_default, export_package
from alpr_lib.areas.holds import reads_of_plate
from alpr_lib.errors import AccessDenied, NotFound, ValidationError
from alpr_lib.normalise import full_plate
from alpr_lib.records import releases as release_rows
from alpr_lib.records.users import list_designations
from alpr_lib.releases.rules import AGENCY_TYPES, DECIDERS, refusal, require_state
from alpr_lib.timeutil import TimeLike, iso, parse_iso, requested_window, time_window

__all__ = ["REGISTER_SCHEMA", "ReleaseRefused"]

REGISTER_SCHEMA = {c: pl.Int64 if c == "reads_released" else pl.String for c in release_rows.COLUMNS}


class ReleaseRefused(AccessDenied):
    """A release request the law bars, refused at once and kept on file (the message names the legal reason)."""


def _new_id(ctx: Context) -> str:
    return f"R{ctx.now:%Y%m%d}-{uuid.uuid4().hex[:8]}"


@action("releases.add", permission="releases.add", namespace="releases", method="add", needs_training=False,
        aliases=("add_release_request",), result="dict")
class AddReleaseRequest(Request):
    """Record a written release request (462.7): the agency, its type (law-enforcement, prosecutor, federal,
    private, other) and state, the requester and a contact, the intended purpose, the plate and window that may
    be released and a description of the scope. Federal, private, other and out-of-state requests are refused at
    once with the legal reason and kept on file; private and other ones (public-records requests included) are
    routed to the Custodian of Records. Others wait for the Administration Division Commander's decision."""

    agency: str
    _: KW_ONLY
    agency_type: str
    state: str
    requester: str
    contact: str
    purpose: str
    plate: str
    scope: str
    start: TimeLike = None
    end: TimeLike = None
    case_number: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"agency": self.agency, "agency_type": self.agency_type, "state": self.state,
                "requester": self.requester, "contact": self.contact, "request_purpose": self.purpose,
                "plate": self.plate, **requested_window(self.start, self.end), "scope": self.scope,
                "request_case": self.case_number}

    def plan(self, ctx: Context) -> Plan:
        for name in ("agency", "requester", "contact", "purpose", "scope"):
            if not str(getattr(self, name)).strip():
                raise ValidationError(f"a written request names its {name} (462.7: agency, requester and intended "
                                      "purpose); give --" + name.replace("_", "-"))
        if self.agency_type not in AGENCY_TYPES:
            raise ValidationError(f"agency type must be one of {list(AGENCY_TYPES)}, not {self.agency_type[:40]!r}")
        require_state(self.state)
        full_plate(self.plate, hint="a release names one full plate")
        time_window(self.start, self.end, ctx.config.zone)
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        state = require_state(self.state)
        lo, hi = time_window(self.start, self.end, ctx.config.zone)
        refused = refusal(self.agency_type, state)
        request_id = _new_id(ctx)
        row = {"request_id": request_id, "agency": self.agency.strip(), "agency_type": self.agency_type,
               "state": state, "requester": self.requester.strip(), "contact": self.contact.strip(),
               "purpose": self.purpose.strip(), "case_number": (self.case_number or "").strip() or None,
               "plate": full_plate(self.plate), "start_at": iso(lo) if lo else None, "end_at": iso(hi) if hi else None,
               "scope": self.scope.strip(), "status": "refused" if refused else "pending",
               "legal_reason": refused[0] if refused else None, "routed_to": "custodian_of_records"
               if refused and refused[1] else None, "entered_by": ctx.user.username, "entered_at": iso(ctx.now)}
        with ctx.db.transaction() as tx:  # kept on file whatever the outcome
            release_rows.add(tx, row)
        if refused:
            routed = f"; {refused[1]}" if refused[1] else ""
            raise ReleaseRefused(f"release request {request_id} refused and kept on file: {refused[0]}{routed}",
                                 audit_elements={"request_id": request_id, "legal_reason": refused[0],
                                                 "routed_to": row["routed_to"]})
        return Result(row, 1, {"request_id": request_id, "status": "pending"})


def _decider(ctx: Context, request: dict[str, Any], verb: str) -> None:
    """Only the Administration Division Commander or the recorded designee, and never whoever entered it."""
    holders = {d["username"] for d in list_designations(ctx.db) if d["designation"] in DECIDERS}
    if ctx.user.username not in holders:
        raise AccessDenied(f"only the Administration Division Commander or the recorded designee may {verb} a "
                           f"release request (462.7, 462.2.1(e)); {ctx.user.username} holds neither designation")
    if ctx.user.username in (request["entered_by"],):
        raise AccessDenied(f"{ctx.user.username} entered release request {request['request_id']} and may not "
                           f"{verb} it: the review is by someone else (462.7)")


def _pending(ctx: Context, request_id: str) -> dict[str, Any]:
    row = release_rows.get(ctx.db, request_id)
    if row is None:
        raise NotFound(f"no release request {request_id[:60]!r}; `alpr releases list` shows the register")
    return row


class _Decide(Request):
    request_id: str
    status = "approved"
    verb = "approve"

    def plan(self, ctx: Context) -> Plan:
        row = _pending(ctx, self.request_id)
        _decider(ctx, row, self.verb)
        if row["status"] != "pending":
            raise ValidationError(f"release request {self.request_id} is {row['status']}, not pending; it cannot be "
                                  f"{self.status}")
        return Plan()

    def reason_text(self) -> str | None:
        return None

    def work(self, ctx: Context, plan: Plan) -> Result:
        with ctx.db.transaction() as tx:
            if not release_rows.set_decision(tx, self.request_id, self.status, ctx.user.username, iso(ctx.now),
                                             self.reason_text()):
                raise ValidationError(f"release request {self.request_id} was decided meanwhile")
            result = Result({"request_id": self.request_id, "status": self.status}, 1,
                            {"request_id": self.request_id, "decision": self.status})
            ctx.audit_in(tx, result)
        return result


@action("releases.approve", permission="releases.decide", namespace="releases", method="approve",
        needs_training=False, aliases=("approve_release",), result="dict")
class ApproveRelease(_Decide):
    """Approve a pending release request (Administration Division Commander or designee; not its enterer)."""

    request_id: str
    _: KW_ONLY
    note: str | None = None
    status = "approved"
    verb = "approve"

    def reason_text(self) -> str | None:
        return self.note


@action("releases.deny", permission="releases.decide", namespace="releases", method="deny", needs_training=False,
        aliases=("deny_release",), result="dict")
class DenyRelease(_Decide):
    """Deny a pending release request, with the reason (Administration Division Commander or designee)."""

    request_id: str
    _: KW_ONLY
    reason: str
    status = "denied"
    verb = "deny"

    def plan(self, ctx: Context) -> Plan:
        if not self.reason.strip():
            raise ValidationError("a denial gives its reason (--reason)")
        return super().plan(ctx)

    def reason_text(self) -> str | None:
        return self.reason.strip()


@action("releases.fulfil", permission="releases.decide", namespace="releases", method="fulfil",
        needs_purpose=True, aliases=("fulfil_release",), result="EvidencePackage", rerun_if_files_move=True)
class FulfilRelease(Request):
    """Fulfil an approved release request: an evidence-style package (reads of the approved plate and window,
    images, manifest, chain of custody naming the request) in a new folder. Only after approval, only by the
    Administration Division Commander or designee."""

    request_id: str
    _: KW_ONLY
    out: str | os.PathLike
    key_file: str | None = None
    passphrase: str | None = _secret_default()
    purpose: str | None = None
    case_number: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "out": str(self.out)[:500]}

    def plan(self, ctx: Context) -> Plan:
        row = _pending(ctx, self.request_id)
        _decider(ctx, row, "fulfil")
        if row["status"] != "approved":
            raise AccessDenied(f"release request {self.request_id} is {row['status']}: only an approved request is "
                               "fulfilled (462.7: reviewed and approved before it is fulfilled)")
        _out_path(self.out)
        _key(self.passphrase, self.key_file)
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        row = _pending(ctx, self.request_id)
        start = parse_iso(row["start_at"]) if row["start_at"] else None
        end = parse_iso(row["end_at"]) if row["end_at"] else None
        reads = reads_of_plate(ctx, row["plate"], start, end)
        case = row["case_number"] or ctx.case_number or self.request_id
        with ctx.db.transaction() as tx:
            package = export_package(
                tx, ctx, _out_path(self.out), reads, case_number=case, item=self.request_id,
                reason=f"release to {row['agency']} ({row['requester']}) for: {row['purpose']}",
                key=_key(self.passphrase, self.key_file), hold=False, release_id=self.request_id,
                extra={"release_request": self.request_id, "agency": row["agency"]})
            if not release_rows.set_fulfilled(tx, self.request_id, ctx.user.username, iso(ctx.now),
                                              package.package_id, package.reads):
                raise ValidationError(f"release request {self.request_id} is no longer approved")
            ids = sorted(reads.get_column("read_id").to_list())
            result = Result(package, package.reads, {"request_id": self.request_id, "agency": row["agency"],
                                                     "package_id": package.package_id, "plate": row["plate"],
                                                     "read_ids": ids[:200], "read_ids_count": len(ids)})
            ctx.audit_in(tx, result)
        return result


@action("releases.list", permission="releases.view", namespace="releases", method="list", needs_training=False,
        result="polars.DataFrame")
class ReleaseRegister(Request):
    """The register of every release request (462.7: retained on file): the request, its status, the legal
    reason of a refusal, the decision (by whom, when, why) and what was released (package, reads)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        rows = release_rows.all_requests(ctx.db)
        frame = pl.DataFrame(rows, schema=REGISTER_SCHEMA) if rows else pl.DataFrame(schema=REGISTER_SCHEMA)
        return Result(frame, frame.height)


@action("releases.figures", permission="releases.view", namespace="releases", method="figures",
        needs_training=False, result="dict")
class ReleaseFigures(Request):
    """Counts for the transparency page: requests approved (fulfilled included), denied, refused and pending."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        counts = release_rows.counts(ctx.db)
        figures = {"approved": counts.get("approved", 0) + counts.get("fulfilled", 0),
                   "fulfilled": counts.get("fulfilled", 0), "denied": counts.get("denied", 0),
                   "refused": counts.get("refused", 0), "pending": counts.get("pending", 0)}
        figures["total"] = sum(counts.values())
        return Result(figures, figures["total"])
