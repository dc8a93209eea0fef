"""Oversight figures for the command-overview and compliance dashboards (issue 14): aggregate, never a plate.

Command staff see read activity per day and camera and silent cameras (``dashboards.command``); auditors and the
administrator see each account's training status, last login and dormancy (``compliance.view``). Each is a
declared action, so every figure a dashboard shows is an audited access.
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from datetime import timedelta
from typing import Any

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.areas.reads import Window
from alpr_lib.errors import ValidationError
from alpr_lib.review.rules import rule_set
from alpr_lib.timeutil import TimeLike, requested_window, time_window


@action("oversight.read_activity", permission="dashboards.command", namespace="oversight", method="read_activity",
        needs_training=False, result="dict")
class ReadActivity(Request):
    """Reads per local day and per camera over a period (the last 30 days by default), every registered camera's
    last read, and the cameras silent for more than ``silent_hours`` (no plate data)."""

    _: KW_ONLY
    start: TimeLike = None
    end: TimeLike = None
    silent_hours: float = 24.0

    def describe(self) -> dict[str, Any]:
        return {**requested_window(self.start, self.end), "silent_hours": self.silent_hours}

    def plan(self, ctx: Context) -> Window:
        if not 0 < self.silent_hours <= 24 * 365:
            raise ValidationError(f"silent_hours must be between 0 and {24 * 365}, not {self.silent_hours}")
        from alpr_lib.areas.audit import back_from

        lo, hi = time_window(self.start, self.end, ctx.config.zone)
        hi = hi or ctx.now
        lo = back_from(lo, 0) if lo else back_from(hi, 30)
        if (hi - lo).days > 400:
            raise ValidationError("give a period of at most 400 days")
        return Window(lo, hi)

    def work(self, ctx: Context, plan: Window) -> Result:
        from alpr_lib.reports.figures import read_activity

        figures = read_activity(ctx, plan.start, plan.end, self.silent_hours)
        silent = figures["cameras"].filter("silent").get_column("camera_id").to_list()
        return Result(figures, figures["reads"], {"silent_cameras": silent})


@action("oversight.compliance", permission="compliance.view", namespace="oversight", method="compliance",
        needs_training=False, result="polars.DataFrame")
class Compliance(Request):
    """One row per account: roles, enabled, training status and expiry, last login, and whether it is dormant
    (the audit rule ``dormant_account``: no login for its ``dormant_days``, whatever suspension does)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        from alpr_lib.areas.audit import review_input
        from alpr_lib.reports.figures import compliance_figures
        from alpr_lib.review.engine import dormant_account

        rule = rule_set(ctx.config.audit_rules)["dormant_account"]
        data = review_input(ctx, ctx.now - timedelta(days=1), ctx.now)
        dormant = {f.username: f.details.get("last_activity") for f in dormant_account(data, rule.params)}
        frame = compliance_figures(ctx, dormant)
        return Result(frame, frame.height, {"dormant": frame.filter("dormant").get_column("username").to_list()})
