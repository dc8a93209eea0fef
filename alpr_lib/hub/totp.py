"""The Hub's second factor: time-based one-time passwords (RFC 6238, what CJIS asks for remote access).

The Hub checks the code; the API service checks the password. Each user's secret is one file in a directory
owned by the Hub's account (0700 directory, 0600 files, written through :mod:`alpr_lib.private_files`), so
whoever can read the records database or its backups does not also hold the second factor. A code is accepted
once (no replay within its time step), and after ``max_failures`` wrong codes in a row an account's second
factor is refused for ``lockout_minutes`` (the password lockout of the ALPR account works the same way).

Enrol a user (prints the ``otpauth://`` URI to put into an authenticator app, e.g. as a QR code)::

    python -m alpr_lib.hub.totp enrol NAME --dir /srv/jupyterhub/totp
    python -m alpr_lib.hub.totp remove NAME --dir /srv/jupyterhub/totp
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

from alpr_lib.errors import AuthError, ConfigError
from alpr_lib.private_files import private_dir, write_private_atomic

__all__ = ["TotpStore"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_CODE = re.compile(r"\d{6}")
ISSUER = "ALPR Workbench"


@dataclass
class TotpStore:
    """The TOTP secrets of the Hub's users, one file per user in ``directory``."""

    directory: Path
    max_failures: int = 5
    lockout_minutes: int = 15
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False)
    _last_step: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)

    def _path(self, username: str) -> Path:
        if not _NAME.fullmatch(username):
            raise AuthError("login failed: unknown username or wrong password")
        return self.directory / username

    def _check_directory(self) -> None:
        info = self.directory.stat()
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise ConfigError(f"the TOTP directory {self.directory} must belong to the Hub's account and be 0700 "
                              f"(it is {stat.filemode(info.st_mode)}, uid {info.st_uid}): chmod 700 it")

    def enrol(self, username: str) -> str:
        """A new secret for ``username`` (replacing any old one); returns the provisioning URI for an app."""
        private_dir(self.directory)
        self._check_directory()
        secret = pyotp.random_base32()
        write_private_atomic(self._path(username), secret + "\n")
        return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)

    def remove(self, username: str) -> bool:
        """Remove ``username``'s secret; False if there was none."""
        try:
            self._path(username).unlink()
        except FileNotFoundError:
            return False
        return True

    def enrolled(self, username: str) -> bool:
        return self._path(username).is_file()

    def verify(self, username: str, code: object, *, now: float | None = None) -> None:
        """Accept a current, unused code for ``username`` or raise :class:`AuthError` saying what to do."""
        now = time.time() if now is None else now
        with self._lock:
            count, until = self._failures.get(username, (0, 0.0))
            if until > now:
                raise AuthError(f"too many wrong one-time codes: the second factor of {username!r} is refused for "
                                f"{self.lockout_minutes} minutes; try again then or ask the ALPR administrator")
            self._check_directory()
            try:
                secret = self._path(username).read_text(encoding="ascii").strip()
            except FileNotFoundError:
                raise AuthError(f"{username!r} has no second factor enrolled; ask the Hub administrator to enrol "
                                "one (python -m alpr_lib.hub.totp enrol)") from None
            typed = str(code or "").replace(" ", "")
            totp = pyotp.TOTP(secret)
            step = None
            if _CODE.fullmatch(typed):
                for offset in (0, -1, 1):  # one step of clock drift either way
                    candidate = int(now // totp.interval) + offset
                    if pyotp.utils.strings_equal(totp.generate_otp(candidate), typed):
                        step = candidate
                        break
            if step is None or step <= self._last_step.get(username, -1):
                count += 1
                if count >= self.max_failures:
                    self._failures[username] = (0, now + 60 * self.lockout_minutes)
                else:
                    self._failures[username] = (count, 0.0)
                reason = "that one-time code was already used" if step is not None else "wrong one-time code"
                raise AuthError(f"login failed: {reason}; type the current code from your authenticator app")
            self._failures.pop(username, None)
            self._last_step[username] = step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alpr_lib.hub.totp", description="Hub second-factor secrets")
    parser.add_argument("command", choices=["enrol", "remove"])
    parser.add_argument("username")
    parser.add_argument("--dir", required=True, help="the Hub's TOTP directory (0700, the Hub's account)")
    args = parser.parse_args(argv)
    store = TotpStore(Path(args.dir))
    try:
        if args.command == "enrol":
            print(store.enrol(args.username.lower()))
        elif not store.remove(args.username.lower()):
            print(f"{args.username} had no second factor enrolled", file=sys.stderr)
            return 1
    except (AuthError, ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
