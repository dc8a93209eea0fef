"""The command-overview dashboard (command staff): reads per day and per camera, a camera map, silent cameras,
hotlist hits and verification rates, trends. Aggregates only; every figure comes from an audited action
(``oversight.read_activity``, ``store.summary``, ``alerts.figures`` where hotlists exist).

``build(session, dash)`` is what ``dashboards/command_overview.ipynb`` hands to
:class:`alpr_lib.viz.dashboard.Dashboard`; a user without ``dashboards.command`` is refused by the door (and
the refusal audited) before anything is drawn.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import ipywidgets as widgets
import polars as pl

from alpr_lib.timeutil import utc_now
from alpr_lib.viz.panels import bars_svg, frame_html, line_svg, optional_call, panel, scatter_svg, unavailable_html

__all__ = ["PERIODS", "build", "command_view"]

#: the period filter: label -> days
PERIODS = {"last 7 days": 7, "last 30 days": 30, "last 90 days": 90, "last 365 days": 365}
SILENT_CHOICES = {"24 hours": 24.0, "3 days": 72.0, "7 days": 168.0}


def _plots(activity: dict[str, Any]) -> str:
    per_day: pl.DataFrame = activity["per_day"]
    days = [d.strftime("%m-%d") for d in per_day.get_column("day").to_list()] if per_day.height else []
    line = line_svg(days, per_day.get_column("reads").to_list() if per_day.height else [],
                    title="Reads per day (department time)", css_class="alpr-plot-per-day")
    per_camera: pl.DataFrame = activity["per_camera"].head(15)
    bars = bars_svg(per_camera.get_column("camera_id").to_list(), per_camera.get_column("reads").to_list(),
                    title="Reads per camera (busiest 15)", css_class="alpr-plot-per-camera")
    return f"<div>{line}</div><div>{bars}</div>"


def _map(cameras: pl.DataFrame) -> str:
    """The fixed cameras on an offline plot (no basemap tiles: nothing is fetched); silent ones in red."""
    placed = cameras.filter(pl.col("lat").is_not_null() & pl.col("lon").is_not_null())
    groups = []
    for silent, colour, label in ((False, "#1a5fb4", "reporting"), (True, "#c01c28", "silent")):
        part = placed.filter(pl.col("silent") == silent)
        groups.append((f"{label} ({part.height})", colour, part.get_column("lon").to_list(),
                       part.get_column("lat").to_list()))
    return scatter_svg(groups, title="Fixed cameras (silent in red)", css_class="alpr-camera-map")


def _trend(per_day: pl.DataFrame) -> str:
    if per_day.height < 14:
        return "not enough days for a trend"
    last = per_day.tail(7).get_column("reads").sum()
    before = per_day.tail(14).head(7).get_column("reads").sum()
    if not before:
        return f"{last:,} reads in the last 7 days"
    change = (last - before) / before
    return f"{last:,} reads in the last 7 days, {change:+.0%} on the 7 days before"


def _hits_html(session: Any, start: Any, end: Any) -> str:
    figures, why = optional_call(session, "alerts", "figures", start=start, end=end)
    if figures is None:
        if "no alerts" in (why or ""):
            return "<p class='alpr-no-hotlists'>No hotlists: this installation has no hotlist alerts.</p>"
        return unavailable_html(why or "")
    if not figures.get("hits"):
        return "<p class='alpr-no-hotlists'>No hotlist hits in the period (no hotlists, or no matches).</p>"
    rate = figures.get("verification_rate")
    false = figures.get("false_hit_rate")
    cells = [("hits", f"{figures.get('hits', 0):,}"), ("verified", f"{figures.get('verified', 0):,}"),
             ("rejected", f"{figures.get('rejected', 0):,}"), ("awaiting verification", f"{figures.get('new', 0):,}"),
             ("verification rate", f"{rate:.0%}" if isinstance(rate, float) else "—"),
             ("false-hit rate", f"{false:.0%}" if isinstance(false, float) else "—")]
    return "<table class='alpr-hits-table' style='font-size:13px'>" + "".join(
        f"<tr><td style='padding:2px 10px 2px 0'>{html.escape(k)}</td><td><b>{v}</b></td></tr>" for k, v in cells) \
        + "</table>"


def command_view(session: Any, days: int, silent_hours: float) -> widgets.Widget:
    """The view for one choice of filters (each figure an audited call)."""
    end = utc_now()
    start = end - timedelta(days=days)
    activity = session.oversight.read_activity(start=start, end=end, silent_hours=silent_hours)
    summary = session.store_info.summary()
    zone = session.store_info.department()["timezone"]
    cameras: pl.DataFrame = activity["cameras"]
    silent = cameras.filter("silent")
    headline = (f"<div class='alpr-command-summary' style='font-size:14px'><b>{activity['reads']:,}</b> reads in "
                f"the {days} days to {end:%Y-%m-%d} · <b>{cameras.height}</b> cameras, "
                f"<b style='color:#c01c28'>{silent.height}</b> silent for more than {silent_hours:g} hours · "
                f"{summary.get('reads', 0):,} reads kept in all · {html.escape(_trend(activity['per_day']))}</div>")
    silent_table = frame_html(silent.sort("last_read", nulls_last=False), css_class="alpr-silent-cameras",
                              columns=("camera_id", "name", "kind", "last_read", "hours_silent"), zone=zone,
                              empty="No camera is silent: every camera reported within the threshold.")
    body = widgets.VBox([
        widgets.HTML(headline),
        widgets.HBox([panel("Activity", _plots(activity), "alpr-command-activity"),
                      panel("Camera map", _map(cameras), "alpr-command-map")]),
        panel(f"Silent cameras (no read for {silent_hours:g} hours before the newest read)", silent_table,
              "alpr-command-silent"),
        panel("Hotlist hits and verification", _hits_html(session, start, end), "alpr-command-hits"),
    ])
    body.add_class("alpr-command-view")
    return body


def build(session: Any, dash: Any) -> widgets.Widget:
    """The command overview with its filters (period, silent threshold); refused roles never get here."""
    period = widgets.Dropdown(options=list(PERIODS), value="last 30 days", description="Period")
    period.add_class("alpr-command-period")
    silent = widgets.Dropdown(options=list(SILENT_CHOICES), value="24 hours", description="Silent after")
    silent.add_class("alpr-command-silent-hours")
    holder = widgets.VBox([command_view(session, PERIODS[period.value], SILENT_CHOICES[silent.value])])

    def refresh(_change: Any = None) -> None:
        holder.children = [command_view(session, PERIODS[period.value], SILENT_CHOICES[silent.value])]

    guarded = dash.guard(refresh)
    period.observe(lambda change: guarded(), names="value")
    silent.observe(lambda change: guarded(), names="value")
    return widgets.VBox([widgets.HBox([period, silent]), holder])
