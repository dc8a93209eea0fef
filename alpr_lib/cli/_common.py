"""Shared CLI plumbing: the --store/--user options, logging in, and printing library errors plainly."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import polars as pl

from alpr_lib.errors import AlprError
from alpr_lib.login import login
from alpr_lib.private_files import UnsafeFileError, atomic_private_path
from alpr_lib.session import Session

__all__ = ["AlprGroup", "TableView", "limit_option", "note_option", "print_frame", "printable", "records_url_option",
           "render_table", "session_from", "settings_option", "store_option", "user_option", "wide_option"]

store_option = click.option("--store", envvar="ALPR_STORE", required=True, type=click.Path(file_okay=False),
                            help="Store directory (or set ALPR_STORE).")
records_url_option = click.option(
    "--records-url", envvar="ALPR_RECORDS_URL", default=None,
    help="Keep the records database (users, audit log, manifest...) in PostgreSQL, e.g. "
         "postgresql://alpr@127.0.0.1:5432/alpr (or set ALPR_RECORDS_URL); default: SQLite inside the store. "
         "Written to the store's store.toml.")


def _parse_settings(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r}: write NAME=VALUE, e.g. lockout_failures=5")
        out[name.strip()] = value
    return out


settings_option = click.option(
    "--setting", "settings", multiple=True, callback=_parse_settings, metavar="NAME=VALUE",
    help="A first department setting for the new store (repeatable), written to its records database and its "
         "store.init audit record; later changes are `s.admin.set_setting` (audited). See docs/security.md.")
note_option = click.option(
    "--note", default=None,
    help="What this access is for, in a few words (e.g. 'white sedan seen leaving the shooting'); kept in the "
         "audit record. Required for the purposes the department lists in the notes_required_for setting.")
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


limit_option = click.option(
    "--limit", type=click.IntRange(min=0), default=200, show_default=True,
    help="Show at most this many rows in the terminal (0: all); -o FILE always writes every row.")
wide_option = click.option("--wide", is_flag=True,
                           help="Every column, long text whole, one line per row (for wide terminals or grep).")

#: wrapped text longer than this many lines is cut (``--wide`` shows it whole)
_MAX_LINES = 3
_GAP = "  "


@dataclass(frozen=True)
class TableView:
    """How one kind of result reads in a terminal, for people rather than for code: what an empty result
    says, which columns matter by default (``--wide`` shows every column), which text may wrap, and which
    long fields go on their own indented lines under a row (so the row itself fits a terminal)."""

    #: said instead of an empty table, e.g. "no reads matched 7ABK123"
    empty: str = "nothing matched"
    #: what a row is, singular and plural, for the count line
    noun: tuple[str, str] = ("row", "rows")
    #: after the count, e.g. "matched 7AB?123, best matches first"
    title: str = ""
    #: the columns shown by default, in order (empty: every column)
    columns: tuple[str, ...] = ()
    #: header text for a column where its name is too long for a terminal
    headers: Mapping[str, str] = field(default_factory=dict)
    #: free-text columns that wrap to the terminal's width (cut after a few lines unless ``--wide``)
    wrap: tuple[str, ...] = ()
    #: long fields shown as "name: text" lines under their row (ordinary columns with ``--wide``)
    details: tuple[str, ...] = ()
    #: when the rows are capped, keep the last ones (a log: newest at the bottom), not the first (ranked hits)
    keep_last: bool = False


def _decimals(name: str) -> int:
    if "confidence" in name:
        return 1
    if name in ("lat", "lon", "latitude", "longitude"):
        return 5  # about a metre
    if name == "heading":
        return 0
    return 2


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(_scalar(v) for v in value)
    return str(value)


def printable(text: str) -> str:
    """``text`` with control and invisible format characters shown as escapes (``\\x1b``, ``\\u202e``).

    What a table prints came from people (a typed pattern in the audit log, a camera's text in a read): a raw
    escape sequence, carriage return or bidirectional override could repaint the terminal and hide or fake
    rows in front of an auditor."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == " " or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return "".join(out)


def _texts(series: pl.Series, zone: str | None) -> list[str]:
    """One column as people read it: local times to the second, rounded numbers, lists as text, no 'null'."""
    dtype = series.dtype
    if isinstance(dtype, pl.Datetime):
        moments = series
        if dtype.time_zone is not None and zone:
            moments = moments.dt.convert_time_zone(zone)
        # a zone not named in the header line is named in each cell
        fmt = "%Y-%m-%d %H:%M:%S" + (" %Z" if dtype.time_zone is not None and not zone else "")
        return [v or "" for v in moments.dt.strftime(fmt).to_list()]
    if dtype.is_float():
        places = _decimals(series.name)
        return ["" if v is None or v != v else f"{v:.{places}f}" for v in series.to_list()]
    return [_scalar(v) for v in series.to_list()]


def _fit(wants: Sequence[int], room: int, floor: int) -> list[int]:
    """Share ``room`` among wrapping columns: one that needs less than an equal share keeps its width, the
    others split what is left (never below ``floor``)."""
    widths = [0] * len(wants)
    order = sorted(range(len(wants)), key=lambda i: wants[i])
    left = room
    for k, i in enumerate(order):
        share = left // (len(order) - k)
        widths[i] = max(floor, min(wants[i], share))
        left -= widths[i]
    return widths


def _wrap(text: str, width: int, max_lines: int | None) -> tuple[list[str], bool]:
    """``text`` in lines of at most ``width``; cut with an ellipsis after ``max_lines`` (True when cut)."""
    lines = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]
    if max_lines is None or len(lines) <= max_lines:
        return lines, False
    kept = lines[:max_lines]
    kept[-1] = kept[-1][: max(width - 1, 1)].rstrip() + "…"
    return kept, True


