"""Aggregate figures, never a plate: read activity per day and camera, silent cameras, the transparency figures,
users' compliance. Called by the declared actions of :mod:`alpr_lib.areas.oversight` and ``audit.transparency``
(each audited); every number is counted from the read store, the records database or the audit log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from alpr_lib.records import certifications as cert_rows
from alpr_lib.records import manifest
from alpr_lib.records import users as user_rows
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store import cameras as camera_registry
from alpr_lib.store.files import live_files
from alpr_lib.timeutil import iso, parse_iso

if TYPE_CHECKING:
    from alpr_lib.access.door import Context

__all__ = ["compliance_figures", "read_activity", "transparency_figures"]


def read_activity(ctx: Context, start: datetime, end: datetime, silent_hours: float) -> dict[str, Any]:
    """Reads per local day and per camera in [start, end), and each registered camera's last read (a camera
    with none for ``silent_hours`` before the newest read in the store is flagged silent)."""
    zone = ctx.config.timezone
    cams = camera_registry.load(ctx.db)
    files = live_files(ctx.db, ctx.store.path, "reads", first_day=(start - timedelta(days=1)).date(),
                       last_day=end.date())
    per_day_schema = {"day": pl.Date, "reads": pl.UInt32}
    per_camera_schema = {"camera_id": pl.String, "reads": pl.UInt32}
    if files:
        window = (pl.scan_parquet(files).select("captured_at", "camera_id")
                  .filter(pl.col("captured_at") >= start, pl.col("captured_at") < end).collect())
    else:
        window = pl.DataFrame(schema={"captured_at": pl.Datetime("us", "UTC"), "camera_id": pl.String})
    per_day = (window.group_by(pl.col("captured_at").dt.convert_time_zone(zone).dt.date().alias("day"))
               .agg(pl.len().alias("reads")).sort("day")) if window.height else pl.DataFrame(schema=per_day_schema)
    per_camera = (window.group_by("camera_id").agg(pl.len().alias("reads")).sort("reads", descending=True)
                  if window.height else pl.DataFrame(schema=per_camera_schema))
    every = live_files(ctx.db, ctx.store.path, "reads")
    if every:
        last = (pl.scan_parquet(every).group_by("camera_id").agg(pl.col("captured_at").max().alias("last_read"))
                .collect())
    else:
        last = pl.DataFrame(schema={"camera_id": pl.String, "last_read": pl.Datetime("us", "UTC")})
    newest = last.get_column("last_read").max() if last.height else None
    cameras = cams.select([c for c in ("camera_id", "name", "kind", "lat", "lon") if c in cams.columns]).join(
        last, on="camera_id", how="left").join(per_camera, on="camera_id", how="left").with_columns(
        pl.col("reads").fill_null(0))
    if newest is not None:
        limit = newest - timedelta(hours=silent_hours)
        cameras = cameras.with_columns(
            (pl.col("last_read").is_null() | (pl.col("last_read") < limit)).alias("silent"),
            ((pl.lit(newest) - pl.col("last_read")).dt.total_minutes() / 60).round(1).alias("hours_silent"))
    else:
        cameras = cameras.with_columns(pl.lit(True).alias("silent"), pl.lit(None, pl.Float64).alias("hours_silent"))
    return {"per_day": per_day, "per_camera": per_camera, "cameras": cameras, "newest_read": newest,
            "silent_hours": silent_hours, "reads": window.height, "start": start, "end": end}


def _data_actions() -> set[str]:
    from alpr_lib.access.actions import actions

    return {a.name for a in actions() if a.needs_purpose}


def transparency_figures(ctx: Context, start: datetime, end: datetime) -> dict[str, Any]:
    """The public page's figures: cameras, reads kept, data accesses by purpose and kind, refusals, audits."""
    rows = ctx.store.audit.rows(AuditFilter(start=iso(start), end=iso(end)))
    data = _data_actions()
    accesses = [r for r in rows if r["action"] in data]
    allowed = [r for r in accesses if r["outcome"] == "allowed"]
    by_purpose = Counter(r["purpose"] or "(none)" for r in allowed)
    by_action = Counter(r["action"] for r in allowed)
    files = manifest.day_summary(ctx.db)
    cams = camera_registry.load(ctx.db)
    accounts = user_rows.list_rows(ctx.store.accounts_db)
    from alpr_lib.auth.roles import permissions_of

    searchers = [u for u in accounts if not u.disabled and u.member_type != "service"
                 and "reads.search" in permissions_of(u.roles)]
    return {
        "period_start": iso(start), "period_end": iso(end), "timezone": ctx.config.timezone,
        "cameras": cams.height,
        "cameras_by_kind": dict(Counter(cams.get_column("kind").to_list())) if "kind" in cams.columns else {},
        "reads_kept": int(files["reads"] or 0), "first_day": files["first_day"], "last_day": files["last_day"],
        "retention_days": int(ctx.config.retention_days),
        "data_accesses": len(allowed), "data_accesses_refused": len(accesses) - len(allowed),
        "accesses_by_purpose": dict(sorted(by_purpose.items(), key=lambda kv: (-kv[1], kv[0]))),
        "accesses_by_kind": dict(sorted(by_action.items(), key=lambda kv: (-kv[1], kv[0]))),
        "accesses_with_case_number": sum(1 for r in allowed if r["case_number"]),
        "users_with_search_access": len(searchers),
        "audit_reviews": sum(1 for r in rows if r["action"] == "audit.review" and r["outcome"] == "allowed"),
        "store_kind": ctx.store.kind, "synthetic": ctx.store.synthetic,
    }


def compliance_figures(ctx: Context, dormant: Mapping[str, Any]) -> pl.DataFrame:
    """One row per account: roles, enabled, current certification and its expiry, last login, and whether the
    ``dormant_account`` rule flags it (``dormant``: username -> last activity)."""
    now = ctx.now
    logins: dict[str, str] = {}
    for r in ctx.store.audit.rows(AuditFilter(action="login", outcome="allowed")):
        logins[r["username"]] = r["time"]
    out = []
    for u in user_rows.list_rows(ctx.store.accounts_db):
        certs = cert_rows.list_rows(ctx.store.accounts_db, u.username)
        current = [c for c in certs if c["completed_at"] <= iso(now) < c["expires_at"]
                   and not c.get("revoked_at")]
        expiry = max((c["expires_at"] for c in current), default=None)
        last = logins.get(u.username)
        out.append({"username": u.username, "full_name": u.full_name, "title": u.title, "roles": ", ".join(u.roles),
                    "member_type": u.member_type, "enabled": not u.disabled,
                    "training": "current" if current else ("expired" if certs else "none"),
                    "certified_until": parse_iso(expiry) if expiry else None,
                    "days_to_expiry": (parse_iso(expiry) - now).days if expiry else None,
                    "last_login": parse_iso(last) if last else None,
                    "dormant": u.username in dormant})
    schema = {"username": pl.String, "full_name": pl.String, "title": pl.String, "roles": pl.String,
              "member_type": pl.String, "enabled": pl.Boolean, "training": pl.String,
              "certified_until": pl.Datetime("us", "UTC"), "days_to_expiry": pl.Int64,
              "last_login": pl.Datetime("us", "UTC"), "dormant": pl.Boolean}
    return pl.DataFrame(out, schema=schema, orient="row") if out else pl.DataFrame(schema=schema)
