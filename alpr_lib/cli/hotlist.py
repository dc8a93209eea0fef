"""``alpr hotlist``: import, list and show hotlists; grant sources (policy 462.2, 462.3(c),(e))."""

from __future__ import annotations

import sys

import click

from alpr_lib.cli._common import TableView, print_frame, session_from, store_option, user_option
from alpr_lib.hotlists import SOURCES
from alpr_lib.private_files import atomic_private_path


@click.group()
def hotlist() -> None:
    """Hotlists: import and refresh, list, show; who may see which source."""


@hotlist.command("import")
@store_option
@user_option
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="The list's name, e.g. 'CA stolen vehicles'.")
@click.option("--source", required=True, type=click.Choice(SOURCES), help="Where the list comes from (462.3(e)).")
@click.option("--owner", help="The user who answers for the list (default: you).")
@click.option("--refresh-days", type=click.IntRange(1, 3650),
              help="Days the list stays current before its hits are marked stale (default: the department's).")
@click.option("--report", "report_file", type=click.Path(dir_okay=False),
              help="Write the refused rows (row, column, value, reason) to this CSV.")
def import_list(store: str, username: str, file: str, name: str, source: str, owner: str | None,
                refresh_days: int | None, report_file: str | None) -> None:
    """Import (or refresh) a hotlist from FILE.csv. Header plate,state,category,entered_at,expires_at,notes
    (see docs/hotlists.md for the other layouts). Exit status 3 when some rows were refused."""
    report = session_from(store, username).hotlists.import_list(file, name, source, owner=owner,
                                                                refresh_days=refresh_days)
    click.echo(report.summary())
    for row in report.report.head(20).iter_rows(named=True):
        click.echo(f"  row {row['row']}: {row['column']} = {row['value']!r}: {row['reason']}", err=True)
    if report.report.height > 20:
        click.echo(f"  ... {report.report.height - 20} more problems (--report FILE writes them all)", err=True)
    if report_file:
        with atomic_private_path(report_file, make_dirs=False) as tmp:  # lists plates: 0600
            report.report.write_csv(tmp)
        click.echo(f"refused rows written to {report_file}", err=True)
    if report.rejected:
        sys.exit(3)


@hotlist.command("list")
@store_option
@user_option
def list_lists(store: str, username: str) -> None:
    """The hotlists of the sources granted to you; a stale list has not been refreshed in its period."""
    frame = session_from(store, username).hotlists.lists()
    print_frame(frame, view=TableView(empty="no hotlists you may see", noun=("list", "lists"),
                                      columns=("name", "source", "owner", "entries", "refreshed_at", "refresh_days",
                                               "stale")))


@hotlist.command("show")
@store_option
@user_option
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=0), default=200, show_default=True,
              help="Show at most this many entries (0: all).")
def show(store: str, username: str, name: str, limit: int) -> None:
    """One hotlist: its owner, refresh date, staleness and entries."""
    found = session_from(store, username).hotlists.show(name, limit=limit or None)
    info = found["list"]
    click.echo(f"{info['name']}: {info['source']} list owned by {info['owner']}, {info['entries']} entries, "
               f"refreshed {info['refreshed_at']} (every {info['refresh_days']} days)"
               + ("; STALE: not refreshed in its period, hits are marked stale" if info["stale"] else ""))
    print_frame(found["entries"], view=TableView(empty="no entries", noun=("entry", "entries"),
                                                 columns=("plate", "state", "category", "entered_at", "expires_at",
                                                          "active", "notes"), wrap=("notes",)))


@hotlist.command("grant")
@store_option
@user_option
@click.argument("target_user")
@click.argument("sources", nargs=-1, required=True, type=click.Choice(SOURCES))
@click.option("--revoke", is_flag=True, help="Take the sources away instead.")
def grant(store: str, username: str, target_user: str, sources: tuple[str, ...], revoke: bool) -> None:
    """Grant TARGET_USER the hotlist SOURCES they may see (462.3(e)), or --revoke them."""
    session = session_from(store, username)
    held = (session.hotlists.revoke if revoke else session.hotlists.grant)(target_user, list(sources))
    click.echo(f"{target_user} now holds: {', '.join(held) or 'no source'}")
