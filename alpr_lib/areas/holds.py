"""Legal holds (policy 462.4): reads that are or will become evidence are kept past the retention period.

A hold names a case and a reason and holds a plate (within an optional window: reads of that plate ingested
later are held too) or given reads (by id, or the rows of a search result). Only a supervisor or the Custodian
of Records releases a hold, with a reason; released holds stay on file. Search, history and details show the
holds keeping each read (the ``hold`` column).
"""

from __future__ import annotations

import uuid
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.errors import NotFound, ValidationError
from alpr_lib.normalise import full_plate
from alpr_lib.records import Backend
from alpr_lib.records import holds as hold_rows
from alpr_lib.search import plates as plate_search
from alpr_lib.search.patterns import PlatePattern
from alpr_lib.timeutil import TimeLike, iso, requested_window, resolved_window, time_window

__all__ = ["HOLD_SCHEMA", "new_hold_id", "place_hold"]

#: read ids listed in an audit record (the count is always complete)
MAX_IDS_AUDITED = 200
HOLD_SCHEMA = {"hold_id": pl.String, "case_number": pl.String, "status": pl.String, "reason": pl.String,
               "plate": pl.String, "start_at": pl.String, "end_at": pl.String, "reads": pl.Int64,
               "source": pl.String, "created_by": pl.String, "created_at": pl.String, "released_by": pl.String,
               "released_at": pl.String, "release_reason": pl.String}


def new_hold_id(now: datetime) -> str:
    return f"H{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"


def place_hold(tx: Backend, ctx: Context, *, case_number: str, reason: str, read_ids: list[str],
               plate: str | None = None, start: datetime | None = None, end: datetime | None = None,
               source: str = "hold") -> str:
    """Record a hold inside ``tx`` (evidence export and release fulfilment place one too); returns its id."""
    hold_id = new_hold_id(ctx.now)
    hold_rows.add(tx, {"hold_id": hold_id, "case_number": case_number, "reason": reason, "plate": plate,
                       "start_at": iso(start) if start else None, "end_at": iso(end) if end else None,
                       "source": source, "created_by": ctx.user.username, "created_at": iso(ctx.now)})
    hold_rows.add_reads(tx, hold_id, read_ids)
    return hold_id


def reads_of_plate(ctx: Context, plate: str, start: datetime | None, end: datetime | None) -> pl.DataFrame:
    """Every stored read of one full plate within [start, end) (plate history's lookup)."""
    matched = plate_search.match_plates(ctx.store, PlatePattern.exact(plate), exact=True, start=start, end=end)
    return plate_search.reads_of_plates(ctx.store, matched, start=start, end=end)


def existing_reads(ctx: Context, read_ids: list[str]) -> pl.DataFrame:
    """The stored reads with these ids; NotFound naming the first ids the store does not hold."""
    found = plate_search.reads_by_ids(ctx.store, read_ids)
    missing = sorted(set(read_ids) - set(found.get_column("read_id").to_list()))
    if missing:
        raise NotFound(f"no read with id {', '.join(repr(m[:40]) for m in missing[:5])}"
                       f"{f' (and {len(missing) - 5} more)' if len(missing) > 5 else ''}; give ids of stored reads")
    return found


@dataclass(frozen=True)
class Selection(Plan):
    """Which reads a hold (or an export) names: a plate and window, or read ids."""

    plate: str | None
    start: datetime | None
    end: datetime | None
    read_ids: tuple[str, ...]

    def audit_elements(self) -> dict[str, Any]:
        out: dict[str, Any] = {"plate": self.plate} if self.plate else {"read_ids_given": len(self.read_ids)}
        return {**out, **resolved_window(self.start, self.end)}


def select_reads(ctx: Context, plate: str | None, start: TimeLike, end: TimeLike, read_ids: tuple[str, ...] | None,
                 reads: pl.DataFrame | None, *, what: str = "a hold") -> Selection:
    """Exactly one of a plate (with an optional window), read ids, or a result frame's read ids."""
    given = [name for name, value in (("plate", plate), ("read_ids", read_ids), ("reads", reads)) if value is not None]
    if len(given) != 1:
        raise ValidationError(f"{what} names its reads one way: plate=... (with start/end), read_ids=[...] or "
                              f"reads=<a search result>; got {given or 'none'}")
    if plate is not None:
        lo, hi = time_window(start, end, ctx.config.zone)
        return Selection(full_plate(plate, hint=f"{what} holds one full plate"), lo, hi, ())
    if start is not None or end is not None:
        raise ValidationError("start and end go with plate=...; read ids name their reads already")
    if reads is not None:
        if "read_id" not in reads.columns:
            raise ValidationError("the result has no read_id column; give a frame returned by a search or history")
        ids = reads.get_column("read_id").cast(pl.String, strict=False).drop_nulls().unique().to_list()
    else:
        ids = list(dict.fromkeys(read_ids or ()))
    ids = [i.strip() for i in ids if isinstance(i, str) and i.strip()]
    if not ids:
        raise ValidationError(f"{what} needs at least one read id")
    return Selection(None, None, None, tuple(sorted(set(ids))))


