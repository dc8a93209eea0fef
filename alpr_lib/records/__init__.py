"""Every SQL statement of the project: one module per table, numbered migrations, SQLite and PostgreSQL.

Nothing outside this package writes SQL. Callers open a :class:`~alpr_lib.records.backend.Backend` with
:func:`open_records` and call the table modules (``records.users.get(db, name)``, ``records.manifest...``).
"""

from __future__ import annotations

from pathlib import Path

from alpr_lib.errors import ConfigError
from alpr_lib.records.backend import Backend, Dialect, Row

__all__ = ["Backend", "Dialect", "Row", "is_postgres_url", "open_records"]


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).split("://", 1)[0] in ("postgresql", "postgres")


def open_records(records_url: str | None, store_dir: Path) -> Backend:
    """The records database of a store: PostgreSQL when ``records_url`` names one, else ``STORE/records.db``."""
    if not records_url:
        from alpr_lib.records.sqlite import SQLiteBackend

        return SQLiteBackend(store_dir / "records.db")
    if is_postgres_url(records_url):
        from alpr_lib.records.postgres import PostgresBackend

        return PostgresBackend(records_url)
    raise ConfigError(f"records_url {records_url!r} is not a PostgreSQL URL; use postgresql://USER@HOST:PORT/DB "
                      "or leave it unset for SQLite inside the store")