def render_table(frame: pl.DataFrame, view: TableView, *, zone: str | None = None, wide: bool = False,
                 width: int | None = None) -> tuple[list[str], bool]:
    """The rows of ``frame`` as plain text lines for a terminal, and whether any text was cut.

    Plain aligned columns, one header line and a rule: no dtype row, no shape line, no box drawing that breaks
    in a pager or an e-mail. ``wide`` puts every column on one line per row and cuts nothing."""
    width = width or max(shutil.get_terminal_size((120, 24)).columns, 60)
    first = [c for c in view.columns if c in frame.columns] or [c for c in frame.columns if c not in view.details]
    details = [c for c in view.details if c in frame.columns]
    if wide:
        columns = first + [c for c in frame.columns if c not in first and c not in details] + details
        details = []
    else:
        columns = first
    texts = {c: [printable(v) for v in _texts(frame[c], zone)] for c in [*columns, *details]}
    headers = {c: printable(view.headers.get(c, c)) for c in [*columns, *details]}
    widths = {c: max([len(headers[c]), *(len(v) for v in texts[c])]) for c in columns}
    wrapping = [] if wide else [c for c in columns if c in view.wrap]
    if wrapping:
        fixed = sum(widths[c] for c in columns if c not in wrapping) + len(_GAP) * (len(columns) - 1)
        fitted = _fit([widths[c] for c in wrapping], width - fixed, floor=12)
        widths.update({c: min(widths[c], max(w, len(headers[c]))) for c, w in zip(wrapping, fitted, strict=True)})
    right = {c for c in columns if frame.schema[c].is_numeric()}

    def line(cells: Mapping[str, str]) -> str:
        return _GAP.join(cells[c].rjust(widths[c]) if c in right else cells[c].ljust(widths[c])
                         for c in columns).rstrip()

    out = [line(headers), line({c: "-" * widths[c] for c in columns})]
    cut = False
    indent = " " * (widths[columns[0]] + len(_GAP)) if columns else ""
    for i in range(frame.height):
        cells: dict[str, list[str]] = {}
        for c in columns:
            if c in wrapping:
                cells[c], was_cut = _wrap(texts[c][i], widths[c], _MAX_LINES)
                cut |= was_cut
            else:
                cells[c] = [texts[c][i]]
        for k in range(max(len(v) for v in cells.values())):
            out.append(line({c: v[k] if k < len(v) else "" for c, v in cells.items()}))
        for c in details:
            text = texts[c][i]
            if not text:
                continue
            label = f"{headers[c]}: "
            lines, was_cut = _wrap(text, max(width - len(indent) - len(label), 20), _MAX_LINES + 1)
            cut |= was_cut
            out.append(indent + label + lines[0])
            out.extend(indent + " " * len(label) + rest for rest in lines[1:])
    return out, cut


def print_frame(frame: pl.DataFrame, output: str | None = None, view: TableView | None = None, *,
                zone: str | None = None, limit: int | None = None, wide: bool = False) -> None:
    """Print a frame for a person to read, or write it to CSV/Parquet/JSON by the output's extension.

    On the terminal: an empty result is one sentence (exit status 0: finding nothing is an answer, not an
    error); times are shown in ``zone`` (the department's), named once in the count line; at most ``limit``
    rows, saying how many were left out. The file gets every row with its full types, for further work.

    The file lists plates (or audit records), so it is written 0600 whatever the umask, replacing any file
    of that name atomically; a symlink or a non-regular file (a FIFO, a device) is refused."""
    view = view or TableView()
    if output:
        writers: dict[str, Callable[[Path], None]] = {
            ".csv": lambda p: frame.write_csv(p), ".parquet": lambda p: frame.write_parquet(p),
            ".json": lambda p: frame.write_json(p)}
        ext = os.path.splitext(output)[1].lower()
        if ext not in writers:
            raise click.BadParameter(f"output must end in {sorted(writers)}", param_hint="--output")
        try:
            with atomic_private_path(output, make_dirs=False) as tmp:
                writers[ext](tmp)
        except UnsafeFileError:
            raise
        except OSError as exc:
            raise click.FileError(output, hint=exc.strerror or str(exc)) from None
        click.echo(f"wrote {frame.height} rows to {output}")
        return
    if frame.height == 0:
        click.echo(printable(view.empty))
        return
    total = frame.height
    shown = frame
    if limit and total > limit:
        shown = frame.tail(limit) if view.keep_last else frame.head(limit)
    noun = view.noun[0] if total == 1 else view.noun[1]
    count = " ".join(part for part in (f"{total:,}", noun, view.title) if part)
    has_times = any(isinstance(dtype, pl.Datetime) for dtype in frame.schema.values())
    click.echo(printable(count) + (f"; times in {zone}" if zone and has_times else ""))
    lines, cut = render_table(shown, view, zone=zone, wide=wide)
    click.echo("\n".join(lines))
    if shown.height < total:
        which = "newest" if view.keep_last else "first"
        click.echo(f"showing the {which} {shown.height:,} of {total:,} {view.noun[1]}; --limit 0 shows all, "
                   "-o FILE writes all")
    if cut:
        click.echo("long text is cut (…); --wide shows it whole")
