"""Logging in (policy 462.5(a): a login/password-protected system that documents all access).

Interactive use prompts with ``getpass`` (works in JupyterLab and terminals). Headless runs (executed
notebooks, scripts, CI) read ``ALPR_USER`` and the password file named by ``ALPR_PASSWORD_FILE``. Voila
dashboards call :func:`login` from their login widget with the typed credentials. Passwords are never
echoed, logged or stored.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from alpr_lib.audit.events import AuditRecord
from alpr_lib.auth import users
from alpr_lib.errors import AuthError
from alpr_lib.session import Session
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["detect_client", "login", "read_password_file"]


def detect_client() -> str:
    """Which surface is calling: a Jupyter kernel is a notebook unless told otherwise."""
    if os.environ.get("ALPR_CLIENT"):
        return os.environ["ALPR_CLIENT"]
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return "notebook" if getattr(shell, "kernel", None) is not None else "script"


def read_password_file(path: str | os.PathLike) -> str:
    """The first line of a password file (kept readable by its owner only)."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthError(f"cannot read the password file {file} (ALPR_PASSWORD_FILE): {exc.strerror}") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise AuthError(f"the password file {file} is empty")
    return lines[0]


def _record_login(store: Store, username: str, organisation: str, client: str, outcome: str,
                  reason: str | None, session_id: str | None = None) -> None:
    store.audit.append(AuditRecord(
        time=iso(utc_now()), username=username, organisation=organisation, action="login",
        query={}, client=client, outcome=outcome, reason=reason, session_id=session_id,
        store_kind=store.kind))


def login(username: str | None = None, password: str | None = None, store: str | os.PathLike | None = None,
          *, client: str | None = None, new_password: str | None = None) -> Session:
    """Authenticate and return a :class:`Session` on the store (``store`` defaults to ``ALPR_STORE``).

    Without arguments it uses ``ALPR_USER``/``ALPR_PASSWORD_FILE`` when set, otherwise prompts. A user whose
    password was reset must choose a new one: interactively it is prompted for; otherwise pass
    ``new_password`` (or run ``alpr users passwd``).
    """
    opened = Store.open(store)
    client = client or detect_client()
    interactive = False
    if username is None:
        username = os.environ.get("ALPR_USER") or None
    if username is None:
        username = input("ALPR username: ").strip()
        interactive = True
    username = username.strip().lower()
    if password is None:
        if os.environ.get("ALPR_PASSWORD_FILE"):
            password = read_password_file(os.environ["ALPR_PASSWORD_FILE"])
        else:
            password = getpass.getpass(f"Password for {username}: ")
            interactive = True
    known = users.get_user(opened.db, username)
    organisation = known.organisation if known else "unknown"
    try:
        user = users.authenticate(opened.db, opened.config, username, password)
    except AuthError as exc:
        _record_login(opened, username, organisation, client, "denied", str(exc))
        raise
    changed = user.must_change_password
    if user.must_change_password:
        if new_password is None and interactive:
            new_password = getpass.getpass("Your password was reset; choose a new password: ")
            if getpass.getpass("Type the new password again: ") != new_password:
                _record_login(opened, username, organisation, client, "denied", "new passwords differ")
                raise AuthError("the two new passwords differ; log in again")
        if new_password is None:
            reason = ("your password was reset and must be changed before you can continue: run "
                      "`alpr users passwd` or log in interactively")
            _record_login(opened, username, organisation, client, "denied", reason)
            raise AuthError(reason)
        try:
            users.set_password(opened.db, opened.config, username, new_password, must_change=False)
        except Exception as exc:
            _record_login(opened, username, organisation, client, "denied", f"new password refused: {exc}")
            raise
        user = users.require_user(opened.db, username)
    session = Session(opened, user, client=client)
    session.password_changed_at_login = changed
    opened.db.execute("INSERT INTO sessions(session_id, username, client, started_at, last_seen_at) "
                      "VALUES (?,?,?,?,?)", (session.session_id, username, client, iso(session.started_at),
                                             iso(session.started_at)))
    _record_login(opened, username, organisation, client, "allowed", None, session.session_id)
    return session
