"""A printable training certificate (HTML with print-ready CSS): who, which course and version, valid until when.

The page loads nothing from anywhere (no fonts, scripts or images from other hosts): it prints the same in an
isolated network. A certificate that no longer opens access says so across the page (EXPIRED, REVOKED).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

__all__ = ["certificate_html"]

_CSS = """
@page { size: letter landscape; margin: 0.6in; }
* { box-sizing: border-box; }
body { margin: 0; font-family: Georgia, 'Times New Roman', serif; color: #111; background: #fff; }
.alpr-certificate { position: relative; border: 6px double #1a3a6b; padding: 0.5in 0.7in; min-height: 6.8in;
                    text-align: center; page-break-inside: avoid; break-inside: avoid; }
.alpr-certificate h1 { font-size: 30pt; letter-spacing: 0.04em; margin: 0.1in 0 0.05in; color: #1a3a6b; }
.alpr-certificate .org { font-size: 14pt; text-transform: uppercase; letter-spacing: 0.12em; }
.alpr-certificate .name { font-size: 26pt; margin: 0.25in 0 0.05in; border-bottom: 1px solid #444;
                          display: inline-block; padding: 0 0.4in; }
.alpr-certificate .course { font-size: 16pt; margin: 0.15in 0; }
.alpr-certificate table { margin: 0.25in auto 0; border-collapse: collapse; font-size: 11pt; }
.alpr-certificate td { padding: 3px 12px; text-align: left; }
.alpr-certificate td.k { color: #555; text-align: right; }
.alpr-certificate .policy { font-size: 9.5pt; color: #444; margin-top: 0.25in; }
.alpr-certificate .sign { margin-top: 0.35in; display: flex; justify-content: space-around; font-size: 11pt; }
.alpr-certificate .sign div { border-top: 1px solid #444; padding-top: 4px; min-width: 2.6in; }
.alpr-certificate .void { position: absolute; top: 40%; left: 0; right: 0; font-size: 72pt; color: rgba(170,0,0,.28);
                          transform: rotate(-14deg); font-weight: bold; letter-spacing: 0.1em; }
@media screen { body { background: #eee; padding: 24px; } .alpr-certificate { background: #fff; max-width: 11in;
                margin: 0 auto; } }
@media print { .alpr-no-print { display: none; } }
"""


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value or "")[:10]


def certificate_html(*, full_name: str, username: str, title: str, organisation: str, course_title: str,
                     course_version: str | None, cert: dict[str, Any], signed_by: str, status: str) -> str:
    """The certificate page; ``cert`` is the certifications row (completed_at, expires_at, score...)."""
    e = html.escape
    version = course_version or "recorded by hand (training taken elsewhere)"
    void = {"expired": "EXPIRED", "revoked": "REVOKED"}.get(status)
    rows = [("Certificate", f"No. {cert['cert_id']}"), ("Course version", version),
            ("Completed", _day(cert["completed_at"])), ("Valid until", _day(cert["expires_at"])),
            ("Signed off by", signed_by)]
    if cert.get("score") is not None:
        rows.insert(2, ("Score", f"{float(cert['score']):.0f}%"))
    if status == "revoked":
        rows.append(("Revoked", f"{_day(cert.get('revoked_at'))} by {cert.get('revoked_by')}: "
                                f"{cert.get('revoked_reason')}"))
    table = "".join(f"<tr><td class='k'>{e(k)}</td><td>{e(str(v))}</td></tr>" for k, v in rows)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ALPR training certificate: {e(full_name)} ({e(version)})</title>
<style>{_CSS}</style></head>
<body>
<div class="alpr-certificate" data-status="{e(status)}">
  {f'<div class="void">{void}</div>' if void else ''}
  <div class="org">{e(organisation)}</div>
  <h1>Certificate of ALPR Training</h1>
  <div>This certifies that</div>
  <div class="name">{e(full_name)}</div>
  <div>{e(title)} &middot; username <code>{e(username)}</code></div>
  <div class="course">completed <strong>{e(course_title)}</strong>, course version
    <strong class="alpr-course-version">{e(version)}</strong></div>
  <table>{table}</table>
  <div class="policy">Department-approved training required by policy 462.2.1(b), 462.3(d) and 462.8 before a member
    operates ALPR equipment or accesses ALPR data. Access closes when this certificate expires or is revoked.</div>
  <div class="sign"><div>{e(signed_by)}<br>Training Sergeant</div><div>{e(full_name)}<br>Member</div></div>
</div>
<p class="alpr-no-print" style="text-align:center;font-family:sans-serif">Print this page (Ctrl+P) for the
training file.</p>
</body></html>
"""
