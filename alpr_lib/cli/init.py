"""``alpr init``: create a store and its first administrator."""

from __future__ import annotations

import os

import click

from alpr_lib.bootstrap import init_store
from alpr_lib.cli._common import records_url_option, settings_option
from alpr_lib.login import read_password_file


@click.command()
@click.option("--store", envvar="ALPR_STORE", required=True, type=click.Path(file_okay=False),
              help="New store directory (or set ALPR_STORE).")
@click.option("--kind", type=click.Choice(["operational", "training"]), default="operational", show_default=True,
              help="A training store is for trainees before certification; its reads never mix with "
                   "operational ones.")
@click.option("--admin", "admin_username", required=True, help="Username of the first administrator.")
@click.option("--full-name", required=True, help="The administrator's full name.")
@click.option("--title", required=True, help="Job title or designation (policy 462.2.1(a)).")
@click.option("--organisation", default="Milpitas Police Department", show_default=True)
@click.option("--name", help="A display name for the store.")
@records_url_option
@settings_option
def init(store: str, kind: str, admin_username: str, full_name: str, title: str, organisation: str,
         name: str | None, records_url: str | None, settings: dict[str, str]) -> None:
    """Create an empty store with its first administrator (password prompted for, or ALPR_PASSWORD_FILE)."""
    if os.environ.get("ALPR_PASSWORD_FILE"):
        password = read_password_file(os.environ["ALPR_PASSWORD_FILE"])
    else:
        password = click.prompt("Administrator password", hide_input=True, confirmation_prompt=True)
    created = init_store(store, admin_username=admin_username, admin_password=password, full_name=full_name,
                         title=title, organisation=organisation, kind=kind, name=name, records_url=records_url,
                         settings=settings)
    click.echo(f"created {created.banner()} at {created.path}")
    click.echo(f"audit key: {created.audit_key.path} (from {created.locations.source}; back it up, and keep a "
               "copy of `alpr audit anchor` with the Custodian of Records)")
    click.echo(f"administrator {admin_username!r} must change the password at first login")