def selected_reads(ctx: Context, plan: Selection) -> pl.DataFrame:
    if plan.plate is not None:
        return reads_of_plate(ctx, plan.plate, plan.start, plan.end)
    return existing_reads(ctx, list(plan.read_ids))


@action("holds.add", permission="holds.place", namespace="holds", method="add", needs_purpose=True,
        needs_case=True, aliases=("place_hold",), result="dict", rerun_if_files_move=True)
class AddHold(Request):
    """Place a legal hold for a case: the reads of a plate (``plate=``, optional ``start``/``end``; later reads of
    that plate in the window are held too), given reads (``read_ids=``), or the rows of a search result
    (``reads=frame``). Held reads are kept past retention until the hold is released. Returns the hold."""

    reason: str
    _: KW_ONLY
    plate: str | None = None
    start: TimeLike = None
    end: TimeLike = None
    read_ids: tuple[str, ...] | None = None
    reads: pl.DataFrame | None = None
    purpose: str | None = None
    case_number: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"reason": self.reason, "plate": self.plate, **requested_window(self.start, self.end),
                "read_ids": list(self.read_ids)[:MAX_IDS_AUDITED] if self.read_ids else None,
                "reads_frame_rows": self.reads.height if isinstance(self.reads, pl.DataFrame) else None}

    def plan(self, ctx: Context) -> Selection:
        if not self.reason.strip():
            raise ValidationError("a hold needs a reason, e.g. 'evidence in the burglary at 1200 Main St'")
        return select_reads(ctx, self.plate, self.start, self.end, self.read_ids, self.reads)

    def work(self, ctx: Context, plan: Selection) -> Result:
        found = selected_reads(ctx, plan)
        ids = sorted(found.get_column("read_id").to_list())
        if plan.plate is None and not ids:
            raise NotFound("none of the given reads is stored")
        with ctx.db.transaction() as tx:
            hold_id = place_hold(tx, ctx, case_number=str(ctx.case_number), reason=self.reason.strip(),
                                 read_ids=ids, plate=plan.plate, start=plan.start, end=plan.end)
            value = {"hold_id": hold_id, "case_number": ctx.case_number, "plate": plan.plate, "reads": len(ids),
                     "read_ids": ids}
            result = Result(value, len(ids), {"hold_id": hold_id, "reads_held": len(ids),
                                              "read_ids": ids[:MAX_IDS_AUDITED]})
            ctx.audit_in(tx, result)  # the hold and its record commit together
        return result


@action("holds.release", permission="holds.release", namespace="holds", method="release", aliases=("release_hold",),
        result="dict")
class ReleaseHold(Request):
    """Release a legal hold (supervisor or Custodian of Records), with a reason; its reads are then purged when
    past retention, unless another hold keeps them. The hold stays on file."""

    hold_id: str
    reason: str

    def plan(self, ctx: Context) -> Plan:
        if not self.reason.strip():
            raise ValidationError("releasing a hold needs a reason, e.g. 'case closed, no prosecution'")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        with ctx.db.transaction() as tx:
            row = hold_rows.get(tx, self.hold_id)
            if row is None:
                raise NotFound(f"no hold {self.hold_id[:60]!r}; `alpr holds list` shows the holds")
            if row["released_at"]:
                raise ValidationError(f"hold {self.hold_id} was already released on {row['released_at']} by "
                                      f"{row['released_by']}")
            hold_rows.release(tx, self.hold_id, ctx.user.username, iso(ctx.now), self.reason.strip())
            value = {"hold_id": self.hold_id, "case_number": row["case_number"], "released_by": ctx.user.username}
            result = Result(value, 1, {"case": row["case_number"], "plate": row["plate"]})
            ctx.audit_in(tx, result)
        return result


def holds_frame(db: Backend) -> pl.DataFrame:
    counts = hold_rows.read_counts(db)
    rows = [{**{k: r[k] for k in HOLD_SCHEMA if k in r}, "status": "released" if r["released_at"] else "active",
             "reads": counts.get(r["hold_id"], 0)} for r in hold_rows.all_holds(db)]
    return pl.DataFrame(rows, schema=HOLD_SCHEMA) if rows else pl.DataFrame(schema=HOLD_SCHEMA)


@action("holds.list", permission="holds.view", namespace="holds", method="list", needs_training=False,
        result="polars.DataFrame")
class ListHolds(Request):
    """Every legal hold, active and released: case, reason, what it holds, who placed and released it."""

    _: KW_ONLY
    active_only: bool = False

    def work(self, ctx: Context, plan: Plan) -> Result:
        frame = holds_frame(ctx.db)
        if self.active_only:
            frame = frame.filter(pl.col("status") == "active")
        return Result(frame, frame.height)
