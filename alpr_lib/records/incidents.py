"""The incidents table: incidents analysts canvass around (times ISO-8601 UTC, geometry as lat/lon or WKT)."""

from __future__ import annotations

from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["COLUMNS", "case_numbers", "find", "get", "insert"]

COLUMNS = ("incident_id", "case_number", "offense_type", "occurred_start", "occurred_end", "lat", "lon",
           "polygon_wkt", "location_name", "summary", "created_at", "created_by")


def insert(db: Backend, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO incidents({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
               tuple(row[c] for c in COLUMNS))


def get(db: Backend, incident_id: str) -> dict[str, Any] | None:
    rows = db.query(f"SELECT {', '.join(COLUMNS)} FROM incidents WHERE incident_id = ?", (incident_id,))
    return rows[0] if rows else None


def find(db: Backend, *, case_number: str | None = None, offense_type: str | None = None) -> list[dict[str, Any]]:
    sql, params = f"SELECT {', '.join(COLUMNS)} FROM incidents WHERE 1=1", []
    if case_number:
        sql += " AND case_number = ?"
        params.append(case_number)
    if offense_type:
        sql += " AND offense_type = ?"
        params.append(offense_type)
    return db.query(sql + " ORDER BY occurred_start, incident_id", params)


def case_numbers(db: Backend) -> set[str]:
    """Every case number an incident was recorded under (audit review asks whether a case exists)."""
    return {r["case_number"] for r in db.query("SELECT DISTINCT case_number FROM incidents")}
