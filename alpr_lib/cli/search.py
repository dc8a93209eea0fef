"""``alpr search`` and ``alpr history``: purpose-bound plate lookups from the terminal."""

from __future__ import annotations

import click
import polars as pl

from alpr_lib.cli._common import (
    TableView,
    limit_option,
    note_option,
    print_frame,
    session_from,
    store_option,
    user_option,
    wide_option,
)

_purpose = click.option("--purpose", required=True,
                        help="Authorised purpose, e.g. 'criminal investigation', 'stolen or wanted vehicles'.")
_case = click.option("--case", "case_number", help="Case number (required for criminal investigation), NN-NNNNNN.")
_start = click.option("--start", help="Start date/time in the department's zone, e.g. 2026-06-01.")
_end = click.option("--end", help="End date (inclusive) or time, e.g. 2026-06-30.")
_output = click.option("--output", "-o", type=click.Path(dir_okay=False),
                       help="Write every result, with its full types, to .csv/.parquet/.json (mode 0600).")

#: what a search's file leaves out (a history's file keeps every column, as before)
_SEARCH_FILE_DROPS = ("plate_raw", "captured_at", "heading", "image_ref")
#: what an investigator reads first; --wide adds substitutions, plate_raw, unit, source, heading, image_ref
_COLUMNS = ("read_id", "plate", "match", "captured_local", "camera_id", "region", "plate_confidence", "lat", "lon",
            "hold")  # hold: the legal holds keeping the read (issue 13), empty for most
_HEADERS = {"captured_local": "captured", "camera_id": "camera", "plate_confidence": "confidence",
            "substitutions": "subs"}


def _zone_of(reads: pl.DataFrame) -> str | None:
    """The department's zone, read off the local-time column the library already converted (asking the
    store would be one more audited call for the same answer)."""
    dtype = reads.schema.get("captured_local")
    return dtype.time_zone if isinstance(dtype, pl.Datetime) else None


def _show(reads: pl.DataFrame, output: str | None, view: TableView, limit: int, wide: bool,
          file_drops: tuple[str, ...] = ()) -> None:
    """The file gets the library's columns and types; the terminal a table for people (UTC left out: the
    local time says the same)."""
    if output:
        print_frame(reads.drop([c for c in file_drops if c in reads.columns]), output)
        return
    print_frame(reads.drop([c for c in ("captured_at",) if c in reads.columns]), view=view, zone=_zone_of(reads),
                limit=limit, wide=wide)


@click.command()
@store_option
@user_option
@click.argument("pattern")
@_purpose
@_case
@note_option
@_start
@_end
@click.option("--region", multiple=True, help="State code filter (repeatable), e.g. CA.")
@click.option("--camera", "cameras", multiple=True, help="Camera id filter (repeatable).")
@click.option("--exact", is_flag=True, help="No OCR-confusion tolerance.")
@limit_option
@wide_option
@_output
def search(store: str, username: str, pattern: str, purpose: str, case_number: str | None, note: str | None,
           start: str | None, end: str | None, region: tuple[str, ...], cameras: tuple[str, ...], exact: bool,
           limit: int, wide: bool, output: str | None) -> None:
    """Search reads by full or partial PATTERN: ? one character, * any run, [B8] a set.

    Best matches first (exact characters, then look-alikes, then the most recent), times in the department's
    zone. Nothing found prints "no reads matched" and exits 0."""
    hits = session_from(store, username).search_plates(
        pattern, purpose=purpose, case_number=case_number, start=start, end=end, region=list(region) or None,
        cameras=list(cameras) or None, exact=exact, note=note)
    title = f"matched {pattern}" + (" (exact characters only)" if exact else "") + ", best matches first"
    _show(hits, output, TableView(empty=f"no reads matched {pattern}", noun=("read", "reads"), title=title,
                                  columns=_COLUMNS, headers=_HEADERS), limit, wide, _SEARCH_FILE_DROPS)


@click.command()
@store_option
@user_option
@click.argument("plate")
@_purpose
@_case
@note_option
@_start
@_end
@limit_option
@wide_option
@_output
def history(store: str, username: str, plate: str, purpose: str, case_number: str | None, note: str | None,
            start: str | None, end: str | None, limit: int, wide: bool, output: str | None) -> None:
    """Every read of one full PLATE, newest first (patterns with ?, * or [..] are for `alpr search`)."""
    reads = session_from(store, username).plate_history(plate, purpose=purpose, case_number=case_number,
                                                        start=start, end=end, note=note)
    shown = reads["plate"][0] if reads.height else plate  # as stored: 7abk-123 is 7ABK123
    _show(reads, output, TableView(empty=f"no reads matched {plate}", noun=("read", "reads"),
                                   title=f"of {shown}, newest first", columns=_COLUMNS, headers=_HEADERS),
          limit, wide)
