"""Private files and directories: 0600 and 0700 whatever the umask.

Everything the project writes that holds plates, password hashes or audit data (the store's Parquet files,
images and records database, CLI ``--output`` files, audit exports) goes through here. The umask can only
remove permission bits, so a new file is created with 0600 and a new directory with 0700, and then set to
exactly that (``fchmod``/``chmod``) in case the umask removed more; an existing file we write into may have
wider bits, so it is tightened before a byte is written. Writes never go through a symlink (``O_NOFOLLOW``)
or into anything but a regular file: ``-o`` pointed at a link to someone else's file, or at a FIFO read by
another account, is refused rather than followed.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from alpr_lib.errors import AlprError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "UnsafeFileError",
    "atomic_private",
    "atomic_private_path",
    "fsync_dir",
    "open_private",
    "private_dir",
    "tighten",
    "write_private_atomic",
    "write_private_bytes",
    "write_private_text",
]

FILE_MODE = 0o600
DIR_MODE = 0o700

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class UnsafeFileError(AlprError, OSError):
    """A file to be written is a symlink or not a regular file, so it is refused (never written through)."""


def private_dir(path: str | os.PathLike, *, tighten_existing: bool = False) -> Path:
    """``mkdir -p`` where every directory it creates is 0700 (whatever the umask).

    Directories that already exist are left as they are (a store may live under ``/srv``), except ``path``
    itself when ``tighten_existing`` is set (an empty directory handed over to become a store)."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while probe.parent != probe:
        try:
            info = os.stat(probe)  # a symlink to a directory is a directory here
        except FileNotFoundError:
            if os.path.islink(probe):
                raise UnsafeFileError(f"{probe} is a dangling symbolic link") from None
            missing.append(probe)
            probe = probe.parent
            continue
        if not stat.S_ISDIR(info.st_mode):
            raise UnsafeFileError(f"{probe} exists and is not a directory")
        break
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:  # another thread or process made it meanwhile
            if not directory.is_dir():
                raise UnsafeFileError(f"{directory} exists and is not a directory") from None
            continue
        os.chmod(directory, DIR_MODE)  # the umask may have removed owner bits too
    if tighten_existing and not missing:
        os.chmod(path, DIR_MODE)
    return path


def tighten(path: str | os.PathLike) -> bool:
    """Set an existing file of ours to 0600 (never following a symlink); False if absent or someone else's.

    For files created by others on our behalf (SQLite's ``-wal``/``-shm``), where refusing would be wrong."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        return False
    if stat.S_IMODE(info.st_mode) != FILE_MODE:
        os.chmod(path, FILE_MODE)
    return True


def _open_fd(path: str | os.PathLike, flags: int) -> int:
    """Open for writing without following a symlink; refuse a non-regular file; make it exactly 0600."""
    try:  # O_NONBLOCK: opening a FIFO nobody reads must fail (ENXIO), not hang; no effect on regular files
        fd = os.open(path, flags | os.O_CREAT | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC, FILE_MODE)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafeFileError(f"{path} is a symbolic link; refusing to write through it (name the file "
                                  "itself)") from None
        if isinstance(exc, IsADirectoryError):
            raise UnsafeFileError(f"{path} is a directory, not a file") from None
        if exc.errno == errno.ENXIO:
            raise UnsafeFileError(f"{path} is not a regular file; refusing to write to it") from None
        raise
    try:
        os.set_blocking(fd, True)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(f"{path} is not a regular file; refusing to write to it")
        if stat.S_IMODE(info.st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)  # raises PermissionError on someone else's file: then we do not write
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8") -> IO[Any]:
    """Like ``open(path, mode)`` for writing ("w", "a", "x", each with "b" for bytes), but the file is 0600.

    An existing file is tightened to 0600 *before* it is truncated, so a file we may not chmod is refused
    with its content intact."""
    kind = mode.replace("b", "").replace("+", "")
    flags = {"w": os.O_WRONLY, "a": os.O_WRONLY | os.O_APPEND, "x": os.O_WRONLY | os.O_EXCL}.get(kind)
    if flags is None or len(kind) != 1:
        raise ValueError(f"open_private writes files: mode must be w, a or x (with b), not {mode!r}")
    if "+" in mode:
        flags = (flags & ~os.O_WRONLY) | os.O_RDWR
    fd = _open_fd(path, flags)
    try:
        if kind == "w":
            os.ftruncate(fd, 0)
        return os.fdopen(fd, mode.replace("x", "w"), encoding=None if "b" in mode else encoding)
    except BaseException:
        os.close(fd)
        raise


def write_private_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` in place (0600, no symlink, regular file)."""
    with open_private(path, "wb") as handle:
        handle.write(data)


def write_private_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` in place (0600, no symlink, regular file)."""
    with open_private(path, "w", encoding=encoding) as handle:
        handle.write(text)


def fsync_dir(directory: str | os.PathLike) -> None:
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_target(path: Path) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFileError(f"{path} is a symbolic link; refusing to replace it (name the file itself)")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(f"{path} is not a regular file; refusing to write to it")


@contextmanager
def atomic_private_path(path: str | os.PathLike, *, sync: bool = True, tmp_name: str | None = None,
                        make_dirs: bool = True) -> Iterator[Path]:
    """Yield the name of an empty 0600 temporary file next to ``path`` for a writer that wants a file name
    (Polars, Arrow); when the block succeeds, it is made 0600 again (in case the writer re-created it),
    fsync'ed when ``sync`` is set, and renamed over ``path``. On an error the temporary file is removed
    and ``path`` is untouched. ``tmp_name`` fixes the temporary's name (default: a fresh random one);
    ``make_dirs`` creates missing directories above ``path`` (0700); without it they must exist."""
    path = Path(path)
    _check_target(path)
    if make_dirs:
        private_dir(path.parent)
    if tmp_name is None:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
    else:
        tmp = path.with_name(tmp_name)
        os.close(_open_fd(tmp, os.O_WRONLY | os.O_TRUNC))
    try:
        yield tmp
        fd = _open_fd(tmp, os.O_RDONLY)
        try:
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync:
        fsync_dir(path.parent)


@contextmanager
def atomic_private(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8",
                   sync: bool = True, make_dirs: bool = True) -> Iterator[IO[Any]]:
    """Yield a handle on a 0600 temporary file that replaces ``path`` when the block succeeds
    (see :func:`atomic_private_path`): readers see the old file or the whole new one, never half."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_private writes whole files: mode must be 'w' or 'wb', not {mode!r}")
    with atomic_private_path(path, sync=sync, make_dirs=make_dirs) as tmp, \
            open_private(tmp, mode, encoding=None if mode == "wb" else encoding) as handle:
        yield handle
        handle.flush()


def write_private_atomic(path: str | os.PathLike, data: bytes | str, *, sync: bool = True,
                         encoding: str = "utf-8", make_dirs: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically, as a 0600 file (see :func:`atomic_private_path`)."""
    with atomic_private(path, "wb", sync=sync, make_dirs=make_dirs) as handle:
        handle.write(data.encode(encoding) if isinstance(data, str) else data)
