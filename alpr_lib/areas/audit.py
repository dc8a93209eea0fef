"""The audit log (policy 462.5(c), Civil Code 1798.90.52): read, export and verify it, review it against the
published rules, mark and export flags, look up who queried a plate, write the periodic report and the
transparency figures; every one of these is itself audited."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.actions import actions as _actions
from alpr_lib.access.door import Context
from alpr_lib.areas.reads import Window, window_plan
from alpr_lib.errors import NotFound, ValidationError
from alpr_lib.normalise import full_plate
from alpr_lib.private_files import UnsafeFileError, atomic_private, write_private_atomic
from alpr_lib.records import flag_reviews as flag_review_rows
from alpr_lib.records import incidents as incident_rows
from alpr_lib.records import sessions as session_rows
from alpr_lib.records import users as user_rows
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.review.engine import run_rules, touches_plate
from alpr_lib.review.model import Account, Flag, ReviewInput, entry_from_row
from alpr_lib.review.result import AuditReview, summarise
from alpr_lib.review.rules import RULE_IDS, RuleSet, rule_set
from alpr_lib.timeutil import TimeLike, iso, parse_iso, requested_window, resolved_window, time_window

_SCHEMA = {"seq": pl.Int64, "time": pl.String, "session_id": pl.String, "username": pl.String,
           "organisation": pl.String, "action": pl.String, "query": pl.String, "purpose": pl.String,
           "case_number": pl.String, "result_count": pl.Int64, "client": pl.String, "outcome": pl.String,
           "reason": pl.String, "store_kind": pl.String, "prev_hash": pl.String, "hash": pl.String}


def audit_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=_SCHEMA, orient="row") if rows else pl.DataFrame(schema=_SCHEMA)
    return frame.with_columns(pl.col("time").str.to_datetime(time_zone="UTC", time_unit="us"))


@action("audit.read", permission="audit.review", namespace="audit", method="records", needs_training=False,
        aliases=("audit_records",), result="polars.DataFrame")
class AuditRecords(Request):
    """Audit records as a DataFrame (auditors, administrators); reading the log is itself audited."""

    _: KW_ONLY
    start: TimeLike = None
    end: TimeLike = None
    username: str | None = None
    action: str | None = None
    outcome: str | None = None
    limit: int | None = None

    def describe(self) -> dict[str, Any]:
        return {**requested_window(self.start, self.end), "username": self.username, "action": self.action,
                "outcome": self.outcome}

    def plan(self, ctx: Context) -> Window:
        if self.limit is not None and self.limit < 0:  # SQLite reads LIMIT -1 as "all", PostgreSQL refuses it
            raise ValidationError(f"limit must be zero or more (or None for every record), not {self.limit}")
        return window_plan(ctx, self.start, self.end)

    def work(self, ctx: Context, plan: Window) -> Result:
        rows = ctx.store.audit.rows(AuditFilter(
            username=self.username, action=self.action, outcome=self.outcome,
            start=iso(plan.start) if plan.start else None, end=iso(plan.end) if plan.end else None,
            limit=self.limit))
        frame = audit_frame(rows)
        return Result(frame, frame.height)


@action("audit.export", permission="audit.review", namespace="audit", method="export", needs_training=False,
        aliases=("export_audit",), result="int")
class ExportAudit(Request):
    """Write the whole audit log to ``path`` (one JSON object per record); returns the record count."""

    path: str | os.PathLike
    _: KW_ONLY
    fmt: str = "jsonl"

    def describe(self) -> dict[str, Any]:
        return {"format": self.fmt, "path": str(self.path)}

    def plan(self, ctx: Context) -> Plan:
        if self.fmt != "jsonl":
            raise ValidationError(f"unsupported audit export format {self.fmt!r}; use 'jsonl'")
        _check_export_path(self.path)
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        target = Path(self.path)
        rows = ctx.store.audit.rows()
        # audit data: 0600 whatever the umask, replacing the target atomically, never through a symlink
        try:
            with atomic_private(target, "w", encoding="utf-8", make_dirs=False) as handle:
                for row in rows:
                    row["query"] = json.loads(row["query"])
                    handle.write(json.dumps(row, sort_keys=True) + "\n")
        except UnsafeFileError:
            raise
        except OSError as exc:  # the path the user gave: too long a name, no permission, a full disk
            raise ValidationError(f"cannot write the audit export to {str(target)[:200]!r}: "
                                  f"{exc.strerror or exc}; give a writable file path") from None
        return Result(len(rows), len(rows))


def _check_export_path(path: str | os.PathLike) -> None:
    """Refuse before any record is read a path that can never be written: the plan says what to give."""
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise ValidationError(f"give the export file's path, e.g. 'audit.jsonl', not {text!r:.80}")
    target = Path(text)
    try:
        if target.is_dir():
            raise ValidationError(f"{text[:200]!r} is a directory; give a file path such as "
                                  f"{str(target / 'audit.jsonl')[:200]!r}")
        if not target.parent.is_dir():
            raise ValidationError(f"the folder of {text[:200]!r} does not exist; create it first")
    except OSError as exc:  # e.g. a file name longer than the file system allows
        raise ValidationError(f"cannot use {text[:200]!r} as the export path: {exc.strerror or exc}") from None


@action("audit.verify", permission="audit.review", namespace="audit", method="verify", needs_training=False,
        aliases=("verify_audit",), result="VerifyResult")
class VerifyAudit(Request):
    """Verify the chain and checkpoints (also available without login: ``alpr audit verify``)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        result = ctx.store.audit.verify()
        return Result(result, result.records)


