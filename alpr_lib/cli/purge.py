"""``alpr purge`` and ``alpr retention``: the retention purge (policy 462.4) and what it would do."""

from __future__ import annotations

import json

import click

from alpr_lib.cli._common import TableView, print_frame, session_from, store_option, user_option


@click.command()
@store_option
@user_option
@click.option("--dry-run", is_flag=True, help="Count what would be purged (per day, held reads too); change nothing.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def purge(store: str, username: str, dry_run: bool, no_progress: bool) -> None:
    """Remove every read past the retention period and under no legal hold from every copy of the read data
    (administrator or Custodian of Records), and write the purge certificate."""
    report = session_from(store, username).retention.purge(dry_run=dry_run, progress=not no_progress)
    click.echo(report.summary())
    if report.days:
        print_frame(report.certificate(), view=TableView(noun=("day", "days"), title="in the certificate"))
    if not dry_run:
        click.echo(f"purge certificate {report.purge_id}: audit record {report.audit_seq} "
                   f"(hash {report.audit_hash})")


@click.group()
def retention() -> None:
    """Retention status, purge certificates and the age of the reads searches returned (462.4)."""


@retention.command("status")
@store_option
@user_option
def status(store: str, username: str) -> None:
    """The retention period, the oldest read, reads due for purge, the last purge."""
    click.echo(json.dumps(session_from(store, username).retention.status(), indent=2))


@retention.command("certificates")
@store_option
@user_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write every line to .csv/.parquet/.json.")
def certificates(store: str, username: str, output: str | None) -> None:
    """Every purge certificate line: per purge and day, reads deleted and held, operator, audit head."""
    frame = session_from(store, username).retention.certificates()
    print_frame(frame, output, TableView(empty="no purge has run yet", noun=("line", "lines")))


@retention.command("ages")
@store_option
@user_option
def ages(store: str, username: str) -> None:
    """How old the reads that searches returned were, by purpose (report 2019-118)."""
    frame = session_from(store, username).retention.age_statistics()
    print_frame(frame, view=TableView(empty="no search has returned reads yet", noun=("purpose", "purposes")))
