"""The audit-review dashboard (auditors): the review against the published rules, drill-down from a flag to
its audit records, marking a flag reviewed with a finding, and the reverse plate lookup.

Every figure comes from an audited action (``audit.review``, ``audit.read``, ``audit.mark_reviewed``,
``audit.plate_lookups``); a user without ``audit.review`` is refused by the door before anything is drawn.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ipywidgets as widgets
import polars as pl

from alpr_lib.review.query_text import compact_query
from alpr_lib.review.rules import RULE_IDS
from alpr_lib.timeutil import utc_now
from alpr_lib.viz.panels import frame_html, panel

__all__ = ["PERIODS", "AuditView", "build"]

PERIODS = {"last 7 days": 7, "last 30 days": 30, "last 90 days": 90, "last 365 days": 365}
_RECORD_COLUMNS = ("seq", "time", "username", "action", "outcome", "purpose", "case_number", "result_count",
                   "client", "query", "reason")


class AuditView:
    """The review for one period and rule filter, with the selected flag's records."""

    def __init__(self, session: Any, dash: Any) -> None:
        self.session = session
        self.dash = dash
        self.zone = session.store_info.department()["timezone"]
        self.period = widgets.Dropdown(options=list(PERIODS), value="last 30 days", description="Period")
        self.period.add_class("alpr-audit-period")
        self.rule = widgets.Dropdown(options=["all rules", *RULE_IDS], value="all rules", description="Rule")
        self.rule.add_class("alpr-audit-rule")
        self.chain = widgets.HTML()
        self.chain.add_class("alpr-chain-status")
        self.counts = widgets.HTML()
        self.counts.add_class("alpr-flag-counts")
        self.flags = widgets.Select(options=[], rows=10, layout=widgets.Layout(width="100%"))
        self.flags.add_class("alpr-flag-list")
        self.detail = widgets.HTML()
        self.detail.add_class("alpr-flag-detail")
        self.finding = widgets.Text(placeholder="finding, e.g. tied to case 26-004512; no misuse",
                                    layout=widgets.Layout(width="60%"))
        self.finding.add_class("alpr-finding")
        self.follow_up = widgets.Text(placeholder="follow-up (optional), e.g. referred to internal affairs",
                                      layout=widgets.Layout(width="60%"))
        self.follow_up.add_class("alpr-follow-up")
        self.mark = widgets.Button(description="Mark reviewed", icon="check", button_style="success")
        self.mark.add_class("alpr-mark-reviewed")
        self.activity = widgets.HTML()
        self.activity.add_class("alpr-activity")
        self.plate = widgets.Text(placeholder="plate, e.g. 7ABC123", layout=widgets.Layout(width="200px"))
        self.plate.add_class("alpr-lookup-plate")
        self.lookup = widgets.Button(description="Who looked it up?", icon="search",
                                     layout=widgets.Layout(width="auto"))
        self.lookup.add_class("alpr-lookup-button")
        self.lookups = widgets.HTML()
        self.lookups.add_class("alpr-lookup-result")
        self.review: Any = None
        self.records = pl.DataFrame()
        self.period.observe(lambda _c: dash.guard(self.refresh)(), names="value")
        self.rule.observe(lambda _c: dash.guard(self.refresh)(), names="value")
        self.flags.observe(lambda _c: dash.guard(self.show_flag)(), names="value")
        self.mark.on_click(lambda _b: dash.guard(self.mark_reviewed)())
        self.lookup.on_click(lambda _b: dash.guard(self.plate_lookup)())

    def window(self) -> tuple[Any, Any]:
        end = utc_now()
        return end - timedelta(days=PERIODS[self.period.value]), end

    def refresh(self) -> None:
        start, end = self.window()
        rule = None if self.rule.value == "all rules" else self.rule.value
        self.review = review = self.session.audit.review(start=start, end=end, rule=rule)
        self.records = self.session.audit.records(start=start, end=end)
        status = review.chain.get("status")
        colour = "#1b5e20" if status == "intact" else "#b00020"
        self.chain.value = (f"<div style='font-size:14px'>Audit chain: <b style='color:{colour}'>{html.escape(status)}"
                            f"</b> ({review.chain.get('records'):,} records) · {review.records_reviewed:,} records "
                            f"reviewed in the period</div>")
        counts = review.counts()
        self.counts.value = "<div style='font-size:12px'>" + " · ".join(
            f"{html.escape(k)} <b>{v}</b>" for k, v in counts.items() if rule is None or k == rule) + "</div>"
        options = []
        for f in review.flags:
            mark = "✓ " if f.flag_id in review.reviewed else ""
            options.append((f"{mark}{f.rule} — {f.username}: {f.explanation[:110]}", f.flag_id))
        self.flags.options = options or [("no flags for this filter", "")]
        self.flags.value = options[0][1] if options else ""
        self.show_flag()
        self.activity.value = (
            "<h4 style='margin:4px 0'>Per user</h4>" + frame_html(review.by_user, css_class="alpr-activity-users")
            + "<h4 style='margin:4px 0'>Per purpose</h4>"
            + frame_html(review.by_purpose, css_class="alpr-activity-purposes", empty="no data accesses"))

    def show_flag(self) -> None:
        flag = self.review.flag(self.flags.value) if self.review is not None and self.flags.value else None
        if flag is None:
            self.detail.value = "<p style='color:#555'>No flag selected.</p>"
            return
        done = self.review.reviewed.get(flag.flag_id)
        state = (f"<p class='alpr-flag-reviewed'><b>Reviewed</b> by {html.escape(done['reviewed_by'])}: "
                 f"{html.escape(done['finding'])}</p>") if done else "<p><i>Not yet reviewed.</i></p>"
        records = self.records.filter(pl.col("seq").is_in(list(flag.records))) if self.records.height else self.records
        if records.height:
            zone = ZoneInfo(self.zone)
            records = records.with_columns(pl.col("query").map_elements(
                lambda q: compact_query(q, zone, max_items=20), return_dtype=pl.String))
        table = frame_html(records, css_class="alpr-flag-records", columns=_RECORD_COLUMNS, zone=self.zone,
                           empty="the flag's records are outside the period shown")
        self.detail.value = (f"<h4 style='margin:4px 0'>{html.escape(flag.rule)} — {html.escape(flag.username)} "
                             f"<span style='color:#777;font-size:11px'>{html.escape(flag.flag_id)}</span></h4>"
                             f"<p>{html.escape(flag.explanation)}</p>{state}{table}")

    def mark_reviewed(self) -> None:
        if not self.flags.value:
            self.dash.error("Select a flag first.")
            return
        start, end = self.review.start, self.review.end
        self.session.audit.mark_reviewed(self.flags.value, self.finding.value, follow_up=self.follow_up.value or None,
                                         start=start, end=end)
        self.dash.message(f"Flag {self.flags.value} marked reviewed.")
        selected = self.flags.value
        self.finding.value = ""
        self.follow_up.value = ""
        self.refresh()
        if selected in [v for _, v in self.flags.options]:
            self.flags.value = selected

    def plate_lookup(self) -> None:
        found = self.session.audit.plate_lookups(self.plate.value)
        self.lookups.value = frame_html(found, css_class="alpr-lookup-table", zone=self.zone,
                                        empty=f"No access queried or returned {self.plate.value}.")

    def widget(self) -> widgets.Widget:
        flags = widgets.VBox([self.counts, self.flags, self.detail,
                              widgets.HBox([self.finding]), widgets.HBox([self.follow_up, self.mark])])
        box = widgets.VBox([
            widgets.HBox([self.period, self.rule]), self.chain,
            panel("Flags (select one to see its records)", flags, "alpr-audit-flags"),
            panel("Activity", self.activity, "alpr-audit-activity"),
            panel("Reverse lookup: who looked up a plate", widgets.VBox([widgets.HBox([self.plate, self.lookup]),
                                                                         self.lookups]), "alpr-audit-lookup"),
        ])
        box.add_class("alpr-audit-view")
        return box


def build(session: Any, dash: Any) -> widgets.Widget:
    """The audit review (a role without ``audit.review`` is refused by the first call, audited)."""
    view = AuditView(session, dash)
    view.refresh()
    return view.widget()
