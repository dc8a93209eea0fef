"""Results shown for people: a Session's frame as a readable table, while code keeps the polars frame.

``show(hits)`` (and, after :func:`alpr_lib.notebook.setup`, a frame at the end of a cell) shows times in the
department's zone with the zone named once in the caption, no dtype row or shape line, rounded numbers, lists
as text and plate crops as thumbnails when the caller has them. Nothing here changes or re-reads data: it only
formats the frame it is given, so the acceptance interface (polars frames, GeoDataFrames) stays as it is.

In a live kernel (JupyterLab, Voila) the table is an itables ``ITable`` widget: DataTables sorting, search
(filter) and paging, its JavaScript shipped inside the wheel and loaded through the widget comm, so it works
on an isolated network, needs no "init" cell, and is not blocked in untrusted notebooks. Everywhere else
(nbconvert, a saved notebook opened without its kernel, tests) the same table is plain HTML.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

__all__ = ["Table", "readable_frame", "show"]

#: Rows a static (non-widget) table shows; the frame itself keeps every row.
PREVIEW_ROWS = 50
#: itables' page length: a table longer than one page gets search and paging controls.
PAGE_ROWS = 10
#: Longest text shown in a cell (the rest is cut with an ellipsis).
MAX_TEXT = 80
#: Items of a list column shown before "(+N more)".
MAX_ITEMS = 6
#: Plate crops larger than this are not inlined as thumbnails (a crop is a few kB).
MAX_THUMBNAIL_BYTES = 256_000

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Columns that only the software uses (a reference into the store's image folder).
_HIDDEN = {"image_ref"}
_LABELS = {
    "plate_confidence": "confidence (%)",
    "plate_raw": "OCR text",
    "camera_id": "camera",
    "read_id": "read id",
    "incident_id": "incident",
    "target_read_id": "target read",
    "co_occurrences": "seen together",
    "mean_abs_gap_s": "mean gap (s)",
    "mean_abs_offset_min": "mean offset (min)",
    "before_and_after": "before and after",
    "polygon_wkt": "area",
}
_UNITS = {"_m": "m", "_min": "min", "_s": "s", "_h": "h", "_km": "km"}
#: Decimal places per kind of number: what an analyst can use, not float noise (94.599998 -> 94.6).
_DECIMALS = {"lat": 5, "lon": 5, "heading": 0, "score": 3}
_CSS = """
.alpr-table-wrap{overflow-x:auto;max-width:100%}
table.alpr-table{border-collapse:collapse;font-size:13px;font-family:var(--jp-ui-font-family,sans-serif)}
table.alpr-table caption{caption-side:top;text-align:left;padding:4px 0;color:#555}
table.alpr-table th{text-align:left;border-bottom:2px solid #bbb;padding:4px 10px;white-space:nowrap}
table.alpr-table td{border-bottom:1px solid #e4e4e4;padding:3px 10px;white-space:nowrap;vertical-align:middle}
table.alpr-table td.num{text-align:right}
table.alpr-table tbody tr:nth-child(odd){background:rgba(0,0,0,.03)}
table.alpr-table img{height:36px;display:block}
"""

_WIDGET_CSS = """
.alpr-table-caption{width:100%;text-align:left;color:#555;padding:2px 0 6px}
table.alpr-table img{height:36px;display:block}
"""


@dataclass
class _Defaults:
    """What :func:`alpr_lib.notebook.setup` may set for every table of the kernel."""

    zone: str | None = None


DEFAULTS = _Defaults()


@dataclass(frozen=True)
class Table:
    """A frame as people read it: ``frame`` holds text and rounded numbers (headers are display labels), the
    caption names the zone once. Displays as an interactive widget in a kernel, as HTML elsewhere."""

    frame: pl.DataFrame
    caption: str
    names: dict[str, str] = field(default_factory=dict)  # display label -> the column's name in code
    html_columns: frozenset[str] = frozenset()  # labels whose cells are already HTML (thumbnails)
    numeric: frozenset[str] = frozenset()

    @property
    def height(self) -> int:
        return self.frame.height

    def html(self, max_rows: int = PREVIEW_ROWS) -> str:
        """Static HTML: the caption, a header row, at most ``max_rows`` rows and how many more there are."""
        head = "".join(f'<th title="{html.escape(self.names.get(c, c))}">{html.escape(c)}</th>'
                       for c in self.frame.columns)
        rows = []
        for row in self.frame.head(max_rows).iter_rows():
            cells = []
            for label, value in zip(self.frame.columns, row, strict=True):
                text = "" if value is None else value if label in self.html_columns else html.escape(str(value))
                cls = ' class="num"' if label in self.numeric else ""
                cells.append(f"<td{cls}>{text}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        more = ""
        if self.frame.height > max_rows:
            more = (f'<div class="alpr-table-more">… and {self.frame.height - max_rows:,} more rows '
                    "(all of them are in the frame)</div>")
        return (f'<div class="alpr-table-wrap"><style>{_CSS}</style><table class="alpr-table">'
                f"<caption>{html.escape(self.caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>{more}</div>")

    def text(self, max_rows: int = 20) -> str:
        """Plain text for terminals: polars' table without its dtype row and shape line."""
        plain = self.frame.with_columns(pl.col(c).str.replace_all(r"<[^>]*>", "") for c in self.html_columns)
        with pl.Config(tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True, tbl_rows=max_rows,
                       tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=MAX_TEXT):
            return f"{self.caption}\n{plain}"

    def widget(self) -> Any:
        """The interactive table (an itables ``ITable`` widget): click a header to sort, type to filter."""
        from itables.widget import ITable

        allow_html = bool(self.html_columns)
        data = self.frame
        if allow_html:  # itables then renders every cell as HTML: escape all text that is not a thumbnail
            data = data.with_columns(pl.col(c).map_elements(html.escape, return_dtype=pl.String)
                                     for c, t in data.schema.items() if t == pl.String and c not in self.html_columns)
        # the caption as a layout row: the widget drops a <caption> when DataTables scrolls horizontally; the
        # controls (search, paging) only when the rows do not fit one page
        caption = {"div": {"className": "alpr-table-caption", "text": self.caption}}
        one_page = data.height <= PAGE_ROWS
        controls = dict.fromkeys(("topStart", "topEnd", "bottomStart", "bottomEnd")) if one_page else {
            "topStart": "pageLength", "topEnd": "search", "bottomStart": "info", "bottomEnd": "paging"}
        table = ITable(data, classes="display nowrap compact alpr-table", style="table-layout:auto;width:auto;margin:0",
                       showIndex=False, show_dtypes=False, scrollX=True, pageLength=PAGE_ROWS,
                       lengthMenu=[10, 25, 50, 100, 500], maxBytes="4MB", allow_html=allow_html, order=[],
                       layout={"top": caption, **controls}, css=_WIDGET_CSS,
                       text_in_header_can_be_selected=False)  # a click anywhere on a header sorts
        table.add_class("alpr-table-widget")
        return table

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": self.text(), "text/html": self.html()}
        if _in_kernel():
            widget = self.widget()._repr_mimebundle_()
            data = widget[0] if isinstance(widget, tuple) else widget
            bundle.update({k: v for k, v in data.items() if k != "text/plain"})
        return bundle


def show(frame: Any, *, title: str | None = None, zone: str | None = None,
         images: Mapping[str, bytes | None] | None = None) -> Table:
    """``frame`` (a polars frame, a pandas or GeoPandas frame) as a readable :class:`Table`.

    ``title`` starts the caption. ``zone`` overrides the display zone (default: the zone of the frame's local
    columns, else the department's zone of the logged-in Session). ``images`` maps read ids to plate-crop bytes
    (e.g. ``s.read_details(rid, purpose=...)["image"]``, each an audited call the analyst chose to make): they
    show as thumbnails in a first column. The frame itself is never changed."""
    polars_frame = _to_polars(frame)
    display_zone = _zone_for(polars_frame, zone)
    readable, names, html_columns, numeric = _readable(polars_frame, display_zone, images)
    has_times = any(isinstance(t, pl.Datetime) and t.time_zone for t in polars_frame.schema.values()) or any(
        isinstance(t, pl.Datetime) and t.time_zone for t in _nested_dtypes(polars_frame))
    noun = "read" if "read_id" in polars_frame.columns else "row"
    count = f"{polars_frame.height:,} {noun}{'' if polars_frame.height == 1 else 's'}"
    parts = [p for p in (title, count, f"times in {display_zone}" if has_times else None) if p]
    return Table(readable, " · ".join(parts), names, frozenset(html_columns), frozenset(numeric))


def readable_frame(frame: Any, *, zone: str | None = None) -> pl.DataFrame:
    """The frame a person reads (text and rounded numbers, display labels): for exports and tests."""
    return show(frame, zone=zone).frame


# ----------------------------------------------------------------------------------------------- internals
def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the Jupyter stack
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _to_polars(frame: Any) -> pl.DataFrame:
    """polars as it is; pandas/GeoPandas converted (geometry dropped where lat/lon carry it, else as text)."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        raise TypeError("show() takes a collected frame; call .collect() first")
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(frame, pd.DataFrame):
        pdf = frame
        geometry = getattr(frame, "_geometry_column_name", None)
        if geometry is not None and geometry in pdf.columns:
            if {"lat", "lon"} <= set(pdf.columns):
                pdf = pdf.drop(columns=[geometry])
            else:
                pdf = pd.DataFrame(pdf).assign(**{geometry: pdf[geometry].to_wkt(rounding_precision=5)})
        return pl.from_pandas(pd.DataFrame(pdf))
    raise TypeError(f"show() takes a polars or pandas frame, not {type(frame).__name__}")


def _nested_dtypes(frame: pl.DataFrame) -> list[pl.DataType]:
    out: list[pl.DataType] = []
    for dtype in frame.schema.values():
        while isinstance(dtype, pl.List | pl.Array):
            dtype = dtype.inner
            out.append(dtype)
    return out


def _zone_for(frame: pl.DataFrame, zone: str | None) -> str:
    """The zone to show times in: given, set by setup(), the frame's own local zone, the logged-in Session's,
    else the library's default department zone."""
    if zone or DEFAULTS.zone:
        return str(zone or DEFAULTS.zone)
    for dtype in frame.schema.values():
        if isinstance(dtype, pl.Datetime) and dtype.time_zone not in (None, "UTC"):
            return str(dtype.time_zone)
    found = _kernel_session_zone()
    if found:
        return found
    from alpr_lib.config import SETTINGS

    return str(next(s.default for s in SETTINGS if s.name == "timezone"))


def _kernel_session_zone() -> str | None:
    """The department zone of the Session(s) in the notebook's namespace, if they agree."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    shell = get_ipython()
    if shell is None:
        return None
    from alpr_lib.session import Session

    zones = set()
    for value in list(shell.user_ns.values()):
        if isinstance(value, Session):
            try:  # the Session exposes no store; its door holds the department's (unaudited) settings
                zones.add(value._door._store.config.timezone)
            except AttributeError:
                continue
    return zones.pop() if len(zones) == 1 else None


def _label(name: str) -> str:
    if name in _LABELS:
        return _LABELS[name]
    base = name.removesuffix("_local").removesuffix("_utc")
    for suffix, unit in _UNITS.items():
        if base.endswith(suffix) and len(base) > len(suffix):
            return f"{base.removesuffix(suffix).replace('_', ' ')} ({unit})"
    return base.replace("_", " ")


def _decimals(name: str) -> int:
    if name in _DECIMALS:
        return _DECIMALS[name]
    if "confidence" in name or name.endswith(("_s", "_min")):
        return 1
    if name.endswith("_m"):
        return 0
    return 2


def _utc_twins(frame: pl.DataFrame) -> set[str]:
    """UTC columns that a ``*_local`` column already shows (``captured_at`` beside ``captured_local``)."""
    twins = set()
    for name in frame.columns:
        if name.endswith("_local"):
            base = name.removesuffix("_local")
            twins |= {c for c in (base, f"{base}_at", f"{base}_start", f"{base}_utc") if c in frame.columns
                      and isinstance(frame.schema[c], pl.Datetime)}
    return twins


def _scalar_text(expr: pl.Expr, dtype: pl.DataType, zone: str) -> pl.Expr:
    """One value as text (used for list items and for columns that are not numbers)."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            expr = expr.dt.convert_time_zone(zone)
        return expr.dt.strftime(_TIME_FORMAT)
    if isinstance(dtype, pl.Date):
        return expr.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Boolean):
        return pl.when(expr).then(pl.lit("yes")).when(expr.not_()).then(pl.lit("no")).otherwise(None)
    if dtype.is_float():
        return expr.round(2, mode="half_away_from_zero").cast(pl.String)
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    if isinstance(dtype, pl.Null):
        return expr.cast(pl.String)
    return expr.cast(pl.String)


def _list_text(name: str, dtype: pl.List | pl.Array, zone: str) -> pl.Expr:
    """``["MPD-F003", "MPD-F007"]`` as ``MPD-F003, MPD-F007``; long lists end in ``… (+N more)``."""
    column = pl.col(name)
    if isinstance(dtype, pl.Array):
        column = column.arr.to_list()
    inner = dtype.inner
    size = column.list.len()
    if isinstance(inner, pl.Struct | pl.List | pl.Array):
        return pl.when(size.is_null()).then(None).otherwise(
            size.cast(pl.String) + pl.lit(" item") + pl.when(size == 1).then(pl.lit("")).otherwise(pl.lit("s")))
    joined = column.list.head(MAX_ITEMS).list.eval(_scalar_text(pl.element(), inner, zone)).list.join(", ")
    more = pl.when(size > MAX_ITEMS).then(pl.lit(" … (+") + (size - MAX_ITEMS).cast(pl.String) + pl.lit(" more)"))
    return pl.concat_str(joined, more.otherwise(pl.lit("")))


def _thumbnail(data: bytes | None) -> str | None:
    if not data or len(data) > MAX_THUMBNAIL_BYTES:
        return None
    kind = ("png" if data.startswith(b"\x89PNG") else "jpeg" if data.startswith(b"\xff\xd8")
            else "webp" if data[8:12] == b"WEBP" else None)
    if kind is None:
        return None
    return f'<img alt="plate crop" src="data:image/{kind};base64,{base64.b64encode(data).decode()}">'


def _readable(frame: pl.DataFrame, zone: str, images: Mapping[str, bytes | None] | None
              ) -> tuple[pl.DataFrame, dict[str, str], set[str], set[str]]:
    drop = _utc_twins(frame) | (_HIDDEN & set(frame.columns))
    exprs: list[pl.Expr] = []
    names: dict[str, str] = {}
    html_columns: set[str] = set()
    numeric: set[str] = set()
    used: set[str] = set()

    def add(expr: pl.Expr, name: str, label: str) -> None:
        label = label if label not in used else name
        used.add(label)
        names[label] = name
        exprs.append(expr.alias(label))

    if images is not None and "read_id" in frame.columns:
        thumbs = {rid: _thumbnail(data) for rid, data in images.items()}
        add(pl.col("read_id").replace_strict(thumbs, default=None, return_dtype=pl.String), "image", "plate crop")
        html_columns.add("plate crop")
    for name, dtype in frame.schema.items():
        if name in drop:
            continue
        label = _label(name)
        column = pl.col(name)
        if dtype.is_integer():
            expr = column
        elif dtype.is_float() or isinstance(dtype, pl.Decimal):
            places = _decimals(name)
            expr = column.cast(pl.Float64).round(places, mode="half_away_from_zero")  # as people round
            expr = expr.cast(pl.Int64) if places == 0 else expr
        elif isinstance(dtype, pl.Duration):
            expr, label = column.dt.total_seconds(), f"{label} (s)"
        elif isinstance(dtype, pl.List | pl.Array):
            expr = _list_text(name, dtype, zone)
        elif isinstance(dtype, pl.Binary):
            expr = column.map_elements(_thumbnail, return_dtype=pl.String)
            html_columns.add(label)
        elif dtype == pl.String:
            expr = (pl.when(column.str.len_chars() > MAX_TEXT)
                    .then(column.str.slice(0, MAX_TEXT - 1) + pl.lit("…")).otherwise(column))
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            expr = column.cast(pl.String)
        else:
            expr = _scalar_text(column, dtype, zone)
        if dtype.is_numeric():
            numeric.add(label if label not in used else name)
        add(expr, name, label)
    readable = frame.select(exprs) if exprs else pl.DataFrame()
    return readable, names, html_columns, numeric
