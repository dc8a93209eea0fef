"""Log in once per JupyterLab: a session ticket lets a second notebook (or a restarted kernel) resume a session
that is still valid instead of asking for the password again.

The ticket is a random token in ``~/.alpr/tickets/<store_id>.json`` (0600 in a 0700 directory: readable only by
the OS user who logged in); the records database keeps only its SHA-256 on the session's row. Resuming obeys
every rule of the session it resumes: it must not have ended (logout, a disabled account, a reset password),
nor be older than ``session_max_hours`` or idle for ``session_idle_minutes``; the account must still exist and
be enabled. Every resume writes a ``session.resume`` audit record. Voila dashboards never resume: each page
shows its own login (behind JupyterHub, its sign-on). What it does not protect against — anyone who can read
that OS user's files can use the ticket until the session ends — is written in docs/security.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from alpr_lib.access.door import Door
from alpr_lib.audit.events import AuditRecord
from alpr_lib.auth import users
from alpr_lib.private_files import private_dir, write_private_atomic
from alpr_lib.records import sessions as session_rows
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["forget_ticket", "in_dashboard", "issue_ticket", "resume_session", "resume_token", "set_token",
           "ticket_path"]


def in_dashboard() -> bool:
    """True inside a Voila dashboard's kernel (Voila sets these variables in every kernel it starts)."""
    return any(os.environ.get(name) for name in ("VOILA_KERNEL_ID", "VOILA_APP_IP", "VOILA_REQUEST_URL"))


def ticket_path(store_id: str) -> Path:
    return Path.home() / ".alpr" / "tickets" / f"{store_id}.json"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_ticket(store: Store, session_id: str, username: str) -> Path:
    """Write a ticket for this session, readable only by this OS user; its hash goes on the session row."""
    token = secrets.token_urlsafe(32)
    session_rows.set_ticket(store.db, session_id, _digest(token))
    path = ticket_path(store.store_id)
    private_dir(path.parent)
    write_private_atomic(path, json.dumps({"username": username, "token": token}), make_dirs=False)
    return path


def set_token(store: Store, session_id: str, token: str) -> None:
    """Bind ``token`` to the session as its ticket (only its SHA-256 is stored): the API service's session
    token, so a restarted service resumes the session under every rule of a ticket."""
    session_rows.set_ticket(store.db, session_id, _digest(token))


def forget_ticket(store_id: str) -> None:
    ticket_path(store_id).unlink(missing_ok=True)


def _read(store_id: str) -> dict | None:
    path = ticket_path(store_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("token"), str) else None


def resume_session(store: Store, *, client: str, username: str | None = None) -> Door | None:
    """A Door on the session this OS user's ticket names, if it is still valid (and, when ``username`` is
    given, belongs to that user); otherwise None, and a stale ticket is removed. The caller owns ``store``."""
    if in_dashboard():
        return None
    ticket = _read(store.store_id)
    if ticket is None:
        return None
    door, known = _resume_token(store, ticket["token"], client=client, username=username)
    if door is None and not known:
        forget_ticket(store.store_id)
    return door


def resume_token(store: Store, token: str, *, client: str) -> Door | None:
    """A Door on the still-valid session whose ticket is ``token`` (the API service's session token, after the
    service restarted), audited ``session.resume``; None when no valid session has it. The caller owns
    ``store``."""
    return _resume_token(store, token, client=client, username=None)[0]


def _resume_token(store: Store, token: str, *, client: str, username: str | None) -> tuple[Door | None, bool]:
    """The Door of the session with this ticket if it is still valid, and whether a session had the ticket
    and was still open (an expired one is ended here, with the reason)."""
    row = session_rows.by_ticket(store.db, _digest(token))
    if row is None or (username is not None and row["username"] != username):
        return None, row is not None
    now = utc_now()
    started, last_seen = datetime.fromisoformat(row["started_at"]), datetime.fromisoformat(row["last_seen_at"])
    cfg = store.config
    expired = None
    if now - started > timedelta(hours=cfg.session_max_hours):
        expired = f"expired: it is more than {cfg.session_max_hours} hours old"
    elif now - last_seen > timedelta(minutes=cfg.session_idle_minutes):
        expired = f"expired: it was idle for more than {cfg.session_idle_minutes} minutes"
    user = users.get_user(store.accounts_db, row["username"])
    if user is None or user.disabled:
        expired = "the account is disabled"
    if expired:
        session_rows.end(store.db, row["session_id"], iso(now), expired)
        return None, False
    assert user is not None
    session_rows.touch(store.db, row["session_id"], iso(now))
    store.audit.append(AuditRecord(
        time=iso(now), username=user.username, organisation=user.organisation, action="session.resume",
        query={"started_at": row["started_at"]}, client=client, outcome="allowed", session_id=row["session_id"],
        store_kind=store.kind))
    return Door(store, user, client=client, session_id=row["session_id"], started_at=started, last_seen=now), True
