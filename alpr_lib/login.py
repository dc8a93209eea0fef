"""Logging in from a notebook, a terminal or a script (policy 462.5(a): a login/password-protected system).

The surface helper around :func:`alpr_lib.access.authenticate.open_session`: it finds the credentials (the
arguments, else ``ALPR_USER`` and the password file named by ``ALPR_PASSWORD_FILE``, else a prompt with
``getpass``, which works in JupyterLab and terminals) and prompts for a new password when one was reset.
Voila dashboards pass the typed credentials from their login widget. Passwords are never echoed, logged or
stored.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from alpr_lib.access.authenticate import PasswordChangeRequired, open_session
from alpr_lib.access.door import default_client
from alpr_lib.access.tickets import in_dashboard, issue_ticket, resume_session
from alpr_lib.errors import AuthError, ServiceUnavailable
from alpr_lib.session import Session
from alpr_lib.store.store import Store

__all__ = ["detect_client", "login", "read_password_file"]

detect_client = default_client


def read_password_file(path: str | os.PathLike) -> str:
    """The first line of a password file (kept readable by its owner only)."""
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuthError(f"cannot read the password file {file} (ALPR_PASSWORD_FILE): {exc.strerror}") from None
    except UnicodeDecodeError:
        raise AuthError(f"the password file {file} is not text") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise AuthError(f"the password file {file} is empty")
    return lines[0]


def login(username: str | None = None, password: str | None = None, store: str | os.PathLike | None = None,
          *, client: str | None = None, new_password: str | None = None, server: str | None = None) -> Session:
    """Authenticate and return a :class:`Session` on the store (``store`` defaults to ``ALPR_STORE``).

    Without arguments it uses ``ALPR_USER``/``ALPR_PASSWORD_FILE`` when set, otherwise prompts. A user whose
    password was reset must choose a new one: interactively it is prompted for; otherwise pass
    ``new_password`` (or run ``alpr users passwd``).

    In a JupyterLab notebook, a call without a password first resumes this OS user's still-valid session on
    the store (its ticket; see :mod:`alpr_lib.access.tickets`), so one login serves every notebook; Voila
    dashboards always ask. A user who cannot reach reads (no current certification, a service account) is
    told so at once.

    Server mode: with ``server="http://HOST:PORT"`` (or ``ALPR_SERVER`` set and no ``store`` given) the login
    goes to the ALPR API service and returns a :class:`alpr_lib.remote.RemoteSession`, with the same methods
    and results; the credentials are found the same way, and in a JupyterHub kernel without a password the
    Hub's token (``JUPYTERHUB_API_TOKEN``) signs in.
    """
    client = client or default_client()
    server = server or (os.environ.get("ALPR_SERVER") or None if store is None else None)
    if server:
        return _remote_login(server, username, password, client=client, new_password=new_password)
    if password is None and client == "notebook" and not in_dashboard():
        resumed = _resume(store, username or os.environ.get("ALPR_USER") or None, client)
        if resumed is not None:
            return resumed
    session = _login(username, password, store, client=client, new_password=new_password)
    if client == "notebook" and not in_dashboard():
        issue_ticket(session._door._store, session.session_id, session.username)
    note = session.access_note()
    if note:
        print(f"Logged in as {session.username}, but {note}", file=sys.stderr)
    return session


def _resume(store: str | os.PathLike | None, username: str | None, client: str) -> Session | None:
    opened = Store.open(store)
    try:
        door = resume_session(opened, client=client, username=username)
    except BaseException:
        opened.close()
        raise
    if door is None:
        opened.close()
        return None
    return Session(door)


def _remote_login(server: str, username: str | None, password: str | None, *, client: str,
                  new_password: str | None) -> Session:
    """A RemoteSession from the API service (the same credential search and forced-change prompt)."""
    from alpr_lib.remote import connect_hub

    hub_token = os.environ.get("JUPYTERHUB_API_TOKEN")
    hub_user = os.environ.get("JUPYTERHUB_USER")
    if (password is None and hub_token and hub_user and not os.environ.get("ALPR_PASSWORD_FILE")
            and (username or os.environ.get("ALPR_USER") or hub_user) == hub_user):
        session = connect_hub(server, hub_token, client=client)
    else:
        session = _login(username, password, None, client=client, new_password=new_password, server=server)
    try:
        note = session.access_note()
    except ServiceUnavailable:  # logged in; the note is only a courtesy
        note = None
    if note:
        print(f"Logged in as {session.username}, but {note}", file=sys.stderr)
    return session  # type: ignore[return-value]


def _open(store: str | os.PathLike | None, server: str | None, username: str, password: str, *, client: str,
          new_password: str | None) -> Session:
    """The embedded session on ``store``, or the remote one from ``server``."""
    if server:
        from alpr_lib.remote import connect

        return connect(server, username, password, client=client, new_password=new_password)  # type: ignore
    return open_session(store, username, password, client=client, new_password=new_password)


def _login(username: str | None, password: str | None, store: str | os.PathLike | None, *, client: str,
           new_password: str | None, server: str | None = None) -> Session:
    interactive = False
    if username is None:
        username = os.environ.get("ALPR_USER") or None
    if username is None:
        username = input("ALPR username: ").strip()
        interactive = True
    if password is None:
        if os.environ.get("ALPR_PASSWORD_FILE"):
            password = read_password_file(os.environ["ALPR_PASSWORD_FILE"])
        else:
            password = getpass.getpass(f"Password for {username}: ")
            interactive = True
    try:
        return _open(store, server, username, password, client=client, new_password=new_password)
    except PasswordChangeRequired:
        if new_password is not None or not interactive:
            raise
    new_password = getpass.getpass("Your password was reset; choose a new password: ")
    if getpass.getpass("Type the new password again: ") != new_password:
        raise AuthError("the two new passwords differ; log in again")
    return _open(store, server, username, password, client=client, new_password=new_password)
