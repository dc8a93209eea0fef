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
        label = pl.col("read_id").replace_strict(joined, default=None, return_dtype=pl.String)
        if {"plate", "captured_at"} <= set(frame.columns):
            for hold in self.plates:
                named = label.str.contains(hold.hold_id, literal=True).fill_null(False)
                label = (pl.when(self._matches(hold) & ~named)
                         .then(pl.concat_str([label, pl.lit(hold.hold_id)], separator=", ", ignore_nulls=True))
                         .otherwise(label))
        return frame.select(label.alias("hold")).to_series()


def active_holds(db: Backend) -> ActiveHolds:
    plates = tuple(PlateHold(r["hold_id"], r["plate"], parse_iso(r["start_at"]) if r["start_at"] else None,
                             parse_iso(r["end_at"]) if r["end_at"] else None)
                   for r in hold_rows.active(db) if r["plate"])
    return ActiveHolds(hold_rows.held_read_ids(db), plates)
