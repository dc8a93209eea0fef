"""The cameras table: every fixed site and patrol unit that produces reads (no plate data)."""

from __future__ import annotations

from alpr_lib.records.backend import Backend

__all__ = ["COLUMNS", "list_rows", "upsert"]

COLUMNS = ("camera_id", "name", "kind", "lat", "lon", "direction", "agency", "unit")


def upsert(db: Backend, rows: list[tuple], updated_at: str) -> None:
    """Insert or replace cameras, each row in :data:`COLUMNS` order."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS[1:], "updated_at"))
    db.executemany(f"INSERT INTO cameras({', '.join(COLUMNS)}, updated_at) VALUES ({', '.join('?' * 9)}) "
                   f"ON CONFLICT (camera_id) DO UPDATE SET {updates}", [(*r, updated_at) for r in rows])


def list_rows(db: Backend) -> list[dict]:
    return db.query(f"SELECT {', '.join(COLUMNS)} FROM cameras ORDER BY camera_id")
