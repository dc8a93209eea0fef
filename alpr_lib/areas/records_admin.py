"""Records administration (issue 13): audited role grants (old and new roles), backup of a store with its
records, keys and checkpoints, and rotation of the audit key with the chain continuing across it."""

from __future__ import annotations

import os
from dataclasses import KW_ONLY
from pathlib import Path
from typing import Any

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.auth.roles import validate_roles
from alpr_lib.auth.users import require_user
from alpr_lib.backup import BackupInfo, backup_store
from alpr_lib.errors import ValidationError
from alpr_lib.records import sessions as session_rows
from alpr_lib.records import users as user_rows
from alpr_lib.timeutil import iso

__all__ = ["BackupInfo"]


@action("users.set_roles", permission="users.manage", namespace="admin", method="set_roles", needs_training=False,
        aliases=("set_roles",), result="dict")
class SetRoles(Request):
    """Grant or take away roles: the user's roles become ``roles``; the audit record keeps the old and the new
    roles, and the user's open sessions end (the next login carries the new permissions)."""

    username: str
    roles: tuple[str, ...]

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username, "new_roles": list(self.roles)}

    def work(self, ctx: Context, plan: Plan) -> Result:
        user = require_user(ctx.db, self.username)
        roles = validate_roles(self.roles, service=user.is_service)
        if user.username == ctx.user.username and "administrator" in user.roles and "administrator" not in roles:
            raise ValidationError("you cannot take the administrator role from yourself; ask another administrator")
        with ctx.db.transaction() as tx:
            user_rows.set_roles(tx, user.username, roles)
            ended = session_rows.end_all_of_user(tx, user.username, iso(ctx.now), "roles changed")
            result = Result({"username": user.username, "old_roles": list(user.roles), "new_roles": list(roles)}, 1,
                            {"old_roles": list(user.roles), "granted": sorted(set(roles) - set(user.roles)),
                             "revoked": sorted(set(user.roles) - set(roles)), "sessions_ended": ended})
            ctx.audit_in(tx, result)  # the grant and its record commit together
        return result


@action("store.backup", permission="store.backup", namespace="admin", method="backup", aliases=("backup_store",),
        result="BackupInfo")
class BackupStore(Request):
    """Back the store up to a new folder: its files, a consistent copy of the records database, every audit key
    and the signed checkpoints (restore with ``alpr restore``; the copy's audit log verifies on its own)."""

    out: str | os.PathLike

    def describe(self) -> dict[str, Any]:
        return {"out": str(self.out)[:500]}

    def work(self, ctx: Context, plan: Plan) -> Result:
        text = os.fspath(self.out)
        if not isinstance(text, str) or not text.strip() or "\x00" in text:
            raise ValidationError(f"give a new folder for the backup, not {text!r:.80}")
        info = backup_store(ctx.store, Path(text))
        return Result(info, info.files, {"out": str(info.path), "files": info.files, "bytes": info.bytes,
                                         "audit_seq": info.audit_seq})


@action("audit.rotate_key", permission="audit.rotate_key", namespace="audit", method="rotate_key",
        needs_training=False, aliases=("rotate_audit_key",), result="dict")
class RotateAuditKey(Request):
    """Rotate the audit HMAC key: a new random key signs every record after this one, whose record (signed with
    the old key) names the new key's fingerprint, so verification follows the chain across the rotation. The old
    key is kept (it verifies the records it signed); back up the key directory after a rotation."""

    _: KW_ONLY
    reason: str | None = None

    def work(self, ctx: Context, plan: Plan) -> Result:
        audit = ctx.store.audit
        old = audit.key_fingerprint()
        new = audit.prepare_rotation()
        with ctx.db.transaction() as tx:
            value = {"old_key_fingerprint": old, "new_key_fingerprint": new}
            result = Result(value, 1, value)
            ctx.audit_in(tx, result)  # signed with the old key
            audit.commit_rotation(tx, new)  # later records: the new key
        return result
