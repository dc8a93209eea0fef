"""``alpr watch``: ingest what patrol units and fixed sites drop into a folder (policy 462.4)."""

from __future__ import annotations

import sys

import click

from alpr_lib.cli._common import session_from, store_option, user_option
from alpr_lib.watch import describe, watch_folder


@click.command()
@store_option
@user_option
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--once", is_flag=True, help="Process every complete file present, then exit (cron, tests).")
@click.option("--poll", "poll_s", type=click.FloatRange(0.05, 60), default=0.5, show_default=True,
              help="Seconds between looks at the folder.")
@click.option("--camera", "camera_id", help="Camera id of dropped plate images (batches carry their own).")
@click.option("--lat", type=click.FloatRange(-90, 90), help="Default latitude of dropped images.")
@click.option("--lon", type=click.FloatRange(-180, 180), help="Default longitude of dropped images.")
def watch(store: str, username: str, folder: str, once: bool, poll_s: float, camera_id: str | None,
          lat: float | None, lon: float | None) -> None:
    """Ingest read batches (.csv, .jsonl, .parquet) and plate images dropped into FOLDER, each exactly once,
    matching them against the hotlists; processed files go to FOLDER/done/, unreadable ones to
    FOLDER/quarantine/ with a reason file. Writers drop files by rename (write NAME.part, then rename it).

    With --once: exit status 0 when everything was ingested, 3 when some files or rows were quarantined or
    refused."""
    session = session_from(store, username)
    try:
        report = watch_folder(
            session, folder, once=once, poll_s=poll_s, camera_id=camera_id, lat=lat, lon=lon,
            on_file=lambda outcome: click.echo(describe(outcome), err=outcome.status == "quarantined"))
    except KeyboardInterrupt:  # a watcher stopped by Ctrl-C has finished each file it started
        return
    if once:
        click.echo(f"{len(report.files)} file(s) processed")
        sys.exit(report.exit_status)
