"""``alpr ingest``: add reads from CSV or Parquet files (policy 462.4)."""

from __future__ import annotations

import sys

import click

from alpr_lib.cli._common import session_from, store_option, user_option
from alpr_lib.private_files import atomic_private_path


@click.command()
@store_option
@user_option
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--rejects", type=click.Path(dir_okay=False),
              help="Write the rejected rows report (row, column, value, reason) to this CSV.")
def ingest(store: str, username: str, files: tuple[str, ...], rejects: str | None) -> None:
    """Validate and ingest read files atomically. Exit status 3 when some rows were rejected."""
    session = session_from(store, username)
    any_rejected = False
    for path in files:
        report = session.ingest_reads(path)
        click.echo(report.summary())
        if report.rejected_rows:
            any_rejected = True
            for row in report.rejected.head(20).iter_rows(named=True):
                click.echo(f"  row {row['row']}: {row['column']} = {row['value']!r}: {row['reason']}", err=True)
            if len(report.rejected) > 20:
                click.echo(f"  ... {len(report.rejected) - 20} more problems", err=True)
            if rejects:
                with atomic_private_path(rejects, make_dirs=False) as tmp:  # lists plates: 0600
                    report.rejected.write_csv(tmp)
                click.echo(f"rejected rows written to {rejects}", err=True)
    if any_rejected:
        sys.exit(3)


@click.command()
@store_option
@user_option
def compact(store: str, username: str) -> None:
    """Merge the small per-batch files of each day and plate bucket into one, and the plate dictionary's
    levels into one. Searches slow down as batches pile up; run this nightly (e.g. from cron) after ingest."""
    session = session_from(store, username)
    result = session.compact_store(progress=sys.stderr.isatty())
    click.echo(f"compacted: {result['files_merged']} file(s) merged into {result['files_written']}")
