"""The alerts dashboard (operators, supervisors): a live list of new hotlist alerts with the plate crop, the
plate and the entry it matched, the match kind and a map; verify (CLETS reference required) or reject (a
reason) each one (policy 462.3(f)). Every piece of data comes from an audited action (``alerts.list``,
``alerts.verify``, ``alerts.reject``); the list refreshes itself without a page reload.

``build(session, dash)`` is what ``dashboards/alerts.ipynb`` hands to :class:`alpr_lib.viz.dashboard.Dashboard`;
a user without ``alerts.review`` is refused by the door (and the refusal audited) before anything is drawn.
Stable CSS classes for tests and the user guide: ``alpr-alerts-table`` (rows ``alpr-alert-row`` with
``data-alert-id``), ``alpr-alerts-count``, ``alpr-alerts-map``, ``alpr-alert-select``, ``alpr-clets-ref``,
``alpr-vehicle-matches``, ``alpr-vehicle-description``, ``alpr-verify``, ``alpr-reject-reason``,
``alpr-reject-note``, ``alpr-reject``, ``alpr-refresh``.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import ipywidgets as widgets
import polars as pl

from alpr_lib.errors import AlprError
from alpr_lib.hotlists import REJECT_REASONS
from alpr_lib.viz.panels import panel, scatter_svg

__all__ = ["REFRESH_S", "AlertsView", "build"]

#: seconds between refreshes of the list (each refresh is one audited alerts.list)
REFRESH_S = 5.0
_COLOURS = {"exact": "#c01c28", "approximate": "#e66100", "wildcard": "#1a5fb4"}


def _crop(data: bytes | None) -> str:
    if not data:
        return "<span style='color:#777'>no crop</span>"
    kind = "png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "jpeg"
    return (f"<img class='alpr-alert-crop' alt='plate crop' style='height:40px' "
            f"src='data:image/{kind};base64,{base64.b64encode(data).decode()}'>")


def _row(alert: dict[str, Any], zone: str | None) -> str:
    at = alert["captured_at"]
    try:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        moment = datetime.fromisoformat(at)
        at = moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S") if zone else at
    except (TypeError, ValueError):
        pass
    flags = [f for f in (alert["state_flag"], "STALE list" if alert["stale"] else None) if f]
    kind = html.escape(alert["match_kind"]) + (f"<br><small>{html.escape(alert['differing'])}</small>"
                                                if alert["differing"] else "")
    cells = [_crop(alert.get("image")), f"{alert['priority']} {html.escape(alert['category'])}",
             f"<b>{html.escape(alert['plate'])}</b> {html.escape(alert['read_state'] or '?')}",
             f"{html.escape(alert['entry_plate'])} {html.escape(alert['entry_state'] or '')}<br>"
             f"<small>{html.escape(alert['list_name'])} ({html.escape(alert['source'])})</small>", kind,
             html.escape("; ".join(flags)), html.escape(alert["camera_id"]), html.escape(str(at)),
             str(alert["reads"])]
    return (f"<tr class='alpr-alert-row' data-alert-id='{html.escape(alert['alert_id'])}'>"
            + "".join(f"<td style='padding:2px 6px;border-bottom:1px solid #eee'>{c}</td>" for c in cells) + "</tr>")


_HEAD = ("crop", "priority", "plate read", "entry", "match", "flags", "camera", "captured", "reads")


def table_html(alerts: pl.DataFrame, zone: str | None) -> str:
    if alerts.height == 0:
        return "<p class='alpr-alerts-table alpr-alerts-empty'>No new alerts.</p>"
    head = "".join(f"<th style='text-align:left;padding:2px 6px'>{h}</th>" for h in _HEAD)
    rows = "".join(_row(r, zone) for r in alerts.iter_rows(named=True))
    return f"<table class='alpr-alerts-table' style='border-collapse:collapse'><tr>{head}</tr>{rows}</table>"


def map_html(alerts: pl.DataFrame) -> str:
    placed = alerts.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    groups = [(f"{kind} ({part.height})", colour, part["lon"].to_list(), part["lat"].to_list())
              for kind, colour in _COLOURS.items() if (part := placed.filter(pl.col("match_kind") == kind)).height]
    return scatter_svg(groups or [("no alerts", "#777", [], [])], title="Where the new alerts were read",
                       css_class="alpr-alerts-map")


class AlertsView:
    """The widgets of the dashboard and their callbacks (kept apart from Voila so a kernel test can drive it)."""

    def __init__(self, session: Any, dash: Any) -> None:
        self.session, self.dash = session, dash
        try:
            self.zone = session.store_info.department()["timezone"]
        except AlprError:  # a user without store.summary still sees the times (in UTC)
            self.zone = None
        self.count = widgets.HTML()
        self.count.add_class("alpr-alerts-count")
        self.table = widgets.HTML()
        self.map = widgets.HTML()
        self.select = widgets.Dropdown(description="Alert", options=[], layout=widgets.Layout(width="480px"))
        self.select.add_class("alpr-alert-select")
        self.clets = widgets.Text(description="CLETS ref", placeholder="confirmation reference (required)")
        self.clets.add_class("alpr-clets-ref")
        self.matches = widgets.Checkbox(description="vehicle matches the description", value=False, indent=False)
        self.matches.add_class("alpr-vehicle-matches")
        self.description = widgets.Text(description="Vehicle", placeholder="make, model, colour (optional)")
        self.description.add_class("alpr-vehicle-description")
        self.verify_button = widgets.Button(description="Verify", button_style="success")
        self.verify_button.add_class("alpr-verify")
        self.reason = widgets.Dropdown(description="Reason", options=list(REJECT_REASONS))
        self.reason.add_class("alpr-reject-reason")
        self.note = widgets.Text(description="Note", placeholder="what was wrong (required for 'other')")
        self.note.add_class("alpr-reject-note")
        self.reject_button = widgets.Button(description="Reject", button_style="warning")
        self.reject_button.add_class("alpr-reject")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.add_class("alpr-refresh")
        self.verify_button.on_click(dash.guard(lambda _b: self.verify()))
        self.reject_button.on_click(dash.guard(lambda _b: self.reject()))
        self.refresh_button.on_click(dash.guard(lambda _b: self.refresh()))
        warning = widgets.HTML("<p style='color:#b00020'><b>Verify every alert through CLETS before any enforcement "
                               "action based on it (policy 462.3(f)).</b> Approximate and wildcard matches, a state "
                               "mismatch or a stale list need particular care.</p>")
        actions = widgets.VBox([
            self.select,
            widgets.HBox([self.clets, self.matches]), widgets.HBox([self.description, self.verify_button]),
            widgets.HBox([self.reason, self.note, self.reject_button])])
        self.widget = widgets.VBox([warning, widgets.HBox([self.count, self.refresh_button]),
                                    panel("New alerts", self.table, "alpr-alerts-panel"),
                                    panel("Verify or reject", actions, "alpr-alert-actions"),
                                    panel("Map", self.map, "alpr-alerts-map-panel")])
        self.alerts = pl.DataFrame()
        self.refresh()

    def refresh(self) -> None:
        """One audited ``alerts.list`` of the new alerts; the widgets show it."""
        alerts = self.session.alerts.list(status="new", limit=200, with_images=True)
        self.alerts = alerts
        self.count.value = (f"<b class='alpr-alerts-count-n' data-count='{alerts.height}'>{alerts.height} new "
                            f"alert{'s' if alerts.height != 1 else ''}</b>")
        self.table.value = table_html(alerts, self.zone)
        self.map.value = map_html(alerts)
        chosen = self.select.value
        self.select.options = [(f"{r['alert_id']}  {r['plate']} ({r['category']}, {r['match_kind']})", r["alert_id"])
                               for r in alerts.iter_rows(named=True)]
        ids = alerts["alert_id"].to_list() if alerts.height else []
        self.select.value = chosen if chosen in ids else (ids[0] if ids else None)

    def verify(self) -> None:
        if not self.select.value:
            self.dash.error("No alert is selected.")
            return
        done = self.session.alerts.verify(self.select.value, self.clets.value,
                                          vehicle_matches=True if self.matches.value else None,
                                          vehicle_description=self.description.value or None)
        self.dash.message(f"Alert {done['alert_id']} verified (CLETS {done['clets_ref']}).")
        self.clets.value = ""
        self.description.value = ""
        self.matches.value = False
        self.refresh()

    def reject(self) -> None:
        if not self.select.value:
            self.dash.error("No alert is selected.")
            return
        done = self.session.alerts.reject(self.select.value, self.reason.value, note=self.note.value or None)
        self.dash.message(f"Alert {done['alert_id']} rejected ({done['rejected_reason']}).")
        self.note.value = ""
        self.refresh()


def build(session: Any, dash: Any) -> widgets.Widget:
    """The view after login (see the module docstring)."""
    view = AlertsView(session, dash)
    dash.every(REFRESH_S, view.refresh)
    return view.widget