# ------------------------------------------------------------------ audit review (issue 14, policy 462.5(c))
@dataclass(frozen=True)
class ReviewWindow(Window):
    """The review's resolved period (the last ``default_window_days`` days unless start/end are given)."""


def back_from(hi: datetime, days: float) -> datetime:
    """``hi`` minus ``days`` (and a day's margin), refused plainly where that leaves the calendar."""
    try:
        hi - timedelta(days=days + 1)
        return hi - timedelta(days=days)
    except OverflowError:
        raise ValidationError(f"the period ending {hi:%Y-%m-%d} would start before year 1; give a later end") \
            from None


def review_window(ctx: Context, start: TimeLike, end: TimeLike) -> ReviewWindow:
    lo, hi = time_window(start, end, ctx.config.zone)
    hi = hi or ctx.now
    lo = lo or back_from(hi, review_rules(ctx).default_window_days)
    if hi <= lo:
        raise ValidationError(f"the review's end ({end}) is not after its start ({start})")
    return ReviewWindow(lo, hi)


def review_rules(ctx: Context) -> RuleSet:
    """The published rules with the department's tuning (setting ``audit_rules``)."""
    return rule_set(ctx.config.audit_rules)


def review_input(ctx: Context, start: datetime, end: datetime) -> ReviewInput:
    """What the rules read, from the records database: the log up to ``end``, accounts, open sessions, cases."""
    from alpr_lib.access.actions import actions

    rows = ctx.store.audit.rows(AuditFilter(end=iso(end)))
    entries = [entry_from_row(r) for r in rows]
    accounts = tuple(Account(u.username, u.disabled, u.member_type, u.roles, parse_iso(u.created_at))
                     for u in user_rows.list_rows(ctx.store.accounts_db))
    return ReviewInput(start, end, ctx.config.zone, tuple(e for e in entries if e.time >= start),
                       tuple(e for e in entries if e.time < start), accounts, session_rows.open_by_user(ctx.db),
                       ctx.config.case_number_pattern, frozenset(incident_rows.case_numbers(ctx.db)),
                       frozenset(a.name for a in actions() if a.needs_purpose))


def run_review(ctx: Context, window: Window) -> AuditReview:
    """Every enabled rule over the period, with the chain's verification and the auditors' findings so far."""
    rules = review_rules(ctx)
    data = review_input(ctx, window.start, window.end)
    flags = run_rules(data, rules)
    chain = ctx.store.audit.verify().as_dict()
    reviewed = flag_review_rows.latest_by_flag(ctx.db, [f.flag_id for f in flags])
    return summarise(data, flags, rules, chain, reviewed)


