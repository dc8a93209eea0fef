"""Every table of a records database as plain rows, and back (a backup of a store whose records are in
PostgreSQL, restored as a SQLite records database). Table names come from the database's own catalogue and are
checked to be plain identifiers before they are put in a statement."""

from __future__ import annotations

import re
from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["insert_rows", "rows_of", "table_names"]

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
#: tables that others reference: restored first
_PARENTS = ("meta", "users", "legal_holds", "purge_runs", "evidence_packages", "hotlists", "alerts")
#: filled by the migrations of the restoring release, not copied
_SKIP = ("schema_migrations", "sqlite_sequence")


def table_names(db: Backend) -> list[str]:
    """The data tables, parents first."""
    if db.dialect == "sqlite":
        rows = db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        names = [r["name"] for r in rows]
    else:
        rows = db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
                        "current_schema() AND table_type = 'BASE TABLE'")
        names = [r["name"] for r in rows]
    names = [n for n in names if _IDENT.match(n) and n not in _SKIP]
    return sorted(names, key=lambda n: (_PARENTS.index(n) if n in _PARENTS else len(_PARENTS), n))


def rows_of(db: Backend, table: str) -> list[dict[str, Any]]:
    if not _IDENT.match(table):
        raise ValueError(f"not a table name: {table!r}")
    return db.query(f"SELECT * FROM {table}")


def insert_rows(db: Backend, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows (as :func:`rows_of` gave them) into an existing table, replacing rows with the same key."""
    if not rows:
        return
    if not _IDENT.match(table):
        raise ValueError(f"not a table name: {table!r}")
    columns = list(rows[0])
    if not all(_IDENT.match(c) for c in columns):
        raise ValueError(f"unexpected column names in {table}")
    if table == "meta":  # the restoring store's own rows (none yet) give way to the backup's
        db.execute("DELETE FROM meta")
    db.executemany(f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                   [tuple(r.get(c) for c in columns) for r in rows])
