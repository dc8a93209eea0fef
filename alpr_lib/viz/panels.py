"""Small offline pieces the oversight dashboards share: a frame as an HTML table, a matplotlib figure as an
inline PNG, a titled panel, and "not available" panels for areas this installation or role lacks.

Everything renders inside the page: no script, font, tile or image from any host (the plots are SVG drawn
here and travel in the widget's HTML; no plotting library is needed).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import ipywidgets as widgets
import polars as pl

from alpr_lib.errors import AlprError

__all__ = ["bars_svg", "frame_html", "line_svg", "optional_call", "panel", "scatter_svg", "unavailable_html"]

_TABLE_CSS = ("border-collapse:collapse;font-size:12px;font-family:sans-serif;margin:4px 0;"
              "max-width:100%")
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


def _cell(value: Any, zone: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if zone and value.tzinfo is not None:
            from zoneinfo import ZoneInfo

            value = value.astimezone(ZoneInfo(zone))
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def frame_html(frame: pl.DataFrame, *, css_class: str = "", columns: Sequence[str] | None = None,
               zone: str | None = None, empty: str = "nothing to show", max_rows: int = 200,
               highlight: Callable[[dict[str, Any]], bool] | None = None) -> str:
    """``frame`` as a plain HTML table (times in ``zone``), at most ``max_rows`` rows, saying how many are left
    out; rows for which ``highlight(row)`` is true are tinted (a silent camera, a dormant account)."""
    if frame.height == 0:
        return f"<p class='{css_class}' style='color:#555'>{html.escape(empty)}</p>"
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    head = "".join(f"<th style='{_CELL};background:#eee'>{html.escape(c.replace('_', ' '))}</th>" for c in cols)
    rows = []
    for row in frame.head(max_rows).iter_rows(named=True):
        tint = ";background:#fde7e7" if highlight and highlight(row) else ""
        rows.append("<tr>" + "".join(f"<td style='{_CELL}{tint}'>{html.escape(_cell(row[c], zone))}</td>"
                                     for c in cols) + "</tr>")
    more = (f"<p style='font-size:11px;color:#555'>showing {max_rows:,} of {frame.height:,} rows</p>"
            if frame.height > max_rows else "")
    return (f"<table class='{css_class}' style='{_TABLE_CSS}'><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table>{more}")


def _svg(body: str, width: int, height: int, *, title: str, css_class: str) -> str:
    return (f"<svg class='{css_class}' xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}' role='img' aria-label='{html.escape(title)}' "
            f"style='font-family:sans-serif;max-width:100%'><title>{html.escape(title)}</title>"
            f"<text x='{width / 2}' y='14' text-anchor='middle' font-size='12'>{html.escape(title)}</text>"
            f"{body}</svg>")


def line_svg(labels: Sequence[str], values: Sequence[float], *, title: str, css_class: str, width: int = 560,
             height: int = 200, colour: str = "#1a5fb4") -> str:
    """A line chart as inline SVG (drawn here: no plotting library, nothing fetched)."""
    if not values:
        return _svg("<text x='50%' y='50%' text-anchor='middle' font-size='11'>no data</text>", width, height,
                    title=title, css_class=css_class)
    left, right, top, bottom = 48, 10, 24, 28
    top_value = max(max(values), 1)
    w, h = width - left - right, height - top - bottom
    step = w / max(len(values) - 1, 1)
    points = " ".join(f"{left + i * step:.1f},{top + h - v / top_value * h:.1f}" for i, v in enumerate(values))
    area = f"{left},{top + h} {points} {left + (len(values) - 1) * step:.1f},{top + h}"
    ticks = "".join(f"<text x='{left - 4}' y='{top + h - f * h + 4:.1f}' text-anchor='end' font-size='9'>"
                    f"{top_value * f:,.0f}</text><line x1='{left}' x2='{left + w}' y1='{top + h - f * h:.1f}' "
                    f"y2='{top + h - f * h:.1f}' stroke='#eee'/>" for f in (0, 0.5, 1))
    last = len(values) - 1
    marks = "".join(f"<text x='{left + i * step:.1f}' y='{height - 8}' font-size='9' text-anchor="
                    f"'{'start' if i == 0 and last else 'end' if i == last and last else 'middle'}'>"
                    f"{html.escape(labels[i])}</text>" for i in sorted({0, len(values) // 2, last}))
    body = (f"{ticks}<polygon points='{area}' fill='{colour}' fill-opacity='0.15'/>"
            f"<polyline points='{points}' fill='none' stroke='{colour}' stroke-width='1.5'/>{marks}")
    return _svg(body, width, height, title=title, css_class=css_class)


def bars_svg(labels: Sequence[str], values: Sequence[float], *, title: str, css_class: str, width: int = 560,
             colour: str = "#26a269") -> str:
    """Horizontal bars as inline SVG, one per label."""
    row, left, top = 16, 110, 24
    height = top + row * max(len(values), 1) + 8
    most = max(values, default=0) or 1
    bars = "".join(
        f"<text x='{left - 4}' y='{top + i * row + 11}' text-anchor='end' font-size='9'>{html.escape(label)}</text>"
        f"<rect x='{left}' y='{top + i * row + 2}' height='{row - 4}' width='{(width - left - 60) * v / most:.1f}' "
        f"fill='{colour}'/><text x='{left + (width - left - 60) * v / most + 4:.1f}' y='{top + i * row + 11}' "
        f"font-size='9'>{v:,.0f}</text>" for i, (label, v) in enumerate(zip(labels, values, strict=True)))
    return _svg(bars, width, height, title=title, css_class=css_class)


def scatter_svg(groups: Sequence[tuple[str, str, Sequence[float], Sequence[float]]], *, title: str,
                css_class: str, width: int = 420, height: int = 360) -> str:
    """Points (label, colour, xs, ys) on equal-scaled axes as inline SVG, with a legend; for a camera map
    with no basemap (no tile is fetched)."""
    xs = [x for g in groups for x in g[2]]
    ys = [y for g in groups for y in g[3]]
    if not xs:
        return _svg("<text x='50%' y='50%' text-anchor='middle' font-size='11'>no placed cameras</text>", width,
                    height, title=title, css_class=css_class)
    pad, top = 16, 24
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = min(width - 2 * pad, height - top - 2 * pad - 16) / span
    x0, y0 = min(xs), max(ys)
    dots, legend = [], []
    for k, (label, colour, gx, gy) in enumerate(groups):
        dots += [f"<circle cx='{pad + (x - x0) * scale:.1f}' cy='{top + pad + (y0 - y) * scale:.1f}' r='4' "
                 f"fill='{colour}' stroke='white' stroke-width='0.8'/>" for x, y in zip(gx, gy, strict=True)]
        legend.append(f"<circle cx='{pad + k * 150}' cy='{height - 10}' r='4' fill='{colour}'/>"
                      f"<text x='{pad + k * 150 + 8}' y='{height - 6}' font-size='10'>{html.escape(label)}</text>")
    frame = (f"<rect x='{pad - 6}' y='{top + pad - 6}' width='{span * scale + 12:.1f}' "
             f"height='{(max(ys) - min(ys)) * scale + 12:.1f}' fill='#f6f8fa' stroke='#ddd'/>")
    return _svg(frame + "".join(dots) + "".join(legend), width, height, title=title, css_class=css_class)


def panel(title: str, body: widgets.Widget | str, css_class: str) -> widgets.VBox:
    """A titled box with a stable CSS class (tests and the user guide find it by that)."""
    content = widgets.HTML(body) if isinstance(body, str) else body
    box = widgets.VBox([widgets.HTML(f"<h3 style='margin:10px 0 4px 0'>{html.escape(title)}</h3>"), content],
                       layout=widgets.Layout(border="1px solid #ddd", padding="4px 10px", margin="4px 0"))
    box.add_class(css_class)
    return box


def unavailable_html(why: str) -> str:
    return f"<p class='alpr-unavailable' style='color:#555;font-style:italic'>Not available: {html.escape(why)}</p>"


def optional_call(session: Any, namespace: str, method: str, **kwargs: Any) -> tuple[Any, str | None]:
    """``s.<namespace>.<method>(**kwargs)`` (an audited call) when that area exists: (value, None); else
    (None, why it is not available) — the area is not installed, or the door refused this user."""
    area = getattr(session, namespace, None)
    call = getattr(area, method, None)
    if call is None:
        return None, f"this installation has no {namespace}.{method}"
    try:
        return call(**kwargs), None
    except AlprError as exc:
        return None, str(exc)
