"""The audit log (policy 462.5(c), Civil Code 1798.90.52): read, export and verify it; reading is itself audited."""

from __future__ import annotations

import json
import os
from dataclasses import KW_ONLY
from pathlib import Path
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.areas.reads import Window, window_plan
from alpr_lib.errors import ValidationError
from alpr_lib.private_files import UnsafeFileError, atomic_private
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.timeutil import TimeLike, iso, requested_window

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
