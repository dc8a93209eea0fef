"""``alpr holds``: legal holds (policy 462.4): add, list, release."""

from __future__ import annotations

import click

from alpr_lib.cli._common import TableView, note_option, print_frame, session_from, store_option, user_option

_purpose = click.option("--purpose", required=True,
                        help="Authorised purpose, e.g. 'criminal investigation' (as for `alpr search`).")


@click.group()
def holds() -> None:
    """Legal holds: reads kept past retention because they are or will be evidence (462.4)."""


@holds.command("add")
@store_option
@user_option
@click.option("--case", "case_number", required=True, help="Case number, NN-NNNNNN.")
@click.option("--reason", required=True, help="Why the reads are held.")
@click.option("--plate", help="Hold the reads of this full plate (later reads of it in the window too).")
@click.option("--start", help="With --plate: start date/time in the department's zone.")
@click.option("--end", help="With --plate: end date (inclusive) or time.")
@click.option("--read-id", "read_ids", multiple=True, help="Hold this read (repeatable).")
@_purpose
@note_option
def add(store: str, username: str, case_number: str, reason: str, plate: str | None, start: str | None,
        end: str | None, read_ids: tuple[str, ...], purpose: str, note: str | None) -> None:
    """Place a hold; prints the new hold's id alone on the last line."""
    hold = session_from(store, username).holds.add(
        reason, case_number=case_number, purpose=purpose, plate=plate, start=start, end=end,
        read_ids=list(read_ids) or None, note=note)
    click.echo(f"hold placed for case {hold['case_number']}: {hold['reads']} reads held")
    click.echo(hold["hold_id"])


@holds.command("list")
@store_option
@user_option
@click.option("--active", is_flag=True, help="Only holds not released.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write every hold to .csv/.parquet/.json.")
def list_(store: str, username: str, active: bool, output: str | None) -> None:
    """Every hold: case, status, reason, what it holds, who placed and released it."""
    frame = session_from(store, username).holds.list(active_only=active)
    print_frame(frame, output, TableView(empty="no legal holds", noun=("hold", "holds"),
                                         columns=("hold_id", "case_number", "status", "plate", "reads", "reason",
                                                  "created_by", "created_at", "released_by"),
                                         wrap=("reason",)))


@holds.command("release")
@store_option
@user_option
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why the hold ends (e.g. case closed).")
def release(store: str, username: str, hold_id: str, reason: str) -> None:
    """Release a hold (supervisor or Custodian of Records)."""
    done = session_from(store, username).holds.release(hold_id, reason)
    click.echo(f"hold {done['hold_id']} released (case {done['case_number']})")
