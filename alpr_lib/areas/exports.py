"""Case-file exports: a result (search, canvass, multi-scene, convoy, ...) as a CSV file and a printable HTML
summary for the case file (issue 11); the export is itself an audited action, its record naming the files,
the row count and the reads exported.

The CSV keeps every row with the library's columns (times in UTC as the frame holds them, lists as text); the
HTML is one self-contained page (inline styles with a print stylesheet, no script, no external reference)
saying who exported it, when (in the department's zone), under which purpose and case, the query the result
came from, the row count and the table as people read it (local times, rounded numbers, lists as text). Both
files hold plates, so they are written 0600, atomically, never through a symlink.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action, jsonable
from alpr_lib.access.door import Context
from alpr_lib.errors import ValidationError
from alpr_lib.private_files import UnsafeFileError, atomic_private

__all__ = ["CaseFileExport", "ExportCaseFile"]

#: read ids listed in the audit record; beyond this the record holds their count and a digest
MAX_READ_IDS_AUDITED = 200
#: columns (at the top level or inside a nested value) that hold read ids
_READ_ID_FIELDS = ("read_id", "read_ids", "target_read_id")
_SUFFIXES = (".csv", ".html", ".htm")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


@dataclass(frozen=True)
class CaseFileExport:
    """What ``exports.case_file`` wrote: the two files and the number of rows in each."""

    csv: Path
    html: Path
    rows: int


@dataclass(frozen=True)
class ExportPlan(Plan):
    """The frame to export (as polars) and the two files it goes to."""

    frame: pl.DataFrame
    csv: Path
    html: Path
    query: Any

    def audit_elements(self) -> dict[str, Any]:
        return {"files": [str(self.csv), str(self.html)]}


@action("exports.case_file", permission="reads.search", namespace="exports", method="case_file",
        needs_purpose=True, aliases=("export_case_file",), result="CaseFileExport")
class ExportCaseFile(Request):
    """Write a result (a polars frame, or a pandas/GeoPandas frame such as a canvass) for the case file:
    ``<stem>.csv`` (every row) and ``<stem>.html`` (a printable summary: who, when, purpose, case, query,
    count and the table). ``path`` is an existing folder (the stem is then made from ``title``) or the
    stem itself (``.csv``/``.html`` at its end is dropped). ``query`` describes what the result answers (text
    or a dict, e.g. the search's arguments); by default a canvass's own description is used. Returns the
    paths written."""

    frame: pl.DataFrame | pd.DataFrame
    path: str | os.PathLike
    _: KW_ONLY
    title: str = "ALPR case-file export"
    query: Any = None
    purpose: str | None = None
    case_number: str | None = None

    def describe(self) -> dict[str, Any]:
        frame = self.frame
        shape = f"{len(frame)} rows x {len(frame.columns)} columns" if isinstance(frame, pl.DataFrame | pd.DataFrame) \
            else type(frame).__name__
        return {"path": str(self.path)[:500], "title": self.title, "query": jsonable(self.query), "frame": shape}

    def plan(self, ctx: Context) -> ExportPlan:
        if not self.title.strip():
            raise ValidationError("give the export a title, e.g. title='Canvass, 1200 Main St burglary'")
        if self.query is not None and not isinstance(self.query, str | Mapping):
            raise ValidationError(f"query describes the result as text or a dict, not {type(self.query).__name__}")
        frame, derived = _polars_frame(self.frame)
        csv_path, html_path = _targets(self.path, self.title)
        return ExportPlan(frame, csv_path, html_path, self.query if self.query is not None else derived)

    def work(self, ctx: Context, plan: ExportPlan) -> Result:
        frame = plan.frame
        page = _html_page(ctx, self.title, plan.query, frame)
        try:
            with atomic_private(plan.csv, "w", encoding="utf-8", make_dirs=False) as handle:
                handle.write(_csv_frame(frame).write_csv())
            with atomic_private(plan.html, "w", encoding="utf-8", make_dirs=False) as handle:
                handle.write(page)
        except UnsafeFileError:
            raise
        except OSError as exc:  # the path the user gave: too long a name, no permission, a full disk
            raise ValidationError(f"cannot write the export to {str(plan.csv.parent)[:200]!r}: "
                                  f"{exc.strerror or exc}; give a writable folder or file stem") from None
        ids = _read_ids(frame)
        elements: dict[str, Any] = {"rows": frame.height, "read_ids_count": len(ids),
                                    "read_ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest()}
        if len(ids) <= MAX_READ_IDS_AUDITED:
            elements["read_ids"] = ids
        return Result(CaseFileExport(plan.csv, plan.html, frame.height), frame.height, elements)


# ---------------------------------------------------------------------------------------------- the plan
def _polars_frame(frame: pl.DataFrame | pd.DataFrame) -> tuple[pl.DataFrame, Any]:
    """The frame as polars (a GeoDataFrame's geometry as WKT unless lat/lon carry it), and the query a pandas
    frame describes in its ``attrs`` (a canvass's radius, window and scenes)."""
    derived: Any = None
    if isinstance(frame, pd.DataFrame):
        derived = jsonable(dict(frame.attrs)) or None
        pdf = frame
        geometry = getattr(frame, "_geometry_column_name", None)
        try:
            if geometry is not None and geometry in pdf.columns:
                if {"lat", "lon"} <= set(pdf.columns):
                    pdf = pdf.drop(columns=[geometry])
                else:
                    pdf = pd.DataFrame(pdf).assign(**{geometry: pdf[geometry].to_wkt(rounding_precision=5)})
            converted = pl.from_pandas(pd.DataFrame(pdf))
        except Exception as exc:  # mixed-type object columns and the like
            raise ValidationError(f"cannot export this frame: {str(exc)[:200]}; give a result frame as returned "
                                  "by a search or an analysis") from None
    else:
        converted = frame
    if len(set(converted.columns)) != len(converted.columns):
        raise ValidationError("the frame has duplicate column names; rename them before exporting")
    for name, dtype in converted.schema.items():
        if _has(dtype, pl.Object):
            raise ValidationError(f"column {name[:60]!r} holds Python objects; a case-file export holds text, "
                                  "numbers and times")
    if not derived:
        derived = {"columns": converted.columns[:50]}
    return converted, derived


def _has(dtype: pl.DataType, kind: type) -> bool:
    if isinstance(dtype, kind):
        return True
    if isinstance(dtype, pl.List | pl.Array):
        return _has(dtype.inner, kind)
    if isinstance(dtype, pl.Struct):
        return any(_has(f.dtype, kind) for f in dtype.fields)
    return False


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return slug or "case-file"


def _targets(path: str | os.PathLike, title: str) -> tuple[Path, Path]:
    """``<stem>.csv`` and ``<stem>.html``, or ValidationError saying what to give instead."""
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise ValidationError(f"give a folder or a file stem for the export, e.g. 'case-24-001234', not {text!r:.80}")
    try:
        given = Path(text)
        if given.is_dir():
            stem = given / _slug(title)
        else:
            stem = given.with_suffix("") if given.suffix.lower() in _SUFFIXES else given
            if not stem.name:
                raise ValidationError(f"{text[:200]!r} names no file; give a stem such as 'case-24-001234'")
            if not stem.parent.is_dir():
                raise ValidationError(f"the folder of {text[:200]!r} does not exist; create it first")
        targets = stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".html")
        for target in targets:
            if target.is_dir():
                raise ValidationError(f"{str(target)[:200]!r} is a directory; give another stem")
    except OSError as exc:  # e.g. a file name longer than the file system allows
        raise ValidationError(f"cannot use {text[:200]!r} for the export: {exc.strerror or exc}") from None
    return targets


# ---------------------------------------------------------------------------------------------- the files
def _cell_text(value: Any) -> str | None:
    """A nested value (a list, a struct) as one CSV cell: a list of plain values joined by '; ', else JSON."""
    if value is None:
        return None
    if isinstance(value, list) and all(not isinstance(v, list | dict) for v in value):
        return "; ".join("" if v is None else str(jsonable(v)) for v in value)
    return json.dumps(jsonable(value), ensure_ascii=False)


def _csv_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every row and column, in types CSV holds: nested values as text, durations in seconds, bytes as a size."""
    columns = []
    for name, dtype in frame.schema.items():
        column = frame.get_column(name)
        if dtype.is_nested():
            column = pl.Series(name, [_cell_text(v) for v in column.to_list()], dtype=pl.String)
        elif isinstance(dtype, pl.Duration):
            column = column.dt.total_seconds(fractional=True)
        elif isinstance(dtype, pl.Binary):
            column = pl.Series(name, [None if v is None else f"({len(v)} bytes)" for v in column.to_list()],
                               dtype=pl.String)
        columns.append(column)
    return pl.DataFrame(columns) if columns else pl.DataFrame()


def _read_ids(frame: pl.DataFrame) -> list[str]:
    """The distinct read ids the frame holds (in read_id, read_ids, target_read_id, also inside nested
    values such as a convoy's evidence), sorted."""
    found: set[str] = set()

    def walk(value: Any, named: bool) -> None:
        if isinstance(value, str):
            if named:
                found.add(value)
        elif isinstance(value, list):
            for item in value:
                walk(item, named)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, key in _READ_ID_FIELDS)

    for name, dtype in frame.schema.items():
        if name in _READ_ID_FIELDS or dtype.is_nested():
            walk(frame.get_column(name).to_list(), name in _READ_ID_FIELDS)
    return sorted(found)


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;font-size:13px;color:#111;
margin:24px}
h1{font-size:20px;margin:0 0 12px}
h2{font-size:15px;margin:18px 0 6px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:3px 14px;margin:0}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0}
pre.query{white-space:pre-wrap;background:#f5f5f5;border:1px solid #ddd;padding:6px 8px;margin:0}
table{border-collapse:collapse;font-size:12px}
th{text-align:left;border-bottom:2px solid #999;padding:3px 8px;white-space:nowrap}
td{border-bottom:1px solid #ddd;padding:2px 8px;vertical-align:top}
td.num{text-align:right}
tbody tr:nth-child(odd){background:#f7f7f7}
p.note{color:#555}
@media print{
body{margin:0;font-size:10pt}
table{font-size:8pt;width:100%}
thead{display:table-header-group}
tr{page-break-inside:avoid;break-inside:avoid}
tbody tr:nth-child(odd){background:none}
@page{size:landscape;margin:12mm}
}
"""


def _local(moment: datetime, ctx: Context) -> str:
    return moment.astimezone(ctx.config.zone).strftime(_TIME_FORMAT)


def _query_text(query: Any) -> str:
    if query is None:
        return "(not given)"
    if isinstance(query, str):
        return query
    return json.dumps(jsonable(query), indent=2, ensure_ascii=False, sort_keys=True)


def _html_page(ctx: Context, title: str, query: Any, frame: pl.DataFrame) -> str:
    from alpr_lib.viz.tables import readable_frame

    zone = ctx.config.timezone
    shown = frame.with_columns(
        pl.Series(name, [None if v is None else f"({len(v)} bytes)" for v in frame.get_column(name).to_list()],
                  dtype=pl.String) for name, dtype in frame.schema.items() if isinstance(dtype, pl.Binary))
    table = readable_frame(shown, zone=zone) if shown.width else pl.DataFrame()
    numeric = {c for c, t in table.schema.items() if t.is_numeric()}
    esc = html.escape
    user = ctx.user
    meta = [("Exported by", f"{user.full_name}, {user.title}, {user.organisation} ({user.username})"),
            ("Exported at", f"{_local(ctx.now, ctx)} ({zone})"),
            ("Purpose", ctx.purpose or "(none)"),
            ("Case number", ctx.case_number or "(none given)"),
            ("Rows", f"{frame.height:,}")]
    head = "".join(f"<th>{esc(str(c))}</th>" for c in table.columns)
    rows = []
    for row in table.iter_rows():
        cells = "".join(f'<td{" class=num" if c in numeric else ""}>{"" if v is None else esc(str(v))}</td>'
                        for c, v in zip(table.columns, row, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    body = (f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>" if rows
            else '<p class="note">No rows: the result was empty.</p>')
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        f"<dl class=\"meta\">{''.join(f'<dt>{esc(k)}</dt><dd>{esc(v)}</dd>' for k, v in meta)}</dl>"
        f"<h2>Query</h2><pre class=\"query\">{esc(_query_text(query))}</pre>"
        f"<h2>Result: {frame.height:,} row{'' if frame.height == 1 else 's'}; times in {esc(zone)}</h2>{body}"
        "<p class=\"note\">Exported through the ALPR Workbench; this export is recorded in the audit log "
        "(action exports.case_file).</p></body></html>\n")
