"""Which reads the active legal holds keep: a read id a hold names, or a read of a held plate within the
hold's window (so a backfilled read of a held plate is held too). Used by the purge and by every result that
shows reads (the additive ``hold`` column)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from alpr_lib.records import Backend
from alpr_lib.records import holds as hold_rows
from alpr_lib.timeutil import parse_iso

__all__ = ["ActiveHolds", "active_holds"]


@dataclass(frozen=True)
class PlateHold:
    hold_id: str
    plate: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class ActiveHolds:
    """The holds in force: read id -> hold ids, and the plate holds with their windows."""

    by_read: dict[str, list[str]]
    plates: tuple[PlateHold, ...]

    @property
    def empty(self) -> bool:
        return not self.by_read and not self.plates

    def held(self) -> pl.Expr:
        """True for a read (columns read_id, plate, captured_at) that some active hold keeps."""
        expr = pl.col("read_id").is_in(list(self.by_read)) if self.by_read else pl.lit(False)
        for hold in self.plates:
            expr = expr | self._matches(hold)
        return expr

    @staticmethod
    def _matches(hold: PlateHold) -> pl.Expr:
        cond = pl.col("plate") == hold.plate
        if hold.start is not None:
            cond = cond & (pl.col("captured_at") >= hold.start)
        if hold.end is not None:
            cond = cond & (pl.col("captured_at") < hold.end)
        return cond

    def labels(self, frame: pl.DataFrame) -> pl.Series:
        """Per row of ``frame``, the ids of the holds keeping the read (", "-joined), or null."""
        if frame.height == 0 or self.empty or "read_id" not in frame.columns:
            return pl.Series("hold", [None] * frame.height, dtype=pl.String)
        joined = {k: ", ".join(v) for k, v in self.by_read.items()}
        # one flat list per row (the read's own holds, then one entry per plate hold that keeps it): linear in
        # the number of holds (a chain of when/then over the growing label doubled with every hold)
        parts: list[pl.Expr] = [pl.col("read_id").replace_strict(joined, default=None, return_dtype=pl.String)
                                .str.split(", ")]
        if {"plate", "captured_at"} <= set(frame.columns):
            parts += [pl.when(self._matches(hold)).then(pl.lit(hold.hold_id)).otherwise(pl.lit(None, pl.String))
                      for hold in self.plates]
        ids = pl.concat_list(parts).list.drop_nulls().list.unique(maintain_order=True)
        label = pl.when(ids.list.len() > 0).then(ids.list.join(", ")).otherwise(pl.lit(None, pl.String))
        return frame.select(label.alias("hold")).to_series()


def active_holds(db: Backend) -> ActiveHolds:
    plates = tuple(PlateHold(r["hold_id"], r["plate"], parse_iso(r["start_at"]) if r["start_at"] else None,
                             parse_iso(r["end_at"]) if r["end_at"] else None)
                   for r in hold_rows.active(db) if r["plate"])
    return ActiveHolds(hold_rows.held_read_ids(db), plates)
