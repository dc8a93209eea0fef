"""The records database on a PostgreSQL server (a department's shared store).

A small psycopg connection pool in autocommit mode serves reads and single statements from any thread; a
transaction takes one pooled connection for its whole length (kept per thread) and first takes a
transaction-scoped advisory lock, so writers queue across processes and machines the way SQLite's
``BEGIN IMMEDIATE`` makes them queue on one file. SQL arrives with SQLite's ``?`` placeholders and is
translated once per distinct text.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from alpr_lib.errors import StoreError
from alpr_lib.records.backend import Row

__all__ = ["WRITE_LOCK_KEY", "PostgresBackend", "redact_url", "translate_placeholders"]

#: the advisory lock every writer of a records database takes first ("ALPR_WRT" in ASCII); advisory locks are
#: per database, so stores in different databases of one server never wait on each other
WRITE_LOCK_KEY = 0x414C50525F575254

_CONNECT_TIMEOUT_S = 10
_POOL_OPEN_TIMEOUT_S = 30.0
_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def redact_url(url: str) -> str:
    """The URL with any password (in the authority or a ``password=`` parameter) shown as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [ of an IPv6 host: show none of it rather than risk the password
        return url.split("://", 1)[0] + "://(malformed URL)"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key == "password" for key, _ in pairs):
            query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@functools.lru_cache(maxsize=1024)
def translate_placeholders(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s``, and every literal ``%`` to ``%%`` (psycopg reads ``%`` anywhere
    in the text, quoted or not). A ``?`` inside a quoted literal or identifier, a dollar-quoted body or a comment
    stays as it is: PostgreSQL reads those, not psycopg."""
    out: list[str] = []
    i, n = 0, len(sql)

    def copy_until(end: int) -> None:
        out.append(sql[i:end].replace("%", "%%"))

    while i < n:
        ch = sql[i]
        if ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        elif ch in "'\"":
            # '' (or "") inside reads as closing and reopening: the same scan copies it right
            backslash = ch == "'" and i > 0 and sql[i - 1] in "eE" and (i < 2 or sql[i - 2] not in _IDENT_CHARS)
            j = i + 1
            while j < n and sql[j] != ch:
                j += 2 if backslash and sql[j] == "\\" else 1
            end = min(j + 1, n)
            copy_until(end)
            i = end
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            end = n if j < 0 else j + 1
            copy_until(end)
            i = end
        elif ch == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            end = n if j < 0 else j + 2
            copy_until(end)
            i = end
        elif ch == "$" and (i == 0 or sql[i - 1] not in _IDENT_CHARS):
            # $tag$ ... $tag$ (tag empty or an identifier not starting with a digit; $1 is a parameter)
            j = i + 1
            while j < n and sql[j] in _IDENT_CHARS:
                j += 1
            tag = sql[i:j + 1]
            if j < n and sql[j] == "$" and not (len(tag) > 2 and tag[1].isdigit()):
                close = sql.find(tag, j + 1)
                end = n if close < 0 else close + len(tag)
                copy_until(end)
                i = end
            else:
                out.append("$")
                i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _prepare(sql: str, params: tuple[Any, ...] | list[Any]) -> tuple[str, tuple[Any, ...] | None]:
    """Without parameters psycopg passes the text through untouched (and may run several statements)."""
    if not params:
        return sql, None
    return translate_placeholders(sql), tuple(params)


class PostgresBackend:
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in ("postgresql", "postgres"):
            raise StoreError(f"the records database URL {redact_url(url)!r} is not postgresql://USER@HOST:PORT/DB")
        if scheme == "postgres":
            url = "postgresql" + url[len("postgres"):]
        self.location = redact_url(url)
        try:
            given = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            reason = " ".join(str(exc).replace(url, self.location).split())  # libpq quotes the URL it read
            raise StoreError(f"the records database URL {self.location!r} is malformed: {reason}") from None
        extra: dict[str, Any] = {}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = _CONNECT_TIMEOUT_S
        if "application_name" not in given:
            extra["application_name"] = "alpr-workbench"
        conninfo = make_conninfo(url, **extra)
        # one plain connection first: its error says why (refused, unknown host, bad password, no database),
        # where the pool would only time out while retrying in the background
        try:
            psycopg.connect(conninfo, autocommit=True).close()
        except psycopg.Error as exc:
            raise StoreError(self._unreachable(str(exc).strip())) from None
        self._pool = ConnectionPool(conninfo, min_size=1, max_size=4, open=False, name="alpr-records",
                                    kwargs={"autocommit": True, "row_factory": dict_row},
                                    check=ConnectionPool.check_connection, timeout=60.0)
        try:
            self._pool.open(wait=True, timeout=_POOL_OPEN_TIMEOUT_S)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(self._unreachable(str(exc).strip())) from None
        self._lock = threading.RLock()  # one transaction at a time per instance, like SQLiteBackend
        self._local = threading.local()  # .conn: the connection of this thread's open transaction

    def _unreachable(self, reason: str) -> str:
        reason = " ".join(reason.split())  # libpq's messages run over several tab-indented lines
        stop = " " if reason.endswith((".", "?", "!")) else ". "
        return (f"cannot open the records database {self.location}: {reason}{stop}Check that the PostgreSQL server is "
                f"running and reachable and that ALPR_RECORDS_URL (records_url in the configuration) names it, "
                f"with a user and database that exist")

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Row]]:
        """This thread's transaction connection, else a pooled one in autocommit."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self._pool.connection() as pooled:
            yield pooled

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[Row]:
        text, args = _prepare(sql, params)
        with self._connection() as conn:
            cur = conn.execute(text, args)
            return cur.fetchall() if cur.description is not None else []

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> int:
        text, args = _prepare(sql, params)
        with self._connection() as conn:
            return conn.execute(text, args).rowcount

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        text = translate_placeholders(sql)
        with self._connection() as conn, conn.cursor() as cur:
            cur.executemany(text, [tuple(r) for r in rows])

    def script(self, sql: str) -> None:
        """The whole text in one simple-protocol call: PostgreSQL splits the statements itself, so ``$$`` bodies
        and ``;`` inside literals are safe."""
        with self._connection() as conn:
            conn.execute(sql)

    @contextmanager
    def transaction(self) -> Iterator[PostgresBackend]:
        """Serialise writers across processes (advisory lock); nested use joins the outer transaction."""
        if getattr(self._local, "conn", None) is not None:
            yield self
            return
        with self._lock, self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            self._local.conn = conn
            try:
                yield self
            finally:
                self._local.conn = None

    def close(self) -> None:
        self._pool.close()
