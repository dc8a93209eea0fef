"""The users and designations tables (policy 462.2.1(a),(e)): accounts, their roles and password hashes."""

from __future__ import annotations

import json
from dataclasses import dataclass

from alpr_lib.records.backend import Backend

__all__ = ["UserRow", "exists", "get", "insert", "list_designations", "list_rows", "record_login_failure",
           "record_login_success", "reinstate", "set_designation", "set_disabled", "set_last_active", "suspend",
           "update_password"]


@dataclass(frozen=True)
class UserRow:
    username: str
    full_name: str
    title: str
    organisation: str
    member_type: str
    roles: tuple[str, ...]
    password_hash: str
    must_change_password: bool
    disabled: bool
    failed_logins: int
    locked_until: str | None
    created_at: str
    created_by: str
    password_changed_at: str
    #: last login (or creation, or reinstatement); None for an account from before activity was tracked
    last_active_at: str | None = None
    #: set when the account was suspended after inactivity, until a supervisor reinstates it
    suspended_at: str | None = None
    suspended_reason: str | None = None


def _row(r: dict) -> UserRow:
    return UserRow(r["username"], r["full_name"], r["title"], r["organisation"], r["member_type"],
                   tuple(json.loads(r["roles"])), r["password_hash"], bool(r["must_change_password"]),
                   bool(r["disabled"]), int(r["failed_logins"]), r["locked_until"], r["created_at"],
                   r["created_by"], r["password_changed_at"], r.get("last_active_at"), r.get("suspended_at"),
                   r.get("suspended_reason"))


def get(db: Backend, username: str) -> UserRow | None:
    rows = db.query("SELECT * FROM users WHERE username = ?", (username,))
    return _row(rows[0]) if rows else None


def exists(db: Backend, username: str) -> bool:
    return bool(db.query("SELECT 1 FROM users WHERE username = ?", (username,)))


def list_rows(db: Backend) -> list[UserRow]:
    return [_row(r) for r in db.query("SELECT * FROM users ORDER BY username")]


def insert(db: Backend, row: UserRow) -> None:
    db.execute(
        "INSERT INTO users(username, full_name, title, organisation, member_type, roles, password_hash, "
        "must_change_password, disabled, failed_logins, locked_until, created_at, created_by, password_changed_at, "
        "last_active_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (row.username, row.full_name, row.title, row.organisation, row.member_type, json.dumps(list(row.roles)),
         row.password_hash, int(row.must_change_password), int(row.disabled), row.failed_logins, row.locked_until,
         row.created_at, row.created_by, row.password_changed_at, row.last_active_at or row.created_at))


def record_login_failure(db: Backend, username: str, failures: int, locked_until: str | None) -> None:
    db.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE username = ?",
               (failures, locked_until, username))


def record_login_success(db: Backend, username: str, at: str | None = None) -> None:
    """Reset the failure count; ``at`` (ISO UTC) is the new last activity."""
    if at is None:
        db.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = ?", (username,))
    else:
        db.execute("UPDATE users SET failed_logins = 0, locked_until = NULL, last_active_at = ? WHERE username = ?",
                   (at, username))


def set_last_active(db: Backend, username: str, at: str) -> None:
    db.execute("UPDATE users SET last_active_at = ? WHERE username = ?", (at, username))


def suspend(db: Backend, username: str, at: str, reason: str) -> None:
    db.execute("UPDATE users SET suspended_at = ?, suspended_reason = ? WHERE username = ?", (at, reason, username))


def reinstate(db: Backend, username: str, at: str) -> int:
    """Lift a suspension; the inactivity clock starts again at ``at``. Returns 1 if the account was suspended."""
    return db.execute("UPDATE users SET suspended_at = NULL, suspended_reason = NULL, last_active_at = ? "
                      "WHERE username = ? AND suspended_at IS NOT NULL", (at, username))


def update_password(db: Backend, username: str, password_hash: str, *, must_change: bool, changed_at: str) -> None:
    db.execute("UPDATE users SET password_hash = ?, must_change_password = ?, password_changed_at = ?, "
               "failed_logins = 0, locked_until = NULL WHERE username = ?",
               (password_hash, int(must_change), changed_at, username))


def set_disabled(db: Backend, username: str, disabled: bool) -> None:
    db.execute("UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username))


def set_designation(db: Backend, designation: str, username: str, title: str, assigned_at: str,
                    assigned_by: str) -> None:
    db.execute("INSERT INTO designations(designation, username, title, assigned_at, assigned_by) "
               "VALUES (?,?,?,?,?) ON CONFLICT (designation) DO UPDATE SET username = excluded.username, "
               "title = excluded.title, assigned_at = excluded.assigned_at, assigned_by = excluded.assigned_by",
               (designation, username, title, assigned_at, assigned_by))


def list_designations(db: Backend) -> list[dict]:
    return db.query("SELECT designation, username, title, assigned_at, assigned_by FROM designations "
                    "ORDER BY designation")


def set_roles(db: Backend, username: str, roles: tuple[str, ...]) -> int:
    """Replace a user's roles (the audited ``users.set_roles`` records the old and the new ones)."""
    return db.execute("UPDATE users SET roles = ? WHERE username = ?", (json.dumps(list(roles)), username))
