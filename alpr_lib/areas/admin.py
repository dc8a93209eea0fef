"""Administration (policy 462.2.1(a),(e), 462.8): users, certifications, designations, cameras, settings, upkeep."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import timedelta
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action, jsonable, secret
from alpr_lib.access.door import Context
from alpr_lib.auth import certifications, users
from alpr_lib.auth.certifications import DEFAULT_COURSE
from alpr_lib.config import SETTINGS, parse_setting
from alpr_lib.errors import ConfigError, ValidationError
from alpr_lib.records import sessions as session_rows
from alpr_lib.records import settings as settings_rows
from alpr_lib.records.users import list_designations
from alpr_lib.store import cameras as camera_registry
from alpr_lib.store.compact import compact_days
from alpr_lib.store.schema import CAMERA_SCHEMA
from alpr_lib.timeutil import TimeLike, iso, parse_instant

#: The longest a certification may be recorded for (the department's refresher cycle is at most this).
MAX_VALID_DAYS = 3 * 365


@action("users.add", permission="users.manage", namespace="admin", method="add_user", needs_training=False,
        aliases=("add_user",), result="User")
class AddUser(Request):
    """Create an account. Members must change the given password at first login; only a synthetic (demo) store
    may skip that, so demo credentials work headless."""

    username: str
    _: KW_ONLY
    full_name: str
    title: str
    organisation: str
    roles: tuple[str, ...]
    password: str = secret()
    member_type: str = "member"
    must_change_password: bool = True

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username, "roles": list(self.roles), "member_type": self.member_type,
                "title": self.title}

    def work(self, ctx: Context, plan: Plan) -> Result:
        if not self.must_change_password and not ctx.store.synthetic and self.member_type != "service":
            raise ValidationError("only demo stores may create members without a forced password change")
        user = users.create_user(
            ctx.db, ctx.config, username=self.username, full_name=self.full_name, title=self.title,
            organisation=self.organisation, roles=list(self.roles), password=self.password,
            created_by=ctx.user.username, member_type=self.member_type,
            must_change_password=self.must_change_password and self.member_type != "service")
        return Result(user, 1)


@dataclass(frozen=True)
class _SetDisabled(Request):
    username: str

    disabled = True

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username}

    def work(self, ctx: Context, plan: Plan) -> Result:
        with ctx.db.transaction() as tx:
            users.set_disabled(tx, self.username, self.disabled)
            ended = session_rows.end_all_of_user(tx, self.username, iso(ctx.now), "account disabled") \
                if self.disabled else 0
        return Result(None, 1, {"sessions_ended": ended})


@action("users.disable", permission="users.manage", namespace="admin", method="disable_user",
        needs_training=False)
class DisableUser(_SetDisabled):
    """Disable an account: it can no longer log in, and its open sessions end at once."""

    disabled = True


@action("users.enable", permission="users.manage", namespace="admin", method="enable_user", needs_training=False)
class EnableUser(_SetDisabled):
    """Enable a disabled account again."""

    disabled = False


@action("users.reset_password", permission="users.manage", namespace="admin", method="reset_password",
        needs_training=False, aliases=("reset_password",))
class ResetPassword(Request):
    """Set a temporary password the user must change at next login; the user's open sessions end."""

    username: str
    new_password: str = secret()

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username}

    def work(self, ctx: Context, plan: Plan) -> Result:
        with ctx.db.transaction() as tx:
            users.set_password(tx, ctx.config, self.username, self.new_password, must_change=True)
            ended = session_rows.end_all_of_user(tx, self.username, iso(ctx.now), "password reset")
        return Result(None, 1, {"sessions_ended": ended})


@action("users.designate", permission="users.manage", namespace="admin", method="designate", needs_training=False,
        aliases=("designate",))
class Designate(Request):
    """Record a designation such as the ALPR administrator's designee (462.2.1(e))."""

    designation: str
    username: str
    _: KW_ONLY
    title: str

    def describe(self) -> dict[str, Any]:
        return {"designation": self.designation, "target_user": self.username, "title": self.title}

    def work(self, ctx: Context, plan: Plan) -> Result:
        users.designate(ctx.db, self.designation, self.username, self.title, ctx.user.username)
        return Result(None, 1)


@action("users.designations", permission="users.manage", namespace="admin", method="designations",
        needs_training=False, result="polars.DataFrame")
class Designations(Request):
    """Who holds each designation (the ALPR administrator, the designee, the Training Sergeant...)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        rows = list_designations(ctx.db)
        return Result(pl.DataFrame(rows) if rows else pl.DataFrame(schema={
            "designation": pl.String, "username": pl.String, "title": pl.String, "assigned_at": pl.String,
            "assigned_by": pl.String}), len(rows))


@action("users.list", permission="users.manage", namespace="admin", method="users", needs_training=False,
        aliases=("users",), result="polars.DataFrame")
class ListUsers(Request):
    """All accounts (no passwords)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        rows = users.list_users(ctx.db)
        return Result(pl.DataFrame(rows), len(rows))


@action("training.certify", permission="training.certify", namespace="admin", method="certify",
        needs_training=False, aliases=("certify",), result="int")
