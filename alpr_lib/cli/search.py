"""``alpr search`` and ``alpr history``: purpose-bound plate lookups from the terminal."""

from __future__ import annotations

import click

from alpr_lib.cli._common import print_frame, session_from, store_option, user_option

_purpose = click.option("--purpose", required=True,
                        help="Authorised purpose, e.g. 'criminal investigation', 'stolen or wanted vehicles'.")
_case = click.option("--case", "case_number", help="Case number (required for criminal investigation), NN-NNNNNN.")
_start = click.option("--start", help="Start date/time in the department's zone, e.g. 2026-06-01.")
_end = click.option("--end", help="End date (inclusive) or time, e.g. 2026-06-30.")
_output = click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write results to .csv/.parquet/.json.")


@click.command()
@store_option
@user_option
@click.argument("pattern")
@_purpose
@_case
@_start
@_end
@click.option("--region", multiple=True, help="State code filter (repeatable), e.g. CA.")
@click.option("--camera", "cameras", multiple=True, help="Camera id filter (repeatable).")
@click.option("--exact", is_flag=True, help="No OCR-confusion tolerance.")
@_output
def search(store: str, username: str, pattern: str, purpose: str, case_number: str | None, start: str | None,
           end: str | None, region: tuple[str, ...], cameras: tuple[str, ...], exact: bool,
           output: str | None) -> None:
    """Search reads by full or partial PATTERN: ? one character, * any run, [B8] a set."""
    hits = session_from(store, username).search_plates(
        pattern, purpose=purpose, case_number=case_number, start=start, end=end, region=list(region) or None,
        cameras=list(cameras) or None, exact=exact)
    print_frame(hits.drop("plate_raw", "captured_at", "heading", "image_ref"), output)


@click.command()
@store_option
@user_option
@click.argument("plate")
@_purpose
@_case
@_start
@_end
@_output
def history(store: str, username: str, plate: str, purpose: str, case_number: str | None, start: str | None,
            end: str | None, output: str | None) -> None:
    """Every read of one PLATE, newest first."""
    reads = session_from(store, username).plate_history(plate, purpose=purpose, case_number=case_number,
                                                        start=start, end=end)
    print_frame(reads, output)
