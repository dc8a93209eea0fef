"""User accounts (policy 462.2.1(a),(e), 462.5(a)): who may use ALPR, their title and organisation.

Passwords are argon2id hashes; five failures in a row lock the account for 15 minutes (configurable); a
reset password must be changed at the next login; disabled accounts cannot log in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from alpr_lib.auth.passwords import check_password_rules, hash_password, verify_password
from alpr_lib.auth.roles import permissions_of, validate_roles
from alpr_lib.config import Config
from alpr_lib.errors import AuthError, NotFound, ValidationError
from alpr_lib.records import Backend
from alpr_lib.records import users as user_rows
from alpr_lib.records.users import UserRow
from alpr_lib.timeutil import iso, parse_iso, utc_now

__all__ = ["DESIGNATIONS", "MEMBER_TYPES", "User", "authenticate", "create_user", "designate", "get_user",
           "inactive_since", "list_users", "reinstate", "require_user", "set_disabled", "set_password"]

MEMBER_TYPES = ("member", "contractor", "service")
#: 462.2.1(e): the title and name of the current designee overseeing the ALPR operation.
DESIGNATIONS = ("alpr_administrator", "alpr_administrator_designee", "administration_division_commander",
                "training_sergeant", "custodian_of_records", "administration_division_commander_designee")
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    title: str
    organisation: str
    member_type: str
    roles: tuple[str, ...]
    must_change_password: bool
    disabled: bool
    #: suspended after inactivity until a supervisor reinstates the account (None: not suspended)
    suspended_at: str | None = None

    @property
    def is_service(self) -> bool:
        return self.member_type == "service"

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)


def _user(row: UserRow) -> User:
    return User(row.username, row.full_name, row.title, row.organisation, row.member_type, row.roles,
                row.must_change_password, row.disabled, row.suspended_at)


def _hash(config: Config, password: str) -> str:
    return hash_password(password, time_cost=config.password_hash_time_cost,
                         memory_kib=config.password_hash_memory_kib)


def get_user(db: Backend, username: str) -> User | None:
    row = user_rows.get(db, username)
    return _user(row) if row else None


def require_user(db: Backend, username: str) -> User:
    user = get_user(db, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def list_users(db: Backend) -> list[dict]:
    """Every account as a dict for a table (no password hashes)."""
    return [{"username": r.username, "full_name": r.full_name, "title": r.title, "organisation": r.organisation,
             "member_type": r.member_type, "roles": ",".join(r.roles), "disabled": int(r.disabled),
             "must_change_password": int(r.must_change_password), "locked_until": r.locked_until,
             "created_at": r.created_at, "last_active_at": r.last_active_at, "suspended_at": r.suspended_at}
            for r in user_rows.list_rows(db)]


def create_user(db: Backend, config: Config, *, username: str, full_name: str, title: str,
                organisation: str, roles: list[str] | tuple[str, ...], password: str, created_by: str,
                member_type: str = "member", must_change_password: bool = True) -> User:
    """Add an account; new users change the password they were given at first login."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise ValidationError(f"username {username!r}: use 2-32 lower-case letters, digits, '.', '_' or '-', "
                              "starting with a letter")
    if member_type not in MEMBER_TYPES:
        raise ValidationError(f"member_type must be one of {MEMBER_TYPES}")
    for label, value in (("full name", full_name), ("title", title), ("organisation", organisation)):
        if not value or not value.strip():
            raise ValidationError(f"a user needs a {label} (policy 462.2.1(a): job title or designation)")
    roles = validate_roles(roles, service=member_type == "service")
    check_password_rules(password, username=username, min_length=config.password_min_length)
    now = iso(utc_now())
    with db.transaction() as tx:
        if user_rows.exists(tx, username):
            raise ValidationError(f"a user named {username!r} already exists")
        user_rows.insert(tx, UserRow(
            username, full_name.strip(), title.strip(), organisation.strip(), member_type, tuple(roles),
            _hash(config, password), bool(must_change_password), False, 0, None, now, created_by, now))
    return require_user(db, username)


