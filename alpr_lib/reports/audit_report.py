"""The periodic audit report (policy 462.5(c)) as print-ready HTML: one self-contained file, no script, no
request to any host; "Print to PDF" in a browser gives the PDF for the file.

Contents follow what auditors recommend a report say: the period, who audited, how the sample was drawn, what
was reviewed, the findings, the follow-up and the audit chain's status.
"""

from __future__ import annotations

import hashlib
import html
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alpr_lib.review.model import Entry
from alpr_lib.review.result import AuditReview

__all__ = ["PRINT_CSS", "draw_sample", "render_report"]

PRINT_CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 56rem; margin: 2rem auto; color: #111;
       line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #999;
     margin-top: 1.6rem; } h3 { font-size: 1rem; margin-bottom: 0.2rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.status-intact { color: #0a5d1a; font-weight: bold; } .status-bad { color: #a00; font-weight: bold; }
.meta { color: #444; font-size: 0.9rem; } .flag { border-left: 3px solid #a66; padding-left: 0.6rem;
        margin: 0.6rem 0; page-break-inside: avoid; } .reviewed { border-left-color: #6a6; }
.sign { margin-top: 2.5rem; display: flex; gap: 3rem; } .sign div { flex: 1; border-top: 1px solid #333;
        padding-top: 0.2rem; font-size: 0.85rem; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; }
               a { color: inherit; text-decoration: none; } }
@page { size: letter; margin: 18mm 16mm; }
"""


def draw_sample(records: Iterable[Entry], data_actions: set[str], period: str, size: int) -> list[Entry]:
    """``size`` allowed data accesses drawn at random for a person to read in full: the generator is seeded
    with the period's name, so anyone re-running the report draws the same records."""
    pool = sorted((e for e in records if e.action in data_actions and e.outcome == "allowed"), key=lambda e: e.seq)
    seed = int.from_bytes(hashlib.sha256(f"alpr audit sample {period}".encode()).digest()[:8], "big")
    chosen = random.Random(seed).sample(pool, min(size, len(pool)))
    return sorted(chosen, key=lambda e: e.seq)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td class='n'>{_e(c)}</td>" if i in numeric else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _local(moment: datetime | str, zone: ZoneInfo) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def render_report(review: AuditReview, period: str, auditor: Any, sample: Sequence[Entry],
                  findings: Sequence[Mapping[str, Any]], *, generated_at: datetime) -> str:
    """The report's HTML (see the module docstring)."""
    zone = ZoneInfo(review.timezone)
    chain = review.chain
    ok = chain.get("status") == "intact"
    counts = review.counts()
    flags_html = []
    for f in review.flags:
        done = review.reviewed.get(f.flag_id)
        verdict = (f"<p><b>Reviewed</b> by {_e(done['reviewed_by'])} on {_e(_local(done['reviewed_at'], zone))}: "
                   f"{_e(done['finding'])}" + (f" <b>Follow-up:</b> {_e(done['follow_up'])}" if done.get("follow_up")
                                              else "") + "</p>") if done else "<p><b>Not yet reviewed.</b></p>"
        records = ", ".join(map(str, f.records[:60])) + (f" … ({len(f.records)} in all)" if len(f.records) > 60 else "")
        flags_html.append(f"<div class='flag{' reviewed' if done else ''}'><h3>{_e(f.rule)} — {_e(f.username)} "
                          f"<span class='meta'>({_e(f.flag_id)})</span></h3><p>{_e(f.explanation)}</p>"
                          f"<p class='meta'>Audit records: {_e(records)}</p>{verdict}</div>")
    follow = [r for r in findings if r.get("follow_up")]
    open_flags = sum(1 for f in review.flags if f.flag_id not in review.reviewed)
    rules_rows = [(r.id, r.title, "on" if r.enabled else "off",
                   ", ".join(f"{k}={v}" for k, v in r.params.items() if k not in ("enabled", "generic", "terms")),
                   ", ".join(r.tuned) or "—") for r in review.rules.rules]
    user_rows = [(r["username"], r["records"], r["data_accesses"], r["denied"], r["without_note"], r["without_case"],
                  r["plates_queried"], r["flags"]) for r in review.by_user.iter_rows(named=True)]
    purpose_rows = [(r["purpose"], r["data_accesses"], r["users"], r["with_case"], r["with_note"], r["denied"])
                    for r in review.by_purpose.iter_rows(named=True)]
    sample_rows = [(e.seq, _local(e.time, zone), e.username, e.action, e.purpose or "", e.case_number or "",
                    (e.note or "")[:120]) for e in sample]
    title = getattr(auditor, "title", "")
    name = getattr(auditor, "full_name", getattr(auditor, "username", str(auditor)))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>ALPR audit report {_e(period)}</title><style>{PRINT_CSS}</style></head><body>",
        f"<h1>ALPR system audit — {_e(period)}</h1>",
        f"<p class='meta'>Policy 462.5(c). Period {_e(_local(review.start, zone))} to {_e(_local(review.end, zone))} "
        f"({_e(review.timezone)}). Generated {_e(_local(generated_at, zone))}.</p>",
        "<h2>1. Who audited</h2>",
        f"<p>{_e(name)}{', ' + _e(title) if title else ''} ({_e(getattr(auditor, 'username', ''))}), "
        f"{_e(getattr(auditor, 'organisation', ''))}. This report and the review it summarises are recorded in the "
        "audit log (actions audit.report and audit.review).</p>",
        "<h2>2. The audit log's integrity</h2>",
        f"<p>Chain verification: <span class='{'status-intact' if ok else 'status-bad'}'>{_e(chain.get('status'))}"
        f"</span> — {_e(chain.get('records'))} records, checkpoints {_e(chain.get('checkpoints'))}"
        + (f"; bad ranges {_e(chain.get('bad_ranges'))}" if chain.get("bad_ranges") else "") + ".</p>",
        "<h2>3. How the records were drawn</h2>",
        f"<p>Every one of the {review.records_reviewed:,} audit records of the period was checked against the "
        "published rules below (a census, not a sample). In addition, "
        f"{len(sample)} allowed data accesses were drawn at random for a person to read in full (section 7); the "
        f"draw is seeded with the period's name ({_e(period)}), so re-running the report draws the same records.</p>",
        "<h2>4. What was reviewed</h2>",
        "<h3>Activity per user</h3>",
        _table(("user", "records", "data accesses", "denied", "without note", "without case", "plates queried",
                "flags"), user_rows, numeric=range(1, 8)),
        "<h3>Data accesses per purpose</h3>",
        _table(("purpose", "accesses", "users", "with case number", "with note", "denied"), purpose_rows,
               numeric=range(1, 6)),
        "<h3>Rules applied</h3>",
        _table(("rule", "looks for", "state", "parameters", "tuned by the department"), rules_rows),
        "<h2>5. Findings</h2>",
        _table(("rule", "flags"), counts.items(), numeric=(1,)),
        "".join(flags_html) or "<p>No rule raised a flag in this period.</p>",
        "<h2>6. Follow-up</h2>",
        f"<p>{len(review.flags) - open_flags} of {len(review.flags)} flags reviewed; {open_flags} still open.</p>",
        _table(("flag", "user", "finding", "follow-up", "reviewed by", "on"),
               [(r["flag_id"], r["username"], r["finding"], r["follow_up"], r["reviewed_by"],
                 _local(r["reviewed_at"], zone)) for r in follow]) if follow
        else "<p>No follow-up was recorded.</p>",
        "<h2>7. Records drawn for reading in full</h2>",
        _table(("record", "time", "user", "action", "purpose", "case", "note"), sample_rows, numeric=(0,))
        if sample_rows else "<p>No data accesses in the period.</p>",
        "<div class='sign'><div>Auditor</div><div>ALPR Administrator</div><div>Date</div></div>",
        "</body></html>",
    ]
    return "\n".join(parts)