def _review_elements(review: AuditReview) -> dict[str, Any]:
    return {"flags": review.counts(), "chain_status": review.chain.get("status"),
            "records_reviewed": review.records_reviewed}


@action("audit.review", permission="audit.review", namespace="audit", method="review", needs_training=False,
        aliases=("audit_review",), result="AuditReview")
class ReviewAudit(Request):
    """Review the audit log against the published rules (alpr_lib/data/audit_rules.toml, tuned by the setting
    ``audit_rules``): activity per user and purpose, and flags that each name their rule, user, records and why.
    Without start/end it covers the last 30 days. The chain's verification is part of every review; the review
    is itself audited."""

    _: KW_ONLY
    start: TimeLike = None
    end: TimeLike = None
    username: str | None = None
    rule: str | None = None

    def describe(self) -> dict[str, Any]:
        return {**requested_window(self.start, self.end), "username": self.username, "rule": self.rule}

    def plan(self, ctx: Context) -> ReviewWindow:
        if self.rule is not None and self.rule not in RULE_IDS:
            raise ValidationError(f"unknown audit rule {self.rule!r}; the rules are {', '.join(RULE_IDS)}")
        return review_window(ctx, self.start, self.end)

    def work(self, ctx: Context, plan: ReviewWindow) -> Result:
        review = run_review(ctx, plan)
        if self.username or self.rule:
            kept = tuple(f for f in review.flags if (not self.username or f.username == self.username)
                         and (not self.rule or f.rule == self.rule))
            review = dataclasses.replace(review, flags=kept)
        return Result(review, len(review.flags), _review_elements(review))


def _find_flag(ctx: Context, flag_id: str, window: ReviewWindow) -> tuple[AuditReview, Flag]:
    if not isinstance(flag_id, str) or not flag_id.strip():
        raise ValidationError("give the flag's id, e.g. 'repeated_plate-3f2a9c81d0e4' (alpr audit review shows it)")
    review = run_review(ctx, window)
    flag = review.flag(flag_id.strip())
    if flag is None:
        raise NotFound(f"no flag {flag_id!r} in the review of {iso(window.start)[:10]} to {iso(window.end)[:10]}; "
                       "give the start and end of the review it came from (a flag's id changes when its records do)")
    return review, flag


@dataclass(frozen=True)
class FlagPlan(ReviewWindow):
    flag_id: str = ""

    def audit_elements(self) -> dict[str, Any]:
        return {**super().audit_elements(), "flag_id": self.flag_id}


@action("audit.mark_reviewed", permission="audit.review", namespace="audit", method="mark_reviewed",
        needs_training=False, aliases=("mark_flag_reviewed",), result="dict")
class MarkReviewed(Request):
    """Record an auditor's finding on a flag (and the follow-up, e.g. "referred to internal affairs"); the flag
    shows as reviewed in later reviews and in the periodic report. Written with its audit record."""

    flag_id: str
    finding: str
    _: KW_ONLY
    follow_up: str | None = None
    start: TimeLike = None
    end: TimeLike = None

    def plan(self, ctx: Context) -> FlagPlan:
        if not isinstance(self.finding, str) or not self.finding.strip():
            raise ValidationError("say what the review found, e.g. finding='lookups tied to case 26-004512; "
                                  "no misuse'")
        window = review_window(ctx, self.start, self.end)
        return FlagPlan(window.start, window.end, str(self.flag_id).strip())

    def work(self, ctx: Context, plan: FlagPlan) -> Result:
        _, flag = _find_flag(ctx, plan.flag_id, plan)
        row = {"review_id": uuid.uuid4().hex, "flag_id": flag.flag_id, "rule": flag.rule, "username": flag.username,
               "records": list(flag.records), "explanation": flag.explanation, "finding": self.finding.strip(),
               "follow_up": (self.follow_up or "").strip() or None, "reviewed_by": ctx.user.username,
               "reviewed_at": iso(ctx.now)}
        result = Result(row, 1, {"rule": flag.rule, "flagged_user": flag.username, "records": list(flag.records)})
        with ctx.db.transaction() as tx:
            flag_review_rows.insert(tx, row)
            ctx.audit_in(tx, result)
        return result


