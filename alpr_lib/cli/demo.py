"""``alpr demo``: build a store full of synthetic Milpitas data, with demo users, through the real API."""

from __future__ import annotations

import json
from pathlib import Path

import click

from alpr_lib.cli._common import records_url_option, settings_option
from alpr_lib.demo import build_demo_store
from alpr_lib.private_files import write_private_atomic


@click.command()
@click.option("--store", envvar="ALPR_STORE", required=True, type=click.Path(file_okay=False),
              help="New store directory (or set ALPR_STORE).")
@click.option("--reads", "n_reads", type=click.IntRange(min=1000), default=300_000, show_default=True,
              help="Number of background reads over one year (scales to 100 million).")
@click.option("--seed", type=int, default=462, show_default=True, help="Generator seed (same seed, same data).")
@click.option("--kind", type=click.Choice(["operational", "training"]), default="operational", show_default=True)
@click.option("--credentials-json", type=click.Path(dir_okay=False),
              help="Also write the demo users' passwords as {\"username\": \"password\"} (mode 0600).")
@records_url_option
@settings_option
def demo(store: str, n_reads: int, seed: int, kind: str, credentials_json: str | None,
         records_url: str | None, settings: dict[str, str]) -> None:
    """Create a demo store (synthetic reads around Milpitas, CA) and print its users' passwords."""
    result = build_demo_store(store, n_reads=n_reads, seed=seed, kind=kind, progress=True, records_url=records_url,
                              settings=settings)
    click.echo(f"\n{result.banner}: {result.reads_ingested} reads ingested at {Path(store).resolve()}")
    click.echo("demo users (synthetic store: passwords need no change):")
    for user in result.users:
        click.echo(f"  {user.username:<11} {user.password:<20} {', '.join(user.roles):<14} "
                   f"{'' if user.certified else '(NOT certified: refused access to reads)'}")
    if credentials_json:
        path = Path(credentials_json)
        write_private_atomic(path, json.dumps({u.username: u.password for u in result.users}, indent=2),
                             make_dirs=False)
        click.echo(f"credentials written to {path}")
