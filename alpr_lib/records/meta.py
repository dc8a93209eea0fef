"""The store's identity as the records database knows it (store id, kind, Parquet layout version).

A store directory and its records database are bound by the store id: opening one with the other's
database is refused (see :mod:`alpr_lib.store.store`).
"""

from __future__ import annotations

from alpr_lib.records.backend import Backend

__all__ = ["get", "get_all", "put"]


def get_all(db: Backend) -> dict[str, str]:
    return {r["key"]: r["value"] for r in db.query("SELECT key, value FROM meta")}


def get(db: Backend, key: str) -> str | None:
    rows = db.query("SELECT value FROM meta WHERE key = ?", (key,))
    return rows[0]["value"] if rows else None


def put(db: Backend, key: str, value: str) -> None:
    db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               (key, value))
