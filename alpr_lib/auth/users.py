"""User accounts (policy 462.2.1(a),(e), 462.5(a)): who may use ALPR, their title and organisation.

Passwords are argon2id hashes; five failures in a row lock the account for 15 minutes (configurable); a
reset password must be changed at the next login; disabled accounts cannot log in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from alpr_lib.auth.passwords import check_password_rules, hash_password, verify_password
from alpr_lib.auth.roles import permissions_of, validate_roles
from alpr_lib.config import Config
from alpr_lib.errors import AuthError, NotFound, ValidationError
from alpr_lib.store.records import RecordsDB
from alpr_lib.timeutil import iso, parse_iso, utc_now

__all__ = ["DESIGNATIONS", "MEMBER_TYPES", "User", "authenticate", "create_user", "designate", "get_user",
           "list_users", "require_user", "set_disabled", "set_password"]

MEMBER_TYPES = ("member", "contractor", "service")
#: 462.2.1(e): the title and name of the current designee overseeing the ALPR operation.
DESIGNATIONS = ("alpr_administrator", "alpr_administrator_designee", "administration_division_commander",
                "training_sergeant", "custodian_of_records")
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

    @property
    def is_service(self) -> bool:
        return self.member_type == "service"

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.roles)


def _user(row: dict) -> User:
    return User(row["username"], row["full_name"], row["title"], row["organisation"], row["member_type"],
                tuple(json.loads(row["roles"])), bool(row["must_change_password"]), bool(row["disabled"]))


def _hash(config: Config, password: str) -> str:
    return hash_password(password, time_cost=config.password_hash_time_cost,
                         memory_kib=config.password_hash_memory_kib)


def get_user(db: RecordsDB, username: str) -> User | None:
    rows = db.query("SELECT * FROM users WHERE username = ?", (username,))
    return _user(rows[0]) if rows else None


def require_user(db: RecordsDB, username: str) -> User:
    user = get_user(db, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def list_users(db: RecordsDB) -> list[dict]:
    rows = db.query("SELECT username, full_name, title, organisation, member_type, roles, disabled, "
                    "must_change_password, locked_until, created_at FROM users ORDER BY username")
    for row in rows:
        row["roles"] = ",".join(json.loads(row["roles"]))
    return rows


def create_user(db: RecordsDB, config: Config, *, username: str, full_name: str, title: str,
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
        if tx.query("SELECT 1 FROM users WHERE username = ?", (username,)):
            raise ValidationError(f"a user named {username!r} already exists")
        tx.execute(
            "INSERT INTO users(username, full_name, title, organisation, member_type, roles, password_hash, "
            "must_change_password, created_at, created_by, password_changed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (username, full_name.strip(), title.strip(), organisation.strip(), member_type, json.dumps(roles),
             _hash(config, password), int(must_change_password), now, created_by, now),
        )
    return require_user(db, username)


def authenticate(db: RecordsDB, config: Config, username: str, password: str,
                 now: datetime | None = None) -> User:
    """Check a password; count failures and lock after too many. Messages never say which part was wrong
    beyond what the user needs (an unknown user and a wrong password read the same)."""
    now = now or utc_now()
    failure: str | None = None
    with db.transaction() as tx:  # the failure count must commit even though we then refuse the login
        rows = tx.query("SELECT * FROM users WHERE username = ?", (username,))
        if not rows:
            failure = "login failed: unknown username or wrong password"
        elif rows[0]["disabled"]:
            failure = f"account {username!r} is disabled; ask the ALPR administrator"
        elif rows[0]["locked_until"] and parse_iso(rows[0]["locked_until"]) > now:
            until = parse_iso(rows[0]["locked_until"]).astimezone(config.zone)
            failure = (f"account {username!r} is locked after repeated failed logins until {until:%H:%M %Z}; "
                       "try again then or ask the ALPR administrator")
        elif not verify_password(rows[0]["password_hash"], password):
            failures = rows[0]["failed_logins"] + 1
            locked = None
            failure = "login failed: unknown username or wrong password"
            if failures >= config.lockout_failures:
                locked = iso(now + timedelta(minutes=config.lockout_minutes))
                failures = 0
                failure = (f"login failed: account {username!r} is now locked for {config.lockout_minutes} "
                           f"minutes after {config.lockout_failures} failures")
            tx.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE username = ?",
                       (failures, locked, username))
        else:
            tx.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?", (username,))
    if failure:
        raise AuthError(failure)
    row = rows[0]
    return _user(row)


def set_password(db: RecordsDB, config: Config, username: str, new_password: str, *,
                 must_change: bool) -> None:
    """Store a new password (reset by an administrator: ``must_change=True``; changed by the user: False)."""
    user = require_user(db, username)
    check_password_rules(new_password, username=user.username, min_length=config.password_min_length)
    rows = db.query("SELECT password_hash FROM users WHERE username = ?", (username,))
    if not must_change and verify_password(rows[0]["password_hash"], new_password):
        raise ValidationError("the new password must differ from the current one")
    db.execute("UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?, "
               "failed_logins = 0, locked_until = NULL WHERE username = ?",
               (_hash(config, new_password), int(must_change), iso(utc_now()), username))


def set_disabled(db: RecordsDB, username: str, disabled: bool) -> None:
    require_user(db, username)
    db.execute("UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username))


def designate(db: RecordsDB, designation: str, username: str, title: str, assigned_by: str) -> None:
    """Record who holds a designation (462.2.1(e): the ALPR administrator's designee, ...)."""
    if designation not in DESIGNATIONS:
        raise ValidationError(f"designation must be one of {DESIGNATIONS}")
    require_user(db, username)
    db.execute("INSERT OR REPLACE INTO designations(designation, username, title, assigned_at, assigned_by) "
               "VALUES (?,?,?,?,?)", (designation, username, title, iso(utc_now()), assigned_by))
