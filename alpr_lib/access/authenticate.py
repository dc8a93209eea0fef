"""Authentication: a username and password (never prompted for here) become a Session on a store.

This is the one step before a door exists, so it writes its own audit record (action ``login``), allowed or
denied, and the sessions row the door then keeps alive. Prompting belongs to the surfaces (:mod:`alpr_lib.login`
for notebooks and terminals, the dashboards' login widget, the CLI).
"""

from __future__ import annotations

import os
import uuid

from alpr_lib.access.door import Door, default_client
from alpr_lib.audit.events import AuditRecord
from alpr_lib.auth import users
from alpr_lib.errors import AlprError, AuthError, ValidationError
from alpr_lib.records import sessions as session_rows
from alpr_lib.session import Session
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["PasswordChangeRequired", "open_session", "open_trusted_session"]

_USERNAME_MAX = 64


class PasswordChangeRequired(AuthError):
    """The password was reset: the user must choose a new one (pass ``new_password``) before continuing."""


#: how a login attempt for a name that is no account is recorded: what was typed may be a password typed into
#: the username field, so the audit log keeps only its length
UNKNOWN_USERNAME = "(unknown username)"


def _record(store: Store, username: str, organisation: str, client: str, outcome: str, reason: str | None,
            session_id: str | None = None, query: dict[str, object] | None = None) -> None:
    store.audit.append(AuditRecord(
        time=iso(utc_now()), username=username, organisation=organisation, action="login", query=query or {},
        client=client, outcome=outcome, reason=reason, session_id=session_id, store_kind=store.kind))


def _typed(username: object) -> dict[str, object]:
    """What the audit record may say about a username that is no account: its length, never its text."""
    return {"username_length": len(username)} if isinstance(username, str) else {}


def _clean_username(username: object) -> str:
    if not isinstance(username, str) or not username.strip():
        raise AuthError("give your username")
    name = username.strip().lower()
    if len(name) > _USERNAME_MAX or not name.isascii() or not name.isprintable():
        # never store what may be a password typed into the wrong field
        raise AuthError("login failed: unknown username or wrong password")
    return name


def open_session(store: str | os.PathLike | None, username: str, password: str, *, client: str | None = None,
                 new_password: str | None = None) -> Session:
    """Check the password (and lockout), complete a forced password change, and return a Session."""
    opened = Store.open(store)
    client = client or default_client()
    try:
        try:
            name = _clean_username(username)
        except AuthError as exc:
            _record(opened, "(invalid username)", "unknown", client, "denied", str(exc), query=_typed(username))
            raise
        accounts = opened.accounts_db  # a training sandbox logs in against its operational store's accounts
        known = users.get_user(accounts, name)
        # a known account is recorded by name; anything else may be a password typed into the wrong field
        recorded, organisation = (name, known.organisation) if known else (UNKNOWN_USERNAME, "unknown")
        typed = {} if known else _typed(name)
        if not isinstance(password, str):
            _record(opened, recorded, organisation, client, "denied", "no password given", query=typed)
            raise AuthError("give your password")
        try:
            user = users.authenticate(accounts, opened.config, name, password)
        except AuthError as exc:
            _record(opened, recorded, organisation, client, "denied", str(exc), query=typed)
            raise
        changed = user.must_change_password
        if user.must_change_password:
            if new_password is None:
                reason = ("your password was reset and must be changed before you can continue: run "
                          "`alpr users passwd` or log in interactively")
                _record(opened, name, organisation, client, "denied", reason)
                raise PasswordChangeRequired(reason)
            try:
                users.set_password(accounts, opened.config, name, new_password, must_change=False)
            except (AlprError, ValueError) as exc:
                _record(opened, name, organisation, client, "denied", f"new password refused: {exc}")
                raise ValidationError(f"new password refused: {exc}") from None
            user = users.require_user(accounts, name)
        started = utc_now()
        session_id = uuid.uuid4().hex
        session_rows.insert(opened.db, session_id=session_id, username=name, client=client, started_at=iso(started))
        _record(opened, name, organisation, client, "allowed", None, session_id)
    except BaseException:
        opened.close()
        raise
    session = Session(Door(opened, user, client=client, session_id=session_id, started_at=started))
    session.password_changed_at_login = changed
    return session


def open_trusted_session(store: str | os.PathLike | None, username: str, *, client: str, via: str) -> Session:
    """A Session for an account another system already authenticated (``via``, e.g. ``"jupyterhub"``: the API
    service checked the Hub token with the Hub): no password here, every other rule of a login — the account
    must exist, be enabled, not be locked, and its reset password must have been changed — and, after it,
    every rule of the door. Audited ``login`` with ``authenticated_by``."""
    opened = Store.open(store)
    query: dict[str, object] = {"authenticated_by": via}
    try:
        try:
            name = _clean_username(username)
        except AuthError as exc:
            _record(opened, "(invalid username)", "unknown", client, "denied", str(exc),
                    query={**query, **_typed(username)})
            raise
        user = users.get_user(opened.accounts_db, name)
        failure = None
        if user is None:
            failure = f"{via} user {name!r} has no ALPR account; ask the ALPR administrator"
        elif user.disabled:
            failure = f"account {name!r} is disabled; ask the ALPR administrator"
        elif user.must_change_password:
            failure = ("your password was reset and must be changed before you can continue: run "
                       "`alpr users passwd` or log in interactively")
        elif _locked(opened, name):
            failure = f"account {name!r} is locked after repeated failed logins; try again later"
        if failure or user is None:
            _record(opened, name if user else UNKNOWN_USERNAME, user.organisation if user else "unknown", client,
                    "denied", failure, query=query)
            raise AuthError(failure or "login failed")
        started = utc_now()
        session_id = uuid.uuid4().hex
        session_rows.insert(opened.db, session_id=session_id, username=name, client=client, started_at=iso(started))
        _record(opened, name, user.organisation, client, "allowed", None, session_id, query=query)
    except BaseException:
        opened.close()
        raise
    return Session(Door(opened, user, client=client, session_id=session_id, started_at=started))


def _locked(store: Store, name: str) -> bool:
    from alpr_lib.records import users as user_rows
    from alpr_lib.timeutil import parse_iso

    row = user_rows.get(store.accounts_db, name)
    return bool(row is not None and row.locked_until and parse_iso(row.locked_until) > utc_now())
