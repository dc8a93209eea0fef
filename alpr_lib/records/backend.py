"""The records database connection every table module speaks to, whichever server holds it.

SQL in :mod:`alpr_lib.records` is written once, with ``?`` placeholders and the subset of SQL that SQLite and
PostgreSQL share (``INSERT ... ON CONFLICT``, ``RETURNING``, ``CASE``); where the two differ (table DDL,
triggers) the migration carries one text per dialect. :meth:`Backend.transaction` serialises writers the same
way on both (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock), so the manifest swap that makes an ingest
or a compaction visible stays atomic and ordered whichever backend a store uses.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

__all__ = ["Backend", "Dialect", "Row"]

Dialect = Literal["sqlite", "postgresql"]
Row = dict[str, Any]


class Backend(Protocol):
    """One records database. Only modules under :mod:`alpr_lib.records` call these methods."""

    dialect: Dialect
    #: where it is, for messages (a path, or a URL without its password)
    location: str

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Row]:
        """Rows of a SELECT (or of ``... RETURNING``) as dicts keyed by column name."""
        ...

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None: ...

    def script(self, sql: str) -> None:
        """Run several statements separated by ``;`` (migrations only)."""
        ...

    def transaction(self) -> AbstractContextManager[Backend]:
        """Hold the store's write lock; statements inside commit together or not at all. Nested use joins the
        outer transaction."""
        ...

    def close(self) -> None: ...
