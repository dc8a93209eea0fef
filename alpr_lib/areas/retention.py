"""Retention and purge (policy 462.4, Government Code 34090.6): the purge of reads past the retention period
from every copy of the read data, its certificates, the retention status, and how old the reads that searches
returned were (the State Auditor's recommendation for basing retention on need)."""

from __future__ import annotations

import json
from dataclasses import KW_ONLY
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.records import audit_log as audit_rows
from alpr_lib.records import purges as purge_rows
from alpr_lib.retention.ages import age_statistics
from alpr_lib.retention.purge import PurgeReport, cutoff_of, oldest_read, plan_purge, purge
from alpr_lib.timeutil import iso

__all__ = ["CERTIFICATE_SCHEMA"]

CERTIFICATE_SCHEMA = {"purge_id": pl.String, "day": pl.String, "reads_deleted": pl.Int64, "reads_held": pl.Int64,
                      "purged_at": pl.String, "purged_by": pl.String, "cutoff": pl.String, "audit_seq": pl.Int64,
                      "audit_hash": pl.String}


@action("retention.purge", permission="records.purge", namespace="retention", method="purge", aliases=("purge",),
        result="PurgeReport")
class Purge(Request):
    """Remove every read captured more than ``retention_days`` ago and kept by no legal hold, from every copy
    (day files, plate buckets, the plate dictionary, images and crops, corrections, alerts), and write a
    purge certificate (per day: reads deleted and kept under hold; time; operator; the audit head).
    ``dry_run=True`` only counts. Crash-safe: a killed purge loses nothing and completes when run again."""

    _: KW_ONLY
    dry_run: bool = False
    progress: bool = True

    def describe(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run}

    def work(self, ctx: Context, plan: Plan) -> Result:
        def result(report: PurgeReport) -> Result:
            return Result(report, report.reads_deleted, report.audit_elements())

        if self.dry_run:
            return result(purge(ctx.store, ctx.now, username=ctx.user.username, dry_run=True))
        report = purge(ctx.store, ctx.now, username=ctx.user.username, progress=self.progress,
                       on_commit=lambda tx, pending: ctx.audit_in(tx, result(pending)))  # one transaction
        return result(report)


def _certificates(ctx: Context) -> pl.DataFrame:
    rows = purge_rows.certificates(ctx.db)
    return pl.DataFrame(rows, schema=CERTIFICATE_SCHEMA) if rows else pl.DataFrame(schema=CERTIFICATE_SCHEMA)


@action("retention.status", permission="records.view", namespace="retention", method="status",
        needs_training=False, result="dict")
class RetentionStatus(Request):
    """The retention period, the oldest stored read, the reads due for purge now (past retention and not held,
    and those held) and the last purge. Reveals no plate."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        due = plan_purge(ctx.store, ctx.now)
        last = purge_rows.last_run(ctx.db)
        oldest = oldest_read(ctx.store)
        status = {"retention_days": int(ctx.config.retention_days),
                  "cutoff": iso(cutoff_of(ctx.now, int(ctx.config.retention_days))),
                  "oldest_read": iso(oldest) if oldest is not None else None,
                  "reads_due_for_purge": due.reads_deleted, "reads_held_past_retention": due.reads_held,
                  "days_due": sum(1 for d in due.days if d.deleted),
                  "last_purge": None if last is None else {
                      k: last[k] for k in ("purge_id", "purged_at", "purged_by", "cutoff", "reads_deleted",
                                           "reads_held", "audit_seq", "audit_hash")}}
        return Result(status, 1, {"reads_due_for_purge": due.reads_deleted})


@action("retention.certificates", permission="records.view", namespace="retention", method="certificates",
        needs_training=False, result="polars.DataFrame")
class PurgeCertificates(Request):
    """Every purge certificate line: per purge and UTC capture day, reads deleted and kept under hold, when,
    by whom, the cutoff and the purge's own audit record (seq and hash)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        frame = _certificates(ctx)
        return Result(frame, frame.height)


@action("retention.certificate", permission="records.view", namespace="retention", method="certificate",
        needs_training=False, result="dict")
class PurgeCertificate(Request):
    """One purge's certificate as a document: the purge, its days and the signed audit head it embeds."""

    purge_id: str

    def work(self, ctx: Context, plan: Plan) -> Result:
        from alpr_lib.errors import NotFound

        run = next((r for r in purge_rows.runs(ctx.db) if r["purge_id"] == self.purge_id), None)
        if run is None:
            raise NotFound(f"no purge {self.purge_id[:60]!r}; s.retention.certificates() lists them")
        days = _certificates(ctx).filter(pl.col("purge_id") == self.purge_id)
        document = {**{k: v for k, v in run.items() if k != "audit_anchor"},
                    "audit_anchor": json.loads(run["audit_anchor"]),
                    "days": days.select("day", "reads_deleted", "reads_held").to_dicts()}
        return Result(document, 1)


@action("retention.age_statistics", permission="records.view", namespace="retention", method="age_statistics",
        needs_training=False, result="polars.DataFrame")
class AgeStatistics(Request):
    """How old the reads that searches and plate histories returned were, by purpose: reads per age band and
    the share older than a year (report 2019-118: base the retention period on need)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        rows = [r for action in ("reads.search", "reads.history")
                for r in audit_rows.select(ctx.db, audit_rows.AuditFilter(action=action, outcome="allowed"))]
        frame = age_statistics(rows)
        return Result(frame, frame.height)