class Certify(Request):
    """Record that ``username`` completed department-approved training (trainers, administrators)."""

    username: str
    _: KW_ONLY
    course: str = DEFAULT_COURSE
    completed_at: TimeLike = None
    valid_days: int | None = None

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username, "course": self.course,
                "completed_at": str(self.completed_at) if self.completed_at is not None else None,
                "valid_days": self.valid_days}

    def work(self, ctx: Context, plan: Plan) -> Result:
        done = parse_instant(self.completed_at, ctx.config.zone) or ctx.now
        days = self.valid_days if self.valid_days is not None else ctx.config.certification_valid_days
        if not 1 <= days <= MAX_VALID_DAYS:
            raise ValidationError(f"valid_days must be between 1 and {MAX_VALID_DAYS}")
        if done > ctx.now:  # before the expiry is computed: 9999-12-31 plus a year is no date at all
            raise ValidationError(f"completed_at ({self.completed_at}) is in the future; give the day the "
                                  "training was completed")
        users.require_user(ctx.db, self.username)
        cert = certifications.record_certification(
            ctx.db, username=self.username, course=self.course, completed_at=done,
            expires_at=done + timedelta(days=days), certified_by=ctx.user.username)
        return Result(cert, 1, {"completed_at_utc": iso(done), "valid_days": days})


_CAMERA_TYPES = {"lat": "latitudes in degrees (numbers, empty for a mobile camera)",
                 "lon": "longitudes in degrees (numbers, empty for a mobile camera)"}


@action("cameras.register", permission="cameras.manage", namespace="admin", method="register_cameras",
        aliases=("register_cameras",), result="int")
class RegisterCameras(Request):
    """Add or update cameras in the registry (id, name, fixed or mobile, location, agency)."""

    cameras: pl.DataFrame

    def describe(self) -> dict[str, Any]:
        return {"cameras": self.cameras.height}

    def plan(self, ctx: Context) -> Plan:
        """Every column the registry knows must read as its declared type (``lat='north'`` is refused here
        with the column's name, not deep in the cast)."""
        for column, dtype in CAMERA_SCHEMA.items():
            if column not in self.cameras.columns:
                continue
            try:
                values = self.cameras.get_column(column).cast(dtype, strict=True)
            except (pl.exceptions.PolarsError, OverflowError, TypeError, ValueError):
                raise ValidationError(f"camera column {column!r} holds {self.cameras.schema[column]} values that "
                                      f"cannot be read as {dtype}; give {_CAMERA_TYPES.get(column, 'text')}") from None
            if dtype == pl.String and values.str.contains("\x00", literal=True).any():
                raise ValidationError(f"camera column {column!r} holds text with a NUL character (\\x00); remove it")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        count = camera_registry.upsert(ctx.db, self.cameras)
        return Result(count, count)


@action("store.compact", permission="store.compact", namespace="admin", method="compact_store",
        aliases=("compact_store",), result="dict")
class CompactStore(Request):
    """Merge each day's small ingest files into one (nightly, and after bulk loads)."""

    _: KW_ONLY
    progress: bool = True

    def describe(self) -> dict[str, Any]:
        return {}

    def work(self, ctx: Context, plan: Plan) -> Result:
        result = compact_days(ctx.store, progress=self.progress)
        return Result(result, result["files_merged"], jsonable(result))


_SETTINGS = {s.name: s for s in SETTINGS}


@action("settings.list", permission="settings.manage", namespace="admin", method="settings", needs_training=False,
        result="polars.DataFrame")
class ListSettings(Request):
    """Every department setting: its value, where it came from, and what it means."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        values = ctx.config.as_dict()
        rows = [{"name": s.name, "value": str(jsonable(values[s.name])), "source": ctx.config.sources[s.name],
                 "help": s.help} for s in SETTINGS]
        where = ctx.store.locations
        rows += [{"name": name, "value": str(value), "source": where.source, "help": text} for name, value, text in (
            ("key_dir", where.key_dir, "Directory of the audit HMAC keys (outside every store; not a setting: "
             "read from the audit system file only)."),
            ("checkpoint_dir", where.checkpoint_dir, "Directory of the signed audit checkpoints (outside every "
             "store; read from the audit system file only)."))]
        return Result(pl.DataFrame(rows), len(rows))


@action("settings.set", permission="settings.manage", namespace="admin", method="set_setting",
        needs_training=False)
class SetSetting(Request):
    """Change one department setting; the audit record keeps the old and the new value."""

    name: str
    value: Any

    def describe(self) -> dict[str, Any]:
        return {"setting": self.name, "new_value": jsonable(self.value)}

    def work(self, ctx: Context, plan: Plan) -> Result:
        if self.name not in _SETTINGS:
            raise ValidationError(f"unknown setting {self.name!r}; settings are {sorted(_SETTINGS)} (where the "
                                  "audit key and checkpoints live is set in the audit system file, not here)")
        try:
            parse_setting(self.name, self.value)
            if self.name == "offense_limits":
                from alpr_lib.analysis.limits import parse_offense_limits

                parse_offense_limits(self.value)
        except ConfigError as exc:
            raise ValidationError(f"setting {self.name!r}: {exc}") from None
        old = ctx.config.as_dict()[self.name]
        settings_rows.put(ctx.db, self.name, jsonable(self.value), iso(ctx.now), ctx.user.username)
        ctx.store.reload_config()
        return Result(None, 1, {"old_value": jsonable(old)})