def authenticate(db: Backend, config: Config, username: str, password: str,
                 now: datetime | None = None) -> User:
    """Check a password; count failures and lock after too many. Messages never say which part was wrong
    beyond what the user needs (an unknown user and a wrong password read the same)."""
    now = now or utc_now()
    failure: str | None = None
    with db.transaction() as tx:  # the failure count must commit even though we then refuse the login
        row = user_rows.get(tx, username)
        if row is None:
            failure = "login failed: unknown username or wrong password"
        elif row.disabled:
            failure = f"account {username!r} is disabled; ask the ALPR administrator"
        elif row.suspended_at:
            failure = _suspended_message(username, row.suspended_at, row.suspended_reason)
        elif (idle := inactive_since(row, config, now)) is not None:
            reason = f"no login for more than {config.inactivity_suspend_days} days (last active {idle[:10]})"
            user_rows.suspend(tx, username, iso(now), reason)
            failure = _suspended_message(username, iso(now), reason)
        elif row.locked_until and parse_iso(row.locked_until) > now:
            until = parse_iso(row.locked_until).astimezone(config.zone)
            failure = (f"account {username!r} is locked after repeated failed logins until {until:%H:%M %Z}; "
                       "try again then or ask the ALPR administrator")
        elif not verify_password(row.password_hash, password):
            failures = row.failed_logins + 1
            locked = None
            failure = "login failed: unknown username or wrong password"
            if failures >= config.lockout_failures:
                locked = iso(now + timedelta(minutes=config.lockout_minutes))
                failures = 0
                failure = (f"login failed: account {username!r} is now locked for {config.lockout_minutes} "
                           f"minutes after {config.lockout_failures} failures")
            user_rows.record_login_failure(tx, username, failures, locked)
        else:
            user_rows.record_login_success(tx, username, iso(now))
    if failure or row is None:
        raise AuthError(failure or "login failed")
    return _user(row)


def inactive_since(row: UserRow, config: Config, now: datetime) -> str | None:
    """The last activity of an account unused for longer than ``inactivity_suspend_days`` (None if it is in
    use, exempt — service accounts, the setting 0 — or from before activity was tracked)."""
    days = config.inactivity_suspend_days
    if not days or row.member_type == "service" or not row.last_active_at:
        return None
    return row.last_active_at if now - parse_iso(row.last_active_at) > timedelta(days=days) else None


def _suspended_message(username: str, at: str, reason: str | None) -> str:
    return (f"account {username!r} was suspended on {at[:10]} after inactivity ({reason}); ask a supervisor to "
            f"reinstate it (s.admin.reinstate_user({username!r}) or `alpr users reinstate {username}`)")


def reinstate(db: Backend, username: str, now: datetime | None = None) -> bool:
    """Lift an inactivity suspension (the inactivity clock starts again); False if it was not suspended."""
    require_user(db, username)
    return bool(user_rows.reinstate(db, username, iso(now or utc_now())))


def set_password(db: Backend, config: Config, username: str, new_password: str, *,
                 must_change: bool) -> None:
    """Store a new password (reset by an administrator: ``must_change=True``; changed by the user: False)."""
    user = require_user(db, username)
    check_password_rules(new_password, username=user.username, min_length=config.password_min_length)
    row = user_rows.get(db, username)
    if not must_change and row is not None and verify_password(row.password_hash, new_password):
        raise ValidationError("the new password must differ from the current one")
    user_rows.update_password(db, username, _hash(config, new_password), must_change=must_change,
                              changed_at=iso(utc_now()))


def set_disabled(db: Backend, username: str, disabled: bool) -> None:
    require_user(db, username)
    user_rows.set_disabled(db, username, disabled)


def designate(db: Backend, designation: str, username: str, title: str, assigned_by: str) -> None:
    """Record who holds a designation (462.2.1(e): the ALPR administrator's designee, ...)."""
    if designation not in DESIGNATIONS:
        raise ValidationError(f"designation must be one of {DESIGNATIONS}")
    require_user(db, username)
    user_rows.set_designation(db, designation, username, title, iso(utc_now()), assigned_by)
