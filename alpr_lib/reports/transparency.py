"""The public transparency page (policy 462.2.1(g)): aggregate figures fit to post, never a plate.

Composed from audited actions only: ``s.audit.transparency`` (cameras, reads kept, data accesses by purpose,
retention, from the read store, the records database and the audit log), and, where those areas exist and the
user may see them, ``s.alerts.figures()`` (hotlist hits and verification rate) and ``s.releases.figures()``
(release requests approved and refused). Only numbers reach the page from those: text they return is left
out, so a plate can never slip onto a public page.
"""

from __future__ import annotations

import html
import numbers
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alpr_lib.errors import AlprError
from alpr_lib.private_files import write_private_atomic
from alpr_lib.reports.audit_report import PRINT_CSS

__all__ = ["collect", "render_transparency", "write_transparency"]

_PURPOSE_NOTE = ("Each data access names an authorised purpose (policy 462.3(a), 462.5(b)); a criminal "
                 "investigation also names its case number.")


def _optional(session: Any, namespace: str) -> dict[str, Any]:
    """``s.<namespace>.figures()`` if that area exists and this user may see it; else why not."""
    area = getattr(session, namespace, None)
    figures = getattr(area, "figures", None)
    if figures is None:
        return {"available": False, "why": f"this installation has no {namespace} figures"}
    try:
        value = figures()
    except AlprError as exc:
        return {"available": False, "why": str(exc)}
    return {"available": True, "figures": value if isinstance(value, Mapping) else {"value": value}}


def collect(session: Any, *, start: Any = None, end: Any = None) -> dict[str, Any]:
    """Every figure the page shows, each from an audited call."""
    return {"store": session.audit.transparency(start=start, end=end),
            "alerts": _optional(session, "alerts"), "releases": _optional(session, "releases")}


def _numbers(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """The numbers in ``value`` (nested mappings flattened to 'a / b'); any text is left out."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            label = f"{prefix} / {key}" if prefix else str(key)
            out.extend(_numbers(item, label))
    elif isinstance(value, numbers.Number) and not isinstance(value, bool):
        out.append((prefix, value))
    return out


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else _e(value)


def _rows(pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"<tr><td>{_e(k.replace('_', ' '))}</td><td class='n'>{_fmt(v)}</td></tr>" for k, v in pairs)


def _section(title: str, part: Mapping[str, Any], empty: str) -> str:
    if not part.get("available"):
        return f"<h2>{_e(title)}</h2><p>{_e(empty)} ({_e(part.get('why'))})</p>"
    pairs = _numbers(part.get("figures"))
    body = f"<table><tbody>{_rows(pairs)}</tbody></table>" if pairs else f"<p>{_e(empty)}</p>"
    return f"<h2>{_e(title)}</h2>{body}"


def render_transparency(collected: Mapping[str, Any], *, department: str, policy_text: str | None,
                        generated_at: datetime) -> str:
    """The page's HTML: self-contained, print-ready, no script and no request to any host."""
    fig = collected["store"]
    zone = ZoneInfo(fig["timezone"])

    def day(text: str | None) -> str:
        return datetime.fromisoformat(text).astimezone(zone).strftime("%Y-%m-%d") if text else "—"

    total = fig["data_accesses"]
    purposes = [(p, n, f"{n / total:.1%}" if total else "—") for p, n in fig["accesses_by_purpose"].items()]
    purpose_rows = "".join(f"<tr><td>{_e(p)}</td><td class='n'>{n:,}</td><td class='n'>{share}</td></tr>"
                           for p, n, share in purposes)
    kinds = "".join(f"<tr><td>{_e(k)}</td><td class='n'>{n:,}</td></tr>" for k, n in fig["accesses_by_kind"].items())
    policy = (f"<h2>The policy</h2><pre style='white-space: pre-wrap; font-size: 0.8rem'>{_e(policy_text)}</pre>"
              if policy_text else "<h2>The policy</h2><p>The department's ALPR policy (Policy 462) is available "
              "from the department on request and on its website.</p>")
    synthetic = ("<p class='meta'><b>Synthetic demonstration data: these figures describe a demo store, not a "
                 "department's real use.</b></p>") if fig.get("synthetic") else ""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(department)}: ALPR transparency report</title><style>{PRINT_CSS}</style></head><body>",
        f"<h1>{_e(department)} — Automated License Plate Readers</h1>",
        f"<p class='meta'>Transparency figures for {day(fig['period_start'])} to {day(fig['period_end'])} "
        f"({_e(fig['timezone'])}), counted from the system's own records and audit log on "
        f"{generated_at.astimezone(zone):%Y-%m-%d}. No license plate appears in this report.</p>", synthetic,
        "<h2>Cameras and data kept</h2><table><tbody>",
        _rows([("cameras", fig["cameras"]), *((f"cameras ({k})", v) for k, v in fig["cameras_by_kind"].items()),
               ("plate reads kept", fig["reads_kept"])]),
        f"<tr><td>oldest and newest reads kept</td><td class='n'>{day(fig['first_day'])} to "
        f"{day(fig['last_day'])}</td></tr>",
        f"<tr><td>retention period</td><td class='n'>{fig['retention_days']:,} days</td></tr>",
        "</tbody></table>",
        "<p>Reads are kept at least one year (Government Code 34090.6) and then purged unless held as evidence "
        "(policy 462.4).</p>",
        "<h2>Searches and other data accesses by purpose</h2>", f"<p>{_e(_PURPOSE_NOTE)}</p>",
        f"<table><thead><tr><th>purpose</th><th>accesses</th><th>share</th></tr></thead><tbody>{purpose_rows}"
        f"<tr><th>all purposes</th><th class='n'>{total:,}</th><th></th></tr></tbody></table>",
        f"<table><tbody>{_rows([('accesses naming a case number', fig['accesses_with_case_number']), ('accesses refused (no permission, training, purpose or case number)', fig['data_accesses_refused']), ('staff with search access', fig['users_with_search_access']), ('audit reviews of the access log', fig['audit_reviews'])])}"  # noqa: E501
        "</tbody></table>",
        "<h3>By kind of access</h3>",
        f"<table><thead><tr><th>kind</th><th>accesses</th></tr></thead><tbody>{kinds}</tbody></table>",
        _section("Hotlist hits and verification", collected["alerts"],
                 "No hotlists are in use, so there are no hotlist hits to report"),
        _section("Release requests from other agencies (policy 462.7)", collected["releases"],
                 "No release register is kept in this system"),
        policy,
        "</body></html>",
    ]
    return "\n".join(parts)


def write_transparency(session: Any, path: str | os.PathLike, *, start: Any = None, end: Any = None,
                       policy_text: str | None = None, department: str | None = None) -> dict[str, Any]:
    """Collect the figures (audited calls) and write the page to ``path``; returns the figures used."""
    from alpr_lib.timeutil import utc_now

    collected = collect(session, start=start, end=end)
    text = render_transparency(collected, department=department or session.user.organisation,
                               policy_text=policy_text, generated_at=utc_now())
    write_private_atomic(Path(path), text, make_dirs=False)
    return collected
