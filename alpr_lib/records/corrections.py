"""The read_corrections table: misreads an analyst corrected (the stored read keeps its original plate).

One row per corrected read; a second correction of the same read replaces the corrected text. Written only
through the audited ``reads.correct`` action, whose record holds the original and the corrected plate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["COLUMNS", "all_corrections", "find_by_plates", "get", "put"]

COLUMNS = ("read_id", "original_plate", "corrected_plate", "captured_at", "corrected_by", "corrected_at", "note")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM read_corrections"


def put(db: Backend, row: dict[str, Any]) -> None:
    """Record (or replace) the correction of one read."""
    db.execute(f"INSERT INTO read_corrections({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
               "ON CONFLICT (read_id) DO UPDATE SET original_plate = excluded.original_plate, "
               "corrected_plate = excluded.corrected_plate, captured_at = excluded.captured_at, "
               "corrected_by = excluded.corrected_by, corrected_at = excluded.corrected_at, note = excluded.note",
               tuple(row.get(c) for c in COLUMNS))


def get(db: Backend, read_id: str) -> dict[str, Any] | None:
    rows = db.query(_SELECT + " WHERE read_id = ?", (read_id,))
    return rows[0] if rows else None


def find_by_plates(db: Backend, plates: Iterable[str]) -> list[dict[str, Any]]:
    """The corrections whose corrected plate is one of ``plates``."""
    wanted = sorted(set(plates))
    if not wanted:
        return []
    marks = ", ".join("?" * len(wanted))
    return db.query(_SELECT + f" WHERE corrected_plate IN ({marks}) ORDER BY read_id", wanted)


def all_corrections(db: Backend) -> list[dict[str, Any]]:
    """Every correction (a small table: searches match their patterns against it)."""
    return db.query(_SELECT + " ORDER BY read_id")
