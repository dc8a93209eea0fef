"""Your own account: change your password, end your session. Every account may do these."""

from __future__ import annotations

from typing import Any

from alpr_lib.access.actions import Plan, Request, Result, action, secret
from alpr_lib.access.door import Context
from alpr_lib.auth import users


@action("users.change_password", permission="self.account", namespace="account", method="change_password",
        needs_training=False, aliases=("change_password",))
class ChangePassword(Request):
    """Change your own password (the current one is checked first)."""

    old_password: str = secret()
    new_password: str = secret()

    def describe(self) -> dict[str, Any]:
        return {}

    def work(self, ctx: Context, plan: Plan) -> Result:
        accounts = ctx.store.accounts_db  # the department's accounts, also from the training sandbox
        users.authenticate(accounts, ctx.config, ctx.user.username, self.old_password)
        users.set_password(accounts, ctx.config, ctx.user.username, self.new_password, must_change=False)
        return Result(None, 1)


@action("logout", permission="self.account", namespace="account", method="logout", needs_training=False)
class Logout(Request):
    """End this session (recorded in the audit log); later calls on it are refused."""

    def describe(self) -> dict[str, Any]:
        return {}

    def work(self, ctx: Context, plan: Plan) -> Result:
        return Result(None, None, end_session="logged out")
