"""The compliance dashboard (auditors, the administrator): users' training status and expiry, dormant accounts,
retention status and purge certificates, legal holds and the release register.

Each panel is an audited action: ``oversight.compliance`` first (a role without ``compliance.view`` is refused
there, before anything is drawn), then ``retention.status``/``retention.certificates``, ``holds.list``,
``releases.list``/``releases.figures`` where this installation has them and the user may see them; a panel
that is not available says why instead.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import polars as pl

from alpr_lib.viz.panels import frame_html, optional_call, panel, unavailable_html

__all__ = ["SHOW", "build", "value_html"]

SHOW = {"every account": "all", "only accounts needing action": "problems"}
_USER_COLUMNS = ("username", "full_name", "roles", "enabled", "training", "certified_until", "days_to_expiry",
                 "last_login", "dormant")


def value_html(value: Any, *, css_class: str, zone: str | None, empty: str = "none") -> str:
    """Whatever an area returns (a frame, rows, a mapping of figures) as HTML."""
    if value is None:
        return f"<p class='{css_class}'>{html.escape(empty)}</p>"
    if hasattr(value, "to_dict") and not isinstance(value, pl.DataFrame) and hasattr(value, "columns"):
        value = pl.from_pandas(value.drop(columns=[c for c in ("geometry",) if c in value.columns]))
    if isinstance(value, pl.DataFrame):
        return frame_html(value, css_class=css_class, zone=zone, empty=empty)
    if isinstance(value, list | tuple):
        rows = [v if isinstance(v, Mapping) else getattr(v, "__dict__", {"value": v}) for v in value]
        if not rows:
            return f"<p class='{css_class}'>{html.escape(empty)}</p>"
        return frame_html(pl.DataFrame([{k: str(x) if isinstance(x, dict | list) else x for k, x in r.items()}
                                        for r in rows], infer_schema_length=None), css_class=css_class, zone=zone,
                          empty=empty)
    if isinstance(value, Mapping):
        cells = "".join(f"<tr><td style='padding:1px 10px 1px 0;color:#444'>{html.escape(str(k).replace('_', ' '))}"
                        f"</td><td>{html.escape(str(v))}</td></tr>" for k, v in value.items()
                        if not isinstance(v, Mapping | list))
        return f"<table class='{css_class}' style='font-size:12px'>{cells}</table>"
    return f"<p class='{css_class}'>{html.escape(str(value))}</p>"


def _optional_panel(session: Any, title: str, namespace: str, method: str, css: str, zone: str,
                    empty: str) -> widgets.Widget:
    value, why = optional_call(session, namespace, method)
    body = unavailable_html(why) if why else value_html(value, css_class=f"{css}-table", zone=zone, empty=empty)
    return panel(title, body, css)


def build(session: Any, dash: Any) -> widgets.Widget:
    """The compliance view with its filter (every account / only those needing action)."""
    accounts: pl.DataFrame = session.oversight.compliance()  # the gate: compliance.view, audited
    zone = session.store_info.department()["timezone"]
    show = widgets.ToggleButtons(options=list(SHOW), value="every account",
                                 style={"button_width": "auto"})
    show.add_class("alpr-compliance-filter")
    users = widgets.HTML()
    users.add_class("alpr-compliance-users")
    summary = widgets.HTML()
    summary.add_class("alpr-compliance-summary")

    def problems(row: Mapping[str, Any]) -> bool:
        """Enabled, and dormant, or a member (service accounts take no training) without training for 30 days."""
        untrained = row["member_type"] != "service" and (
            row["training"] != "current" or (row["days_to_expiry"] is not None and row["days_to_expiry"] < 30))
        return bool(row["enabled"] and (row["dormant"] or untrained))

    def render() -> None:
        frame = accounts
        if SHOW[show.value] == "problems":
            frame = frame.filter(pl.Series([problems(r) for r in frame.iter_rows(named=True)], dtype=pl.Boolean))
        users.value = frame_html(frame, columns=_USER_COLUMNS, zone=zone, css_class="alpr-compliance-user-table",
                                 highlight=problems, empty="No account needs action.")

    dormant = accounts.filter("dormant").height
    untrained = accounts.filter(pl.col("enabled") & (pl.col("training") != "current")
                                & (pl.col("member_type") != "service")).height
    summary.value = (f"<div style='font-size:14px'><b>{accounts.height}</b> accounts · <b style='color:#c01c28'>"
                     f"{dormant}</b> dormant with access · <b>{untrained}</b> enabled without current training</div>")
    render()
    show.observe(lambda _c: dash.guard(render)(), names="value")
    view = widgets.VBox([
        summary,
        panel("Users: training and activity (462.3(d), 462.5(c))", widgets.VBox([show, users]),
              "alpr-compliance-training"),
        _optional_panel(session, "Retention status (462.4)", "retention", "status", "alpr-compliance-retention",
                        zone, "no retention status"),
        _optional_panel(session, "Purge certificates", "retention", "certificates", "alpr-compliance-certificates",
                        zone, "no purge has run yet"),
        _optional_panel(session, "Legal holds", "holds", "list", "alpr-compliance-holds", zone, "no legal holds"),
        _optional_panel(session, "Release register (462.7)", "releases", "list", "alpr-compliance-releases", zone,
                        "no release requests"),
        _optional_panel(session, "Release figures", "releases", "figures", "alpr-compliance-release-figures", zone,
                        "no release figures"),
    ])
    view.add_class("alpr-compliance-view")
    return view
