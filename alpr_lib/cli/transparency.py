"""``alpr transparency``: the public, plate-free transparency page (policy 462.2.1(g))."""

from __future__ import annotations

from pathlib import Path

import click

from alpr_lib.cli._common import session_from, store_option, user_option


@click.command()
@store_option
@user_option
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help="The page, self-contained HTML fit to post (no plate appears in it).")
@click.option("--start", help="From this date in the department's zone (default: a year before --end).")
@click.option("--end", help="Up to this date (inclusive; default: now).")
@click.option("--policy", "policy", type=click.Path(exists=True, dir_okay=False),
              help="A text file of the department's ALPR policy, printed at the end of the page.")
def transparency(store: str, username: str, out: str, start: str | None, end: str | None,
                 policy: str | None) -> None:
    """Write the transparency page: cameras, reads kept, accesses by purpose, hotlist hits and verification,
    release requests, the retention period, all counted from the records and the audit log."""
    from alpr_lib.reports.transparency import write_transparency

    text = Path(policy).read_text(encoding="utf-8") if policy else None
    collected = write_transparency(session_from(store, username), out, start=start, end=end, policy_text=text)
    click.echo(f"wrote the transparency page to {out}: {collected['store']['data_accesses']:,} data accesses, "
               f"{collected['store']['cameras']} cameras", err=True)