@action("audit.export_flag", permission="audit.review", namespace="audit", method="export_flag",
        needs_training=False, aliases=("export_flag",), result="int")
class ExportFlag(Request):
    """Write a flag and every audit record it names to ``path`` (JSON lines: the flag first, then the records
    with their chain hashes), for an internal-affairs file; returns the number of records."""

    flag_id: str
    path: str | os.PathLike
    _: KW_ONLY
    start: TimeLike = None
    end: TimeLike = None

    def describe(self) -> dict[str, Any]:
        return {"flag_id": str(self.flag_id), "path": str(self.path), **requested_window(self.start, self.end)}

    def plan(self, ctx: Context) -> FlagPlan:
        _check_export_path(self.path)
        window = review_window(ctx, self.start, self.end)
        return FlagPlan(window.start, window.end, str(self.flag_id).strip())

    def work(self, ctx: Context, plan: FlagPlan) -> Result:
        review, flag = _find_flag(ctx, plan.flag_id, plan)
        wanted = set(flag.records)
        rows = [r for r in ctx.store.audit.rows(AuditFilter(end=iso(plan.end))) if r["seq"] in wanted]
        header = {"flag": flag.as_dict(), "exported_by": ctx.user.username, "exported_at": iso(ctx.now),
                  "chain": review.chain, "review": review.reviewed.get(flag.flag_id)}
        try:
            with atomic_private(Path(self.path), "w", encoding="utf-8", make_dirs=False) as handle:
                handle.write(json.dumps(header, sort_keys=True, default=str) + "\n")
                for row in rows:
                    row["query"] = json.loads(row["query"])
                    handle.write(json.dumps(row, sort_keys=True) + "\n")
        except UnsafeFileError:
            raise
        except OSError as exc:
            raise ValidationError(f"cannot write the flag export to {str(self.path)[:200]!r}: "
                                  f"{exc.strerror or exc}; give a writable file path") from None
        return Result(len(rows), len(rows), {"rule": flag.rule, "flagged_user": flag.username,
                                             "records": list(flag.records)})


_LOOKUP_SCHEMA = {"seq": pl.Int64, "time": pl.String, "username": pl.String, "action": pl.String,
                  "outcome": pl.String, "how": pl.String, "purpose": pl.String, "case_number": pl.String,
                  "note": pl.String, "result_count": pl.Int64, "client": pl.String}


@action("audit.plate_lookups", permission="audit.review", namespace="audit", method="plate_lookups",
        needs_training=False, aliases=("plate_lookups",), result="polars.DataFrame")
class PlateLookups(Request):
    """Reverse lookup: every access that queried or returned ``plate`` (who looked it up, when, why). ``how``
    says whether the plate was asked for, matched a partial pattern, or was among the plates returned."""

    plate: str
    _: KW_ONLY
    start: TimeLike = None
    end: TimeLike = None

    def describe(self) -> dict[str, Any]:
        return {"plate": self.plate, **requested_window(self.start, self.end)}

    def plan(self, ctx: Context) -> Window:
        full_plate(self.plate, hint="the reverse lookup takes one full plate")
        return window_plan(ctx, self.start, self.end)

    def work(self, ctx: Context, plan: Window) -> Result:
        plate = full_plate(self.plate)
        rows = ctx.store.audit.rows(AuditFilter(start=iso(plan.start) if plan.start else None,
                                                end=iso(plan.end) if plan.end else None))
        out = []
        for row in rows:
            entry = entry_from_row(row)
            how = touches_plate(entry, plate)
            if how:
                out.append({"seq": entry.seq, "time": row["time"], "username": entry.username, "action": entry.action,
                            "outcome": entry.outcome, "how": how, "purpose": entry.purpose,
                            "case_number": entry.case_number, "note": entry.note, "result_count": entry.result_count,
                            "client": entry.client})
        frame = pl.DataFrame(out, schema=_LOOKUP_SCHEMA, orient="row") if out else pl.DataFrame(schema=_LOOKUP_SCHEMA)
        frame = frame.with_columns(pl.col("time").str.to_datetime(time_zone="UTC", time_unit="us"))
        return Result(frame, frame.height, {"records_found": frame.get_column("seq").to_list()[:500]})


