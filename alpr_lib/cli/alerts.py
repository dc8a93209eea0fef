"""``alpr alerts``: list, verify, reject and dispose hotlist alerts (policy 462.3(f))."""

from __future__ import annotations

import json

import click

from alpr_lib.cli._common import TableView, print_frame, session_from, store_option, user_option
from alpr_lib.hotlists import DISPOSITIONS, REJECT_REASONS, STATUSES

_COLUMNS = ("alert_id", "priority", "category", "plate", "entry_plate", "match_kind", "differing", "state_flag",
            "stale", "camera_id", "captured_at", "reads", "status")


@click.group()
def alerts() -> None:
    """Hotlist alerts: verify through CLETS before any enforcement action (policy 462.3(f))."""


@alerts.command("list")
@store_option
@user_option
@click.option("--status", type=click.Choice(STATUSES), help="Only new, verified or rejected alerts.")
@click.option("--limit", type=click.IntRange(1, 1000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for scripts).")
def list_alerts(store: str, username: str, status: str | None, limit: int, as_json: bool) -> None:
    """Alerts from the sources granted to you, most urgent first."""
    frame = session_from(store, username).alerts.list(status=status, limit=limit)
    if as_json:
        for row in frame.iter_rows(named=True):
            click.echo(json.dumps(row, default=str))
        return
    print_frame(frame, view=TableView(empty="no alerts", noun=("alert", "alerts"), columns=_COLUMNS,
                                      wrap=("differing",)))


def _show(row: dict) -> None:
    click.echo(f"{row['alert_id']}: {row['status']}"
               + (f", disposition {row['disposition']}" if row.get("disposition") else ""))


@alerts.command("verify")
@store_option
@user_option
@click.argument("alert_id")
@click.option("--clets-ref", required=True, help="The CLETS confirmation reference.")
@click.option("--vehicle-matches/--vehicle-not-checked", default=None,
              help="Whether the vehicle matches the entry's description.")
@click.option("--vehicle-description", help="What the vehicle looks like (make, model, colour).")
@click.option("--note")
def verify(store: str, username: str, alert_id: str, clets_ref: str, vehicle_matches: bool | None,
           vehicle_description: str | None, note: str | None) -> None:
    """Record that ALERT_ID was confirmed through CLETS."""
    _show(session_from(store, username).alerts.verify(alert_id, clets_ref, vehicle_matches=vehicle_matches,
                                                      vehicle_description=vehicle_description, note=note))


@alerts.command("reject")
@store_option
@user_option
@click.argument("alert_id")
@click.option("--reason", required=True, type=click.Choice(REJECT_REASONS))
@click.option("--note", help="What was wrong (required with --reason other).")
def reject(store: str, username: str, alert_id: str, reason: str, note: str | None) -> None:
    """Record that ALERT_ID was a false hit, and why."""
    _show(session_from(store, username).alerts.reject(alert_id, reason, note=note))


@alerts.command("dispose")
@store_option
@user_option
@click.argument("alert_id")
@click.option("--disposition", required=True, type=click.Choice(DISPOSITIONS))
@click.option("--note")
def dispose(store: str, username: str, alert_id: str, disposition: str, note: str | None) -> None:
    """Record what was done about a verified ALERT_ID (refused before verification)."""
    _show(session_from(store, username).alerts.dispose(alert_id, disposition, note=note))


@alerts.command("figures")
@store_option
@user_option
@click.option("--start")
@click.option("--end")
def figures(store: str, username: str, start: str | None, end: str | None) -> None:
    """Hits, verification rate, false-hit rate by reason, time to verify (JSON)."""
    click.echo(json.dumps(session_from(store, username).alerts.figures(start, end), indent=2))
