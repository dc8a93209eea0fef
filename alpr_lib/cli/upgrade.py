"""``alpr upgrade``: bring a store written by an older release up to date (the one heavy step opening refuses)."""

from __future__ import annotations

import sys

import click

from alpr_lib.cli._common import store_option
from alpr_lib.stores import upgrade_store


@click.command()
@store_option
def upgrade(store: str) -> None:
    """Rebuild the plate index of a store written by an older release (minutes for a large store).

    Run it as the account that owns the store's files, with no ingest running; it is recorded in the audit log."""
    rebuilt = upgrade_store(store, progress=sys.stderr.isatty())
    click.echo("store upgraded: plate index rebuilt" if rebuilt else "store is up to date; nothing to do")
