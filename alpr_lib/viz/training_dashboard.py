"""The trainer dashboard (policy 462.8): every member's training progress, scores, certificate status and
expiry, who is due for refresher training, and a sign-off for trainees who passed every module.

Everything shown is an audited action: ``training.roster`` first (a role without ``training.roster`` is
refused there, before anything is drawn), ``training.sign_off`` on the button. The sign-off controls are
drawn for the trainer role only (permission ``training.sign_off``); the door refuses, and audits, a sign-off
by anyone else whatever the page shows.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import polars as pl

from alpr_lib.viz.panels import frame_html, panel

__all__ = ["ROSTER_COLUMNS", "build", "roster_for_people"]

ROSTER_COLUMNS = ("username", "full_name", "progress", "score", "certificate", "course_version", "expires",
                  "refresher_due", "ready_for_sign_off")
_STATUS = {"current": "current", "refresher_due": "current, refresher due", "expired": "expired",
           "revoked": "revoked", "none": "none"}


def roster_for_people(frame: pl.DataFrame) -> pl.DataFrame:
    """The roster as people read it: progress as a percentage, dates without times, the status in words."""
    return frame.with_columns(
        (pl.col("progress") * 100).round(0).cast(pl.Int64).cast(pl.String).add("%").alias("progress"),
        pl.col("score").round(0).cast(pl.Int64).cast(pl.String).add("%").alias("score"),
        pl.col("certificate_status").replace_strict(_STATUS, default=pl.col("certificate_status"))
        .alias("certificate"),
        pl.col("expires_at").dt.strftime("%Y-%m-%d").alias("expires"),
        pl.col("refresher_due").dt.strftime("%Y-%m-%d").alias("refresher_due"))


def _ready(frame: pl.DataFrame) -> list[tuple[str, str]]:
    rows = frame.filter(pl.col("ready_for_sign_off")).select("username", "full_name").iter_rows()
    return [(f"{name} — {full}", name) for name, full in rows]


def build(session: Any, dash: Any) -> widgets.Widget:
    """The roster, who is due for refresher training, and (trainers only) the sign-off."""
    first = session.training.roster()  # the gate: training.roster, audited
    state = {"frame": first}
    summary = widgets.HTML()
    summary.add_class("alpr-training-summary")
    table = widgets.HTML()
    table.add_class("alpr-training-roster")
    due = widgets.HTML()
    due.add_class("alpr-training-refresher")
    signer = "training.sign_off" in session.user.permissions
    pick = widgets.Dropdown(options=[], description="Trainee", layout=widgets.Layout(width="360px"))
    pick.add_class("alpr-training-trainee")
    button = widgets.Button(description="Sign off", button_style="primary", icon="check")
    button.add_class("alpr-training-signoff")

    def render() -> None:
        frame = state["frame"]
        people = roster_for_people(frame)
        counts = frame.group_by("certificate_status").len().sort("certificate_status").iter_rows()
        summary.value = ("<p style='margin:4px 0'>" + html.escape(
            f"{frame.height} members; " + ", ".join(f"{n} {_STATUS.get(s, s)}" for s, n in counts)) + "</p>")
        table.value = frame_html(people, columns=ROSTER_COLUMNS, css_class="alpr-training-roster-table",
                                 highlight=lambda r: r["certificate"] in ("expired", "revoked", "none"),
                                 empty="No members yet.")
        refresher = people.filter(pl.col("certificate_status").is_in(["refresher_due", "expired"]))
        due.value = frame_html(refresher, columns=("username", "full_name", "certificate", "expires"),
                               css_class="alpr-training-refresher-table", empty="Nobody is due for refresher training.")
        ready = _ready(frame)
        pick.options = ready
        button.disabled = not ready

    def refresh() -> None:
        state["frame"] = session.training.roster()
        render()

    def sign_off(_button: Any) -> None:
        if not pick.value:
            dash.error("No trainee has passed every module yet.")
            return
        name = pick.value
        cert = session.training.sign_off(name)
        dash.message(f"Certificate {cert} issued to {name}: ALPR data access is open to them now.")
        refresh()

    button.on_click(dash.guard(sign_off))
    render()
    parts: list[widgets.Widget] = [summary, panel("Roster", table, "alpr-training-roster-panel"),
                                   panel("Due for refresher training", due, "alpr-training-refresher-panel")]
    if signer:
        note = widgets.HTML("<p style='margin:2px 0;color:#444'>Trainees who passed every module of the current "
                            "course; signing off issues their certificate.</p>")
        controls = widgets.VBox([note, widgets.HBox([pick, button])])
        parts.append(panel("Sign off", controls, "alpr-training-signoff-panel"))
    dash.every(30, refresh)
    return widgets.VBox(parts)
