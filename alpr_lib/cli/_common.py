"""Shared CLI plumbing: the --store/--user options, logging in, and printing library errors plainly."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click
import polars as pl

from alpr_lib.errors import AlprError
from alpr_lib.login import login
from alpr_lib.session import Session

__all__ = ["AlprGroup", "print_frame", "records_url_option", "session_from", "store_option", "user_option"]

store_option = click.option("--store", envvar="ALPR_STORE", required=True, type=click.Path(file_okay=False),
                            help="Store directory (or set ALPR_STORE).")
records_url_option = click.option(
    "--records-url", envvar="ALPR_RECORDS_URL", default=None,
    help="Keep the records database (users, audit log, manifest...) in PostgreSQL, e.g. "
         "postgresql://alpr@127.0.0.1:5432/alpr (or set ALPR_RECORDS_URL); default: SQLite inside the store. "
         "Written to the store's store.toml.")
user_option = click.option("--user", "username", envvar="ALPR_USER", required=True,
                           help="Your username (or set ALPR_USER). The password is prompted for, or read from "
                                "the file named by ALPR_PASSWORD_FILE.")


class AlprGroup(click.Group):
    """A click group that turns library errors into one clear line and a non-zero exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AlprError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)


def session_from(store: str, username: str) -> Session:
    os.environ.setdefault("ALPR_CLIENT", "cli")
    return login(username=username, store=store, client="cli")


def print_frame(frame: pl.DataFrame, output: str | None = None) -> None:
    """Print a frame as a readable table, or write it to CSV/Parquet/JSON by the output's extension."""
    if output:
        writers: dict[str, Callable[[str], None]] = {
            ".csv": lambda p: frame.write_csv(p), ".parquet": lambda p: frame.write_parquet(p),
            ".json": lambda p: frame.write_json(p)}
        ext = os.path.splitext(output)[1].lower()
        if ext not in writers:
            raise click.BadParameter(f"output must end in {sorted(writers)}", param_hint="--output")
        writers[ext](output)
        click.echo(f"wrote {frame.height} rows to {output}")
        return
    with pl.Config(tbl_rows=50, tbl_cols=12, tbl_width_chars=160, fmt_str_lengths=40):
        click.echo(str(frame))
