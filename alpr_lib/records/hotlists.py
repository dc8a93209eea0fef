"""The hotlists, hotlist_entries and hotlist_grants tables (policy 462.2, 462.3(c), 462.3(e)).

A list is a snapshot: importing it again replaces its entries (ids are stable for unchanged entries) and
moves its refresh date. Grants say which sources (department, state, federal) a user may see. Written only
through the audited ``hotlists.*`` actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alpr_lib.records.backend import Backend, Row

__all__ = ["ENTRY_COLUMNS", "LIST_COLUMNS", "all_grants", "all_lists", "entries_of", "fingerprint", "get_list",
           "grant", "grants_of", "matchable_entries", "put_list", "replace_entries", "revoke"]

LIST_COLUMNS = ("list_id", "name", "source", "owner", "refresh_days", "entries", "content_sha256", "layout",
                "created_at", "created_by", "refreshed_at", "refreshed_by")
ENTRY_COLUMNS = ("entry_id", "list_id", "plate", "is_pattern", "state", "category", "entered_at", "expires_at",
                 "notes", "row_number")
_LISTS = f"SELECT {', '.join(LIST_COLUMNS)} FROM hotlists"


def get_list(db: Backend, name: str) -> Row | None:
    rows = db.query(_LISTS + " WHERE name = ?", (name,))
    return rows[0] if rows else None


def all_lists(db: Backend) -> list[Row]:
    return db.query(_LISTS + " ORDER BY name")


def put_list(db: Backend, row: dict[str, Any]) -> None:
    """Create a list or record its refresh (the creation fields of an existing list stay)."""
    db.execute(f"INSERT INTO hotlists({', '.join(LIST_COLUMNS)}) VALUES ({', '.join('?' * len(LIST_COLUMNS))}) "
               "ON CONFLICT (list_id) DO UPDATE SET source = excluded.source, owner = excluded.owner, "
               "refresh_days = excluded.refresh_days, entries = excluded.entries, "
               "content_sha256 = excluded.content_sha256, layout = excluded.layout, "
               "refreshed_at = excluded.refreshed_at, refreshed_by = excluded.refreshed_by",
               tuple(row.get(c) for c in LIST_COLUMNS))


def replace_entries(db: Backend, list_id: str, rows: list[tuple[Any, ...]]) -> None:
    """The list's entries become ``rows`` (tuples in :data:`ENTRY_COLUMNS` order)."""
    db.execute("DELETE FROM hotlist_entries WHERE list_id = ?", (list_id,))
    db.executemany(f"INSERT INTO hotlist_entries({', '.join(ENTRY_COLUMNS)}) "
                   f"VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})", rows)


def entries_of(db: Backend, list_id: str, *, limit: int | None = None) -> list[Row]:
    sql = f"SELECT {', '.join(ENTRY_COLUMNS)} FROM hotlist_entries WHERE list_id = ? ORDER BY row_number"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return db.query(sql, (list_id,))


def matchable_entries(db: Backend) -> list[Row]:
    """Every entry with its list's name, source and refresh (the matcher filters expiry itself)."""
    return db.query("SELECT e.entry_id, e.list_id, e.plate, e.is_pattern, e.state, e.category, e.entered_at, "
                    "e.expires_at, e.notes, l.name AS list_name, l.source, l.refreshed_at, l.refresh_days "
                    "FROM hotlist_entries e JOIN hotlists l ON l.list_id = e.list_id")


def fingerprint(db: Backend) -> tuple[tuple[Any, ...], ...]:
    """What changes whenever any list's entries change (the matcher's cache key)."""
    return tuple(tuple(r.values()) for r in db.query(
        "SELECT list_id, content_sha256, refreshed_at, entries, refresh_days FROM hotlists ORDER BY list_id"))


def grant(db: Backend, username: str, source: str, granted_by: str, granted_at: str) -> bool:
    """Grant a source; False when the user already held it."""
    return db.execute("INSERT INTO hotlist_grants(username, source, granted_by, granted_at) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (username, source) DO NOTHING", (username, source, granted_by, granted_at)) > 0


def revoke(db: Backend, username: str, source: str) -> bool:
    return db.execute("DELETE FROM hotlist_grants WHERE username = ? AND source = ?", (username, source)) > 0


def grants_of(db: Backend, username: str) -> frozenset[str]:
    return frozenset(r["source"] for r in db.query("SELECT source FROM hotlist_grants WHERE username = ?",
                                                   (username,)))


def all_grants(db: Backend, usernames: Iterable[str] | None = None) -> list[Row]:
    rows = db.query("SELECT username, source, granted_by, granted_at FROM hotlist_grants ORDER BY username, source")
    wanted = set(usernames) if usernames is not None else None
    return [r for r in rows if wanted is None or r["username"] in wanted]