@dataclass(frozen=True)
class PeriodPlan(Plan):
    period: str = ""
    start: Any = None
    end: Any = None

    def audit_elements(self) -> dict[str, Any]:
        return {"period": self.period, **resolved_window(self.start, self.end)}


@action("audit.report", permission="audit.review", namespace="audit", method="report", needs_training=False,
        aliases=("audit_report",), result="dict")
class AuditReport(Request):
    """Write the periodic audit report for ``period`` ('2026-Q3', '2026-07' or '2026') to ``path`` as print-ready
    HTML (print it to PDF from a browser): period, who audited, how the sample was drawn, what was reviewed,
    findings, follow-up and the chain's status. Returns what it wrote (path, flags, sample size)."""

    period: str
    path: str | os.PathLike
    _: KW_ONLY
    sample_size: int = 25

    def plan(self, ctx: Context) -> PeriodPlan:
        from alpr_lib.reports.period import parse_period

        if not 0 <= self.sample_size <= 1000:
            raise ValidationError(f"sample_size must be between 0 and 1000, not {self.sample_size}")
        _check_export_path(self.path)
        start, end = parse_period(self.period, ctx.config.zone)
        return PeriodPlan(self.period.strip().upper(), start, min(end, max(ctx.now, start + timedelta(seconds=1))))

    def work(self, ctx: Context, plan: PeriodPlan) -> Result:
        from alpr_lib.reports.audit_report import draw_sample, render_report

        review = run_review(ctx, ReviewWindow(plan.start, plan.end))
        data_actions = {a.name for a in _actions() if a.needs_purpose}
        sample = draw_sample(review_input(ctx, plan.start, plan.end).records, data_actions, plan.period,
                             self.sample_size)
        findings = flag_review_rows.select(ctx.db, start=iso(plan.start))
        text = render_report(review, plan.period, ctx.user, sample, findings, generated_at=ctx.now)
        try:
            write_private_atomic(Path(self.path), text, make_dirs=False)
        except UnsafeFileError:
            raise
        except OSError as exc:
            raise ValidationError(f"cannot write the report to {str(self.path)[:200]!r}: {exc.strerror or exc}"
                                  ) from None
        summary = {"path": str(self.path), "period": plan.period, "flags": len(review.flags),
                   "records_reviewed": review.records_reviewed, "sample": len(sample),
                   "chain_status": review.chain.get("status")}
        return Result(summary, len(review.flags), _review_elements(review))


@action("audit.transparency", permission="reports.transparency", namespace="audit", method="transparency",
        needs_training=False, aliases=("transparency_figures",), result="dict")
class TransparencyFigures(Request):
    """Aggregate, plate-free figures for the public transparency page (policy 462.2.1(g)), from the real records
    and audit log: cameras, reads kept, data accesses by purpose and kind, refusals, audits done, retention."""

    _: KW_ONLY
    start: TimeLike = None
    end: TimeLike = None

    def describe(self) -> dict[str, Any]:
        return requested_window(self.start, self.end)

    def plan(self, ctx: Context) -> Window:
        lo, hi = time_window(self.start, self.end, ctx.config.zone)
        hi = hi or ctx.now
        return Window(lo or back_from(hi, 365), hi)

    def work(self, ctx: Context, plan: Window) -> Result:
        from alpr_lib.reports.figures import transparency_figures

        figures = transparency_figures(ctx, plan.start, plan.end)
        return Result(figures, 0, {"figures": sorted(figures)})
