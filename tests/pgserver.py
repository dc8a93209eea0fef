"""A real, throwaway PostgreSQL server for the test suite (never a mock, never a shared server).

``initdb`` into a temporary directory, ``pg_ctl start`` on a free loopback port with durability switched off
(``fsync``, ``full_page_writes``, ``synchronous_commit``: a crash loses nothing a test cares about), one
database per test or store. PostgreSQL refuses to run as root, so as root the binaries run as the ``postgres``
OS user through ``runuser`` and the directory they write is handed to that user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

__all__ = ["PostgresServer"]

_DB_NAME = re.compile(r"[a-z0-9_]{1,63}")
_OS_USER = "postgres"
_SOCKET_PATH_MAX = 100  # sun_path holds 107 bytes; PostgreSQL appends "/.s.PGSQL.PORT"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def _find_bindir() -> Path | None:
    """``pg_config --bindir`` when it names a server, else the newest Debian ``/usr/lib/postgresql/N/bin``, else
    ``initdb`` on PATH (pg_config may belong to a newer libpq-dev than the installed server)."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            bindir = Path(out.stdout.strip())
            if _has_server(bindir):
                return bindir
        except (OSError, subprocess.SubprocessError):
            pass
    versions = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        try:
            versions.append((float(candidate.parent.name), candidate))
        except ValueError:
            continue
    for _, candidate in sorted(versions, reverse=True):
        if _has_server(candidate):
            return candidate
    initdb = shutil.which("initdb")
    if initdb and _has_server(Path(initdb).parent):
        return Path(initdb).parent
    return None


def _is_root() -> bool:
    return os.geteuid() == 0


def _os_user_ids() -> tuple[int, int] | None:
    import pwd

    try:
        entry = pwd.getpwnam(_OS_USER)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


class PostgresServer:
    """One running server; :meth:`start` makes it, :meth:`stop` (or interpreter exit) ends it."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root  # owned by the server's OS user: data/, server.log, the Unix socket
        self.datadir = root / "data"
        self.logfile = root / "server.log"
        self.port = port
        self._running = False

    # ------------------------------------------------------------------ discovery

    @staticmethod
    def available() -> bool:
        """Whether a server can be started here: the binaries, and as root a ``postgres`` user and ``runuser``."""
        if _find_bindir() is None:
            return False
        return not _is_root() or (_os_user_ids() is not None and shutil.which("runuser") is not None)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(cls, base_dir: Path, timeout_s: float = 60) -> PostgresServer:
        """initdb under ``base_dir`` and start the server; raises RuntimeError with the server log on failure."""
        bindir = _find_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; "
                               "apt-get install postgresql")
        base_dir = Path(base_dir).resolve()
        base_dir.mkdir(parents=True, exist_ok=True)
        root = base_dir / "postgres"
        root.mkdir(mode=0o700)
        if _is_root():
            ids = _os_user_ids()
            if ids is None:
                raise RuntimeError(f"running as root, but there is no {_OS_USER!r} OS user to run PostgreSQL as")
            _make_traversable(base_dir)
            os.chown(root, *ids)
        server = cls(bindir, root, 0)
        server._run("initdb", "-D", str(server.datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                    "--no-locale", "--no-sync", timeout_s=timeout_s)
        last_error: RuntimeError | None = None
        for _ in range(3):  # the free port can be taken between picking and binding it
            server.port = _free_port()
            try:
                server._start(timeout_s)
                return server
            except RuntimeError as exc:
                last_error = exc
                server.stop()
                if "could not bind" not in server.log_tail() and "already in use" not in server.log_tail():
                    break
        assert last_error is not None
        raise last_error

    def _start(self, timeout_s: float) -> None:
        # the Unix socket (for psql while debugging); none when the path is too long for one
        socket_dir = shlex.quote(str(self.root) if len(str(self.root)) <= _SOCKET_PATH_MAX else "")
        options = (f"-h 127.0.0.1 -p {self.port} -k {socket_dir} -c fsync=off -c full_page_writes=off "
                   f"-c synchronous_commit=off")
        # registered before pg_ctl runs: a start that times out half way still gets stopped at exit
        atexit.register(self.stop)
        self._running = True
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-w", "-t", str(int(timeout_s)),
                  "-l", str(self.logfile), "start", timeout_s=timeout_s + 15)

    def stop(self) -> None:
        """Immediate shutdown (nothing to keep); safe to call twice, and after a failed start."""
        if not self._running:
            return
        self._running = False
        atexit.unregister(self.stop)
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.datadir), "stop", "-m", "immediate", "-w", "-t", "30",
                          timeout_s=45)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ databases

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A new empty database (from template1); returns its URL. ``name`` must match ``[a-z0-9_]+``."""
        import psycopg
        from psycopg import sql

        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"database name {name!r} must match [a-z0-9_]+ (at most 63 characters)")
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    # ------------------------------------------------------------------ plumbing

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def _run(self, program: str, *args: str, timeout_s: float) -> None:
        """One server binary, as the ``postgres`` user when we are root, bounded by ``timeout_s``."""
        cmd = [str(self.bindir / program), *args]
        if _is_root():
            cmd = ["runuser", "-u", _OS_USER, "--", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            # cwd: the postgres user may not be able to enter ours (/root, a 0700 checkout)
            done = subprocess.run(cmd, cwd=self.root, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{program} did not finish within {timeout_s:.0f}s\n{self.log_tail()}") from exc
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                               f"\n--- server log ---\n{self.log_tail()}")


def _make_traversable(path: Path) -> None:
    """Give others search (x) permission on ``path`` and its ancestors, never read or write.

    pytest makes ``/tmp/pytest-of-USER`` mode 0700 (and tightens it again at the start of every session), so
    the ``postgres`` user could not reach a data directory below it without this.
    """
    for directory in (path, *path.parents):
        mode = directory.stat().st_mode
        if not mode & 0o001 and directory.stat().st_uid == os.geteuid():
            directory.chmod((mode & 0o7777) | 0o001)
