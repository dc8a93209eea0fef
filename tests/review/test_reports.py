"""The periodic audit report and the transparency page, generated from the demo store and checked against its
audit log (issue 14, items 3, 4 and 6); the demo's planted misuse gives every flag something to show."""

from __future__ import annotations

import html
import json
import re

import polars as pl
import pytest
from click.testing import CliRunner

import alpr_lib as alpr
from alpr_lib.cli.main import cli
from alpr_lib.reports.period import parse_period
from alpr_lib.review.demo import REPEATED_PLATE
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now


def _store_rows(path) -> list[dict]:
    store = Store.open(path)
    try:
        return store.audit.rows()
    finally:
        store.close()


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S)))
                    .split())


@pytest.fixture
def auditor(demo_store, demo_env):
    demo_env("auditor")
    return alpr.login("auditor", demo_store.passwords["auditor"], demo_store.path)


def test_the_demo_plants_something_for_every_flag_it_promises(auditor):
    review = auditor.audit.review()
    counts = review.counts()
    for rule in ("generic_note", "repeated_plate", "after_hours", "burst", "sensitive_term", "dormant_account",
                 "broad_query", "bad_case_number", "denied_attempts"):
        assert counts[rule] >= 1, (rule, counts)
    repeated = next(f for f in review.flags if f.rule == "repeated_plate" and f.username == "analyst")
    assert repeated.details["plate"] == REPEATED_PLATE
    burst = next(f for f in review.flags if f.rule == "burst")
    after = next(f for f in review.flags if f.rule == "after_hours" and f.username == "analyst")
    assert set(burst.records) <= set(after.records), "the planted burst is after hours"
    rows = {r["seq"]: r for r in _store_rows(auditor._door._store.path)}
    assert all(json.loads(rows[s]["query"]).get("synthetic_clock") for s in burst.records)


def test_periodic_report_matches_the_audit_log(auditor, demo_store, tmp_path):
    now = utc_now()
    period = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    out = tmp_path / "report.html"
    summary = auditor.audit.report(period, out, sample_size=10)
    page = out.read_text()
    text = _text(page)
    start, _ = parse_period(period, auditor._door._store.config.zone)
    in_period = [r for r in _store_rows(demo_store.path) if r["time"] >= iso(start)]
    assert summary["records_reviewed"] == len(in_period) - 1, "every record before the report's own"
    assert f"Every one of the {summary['records_reviewed']:,} audit records" in text
    assert "Chain verification: intact" in text and "Morgan Hale" in text and "Professional Standards" in text
    assert summary["sample"] == 10 and text.count("reads.") >= 10
    assert f"seeded with the period's name ({period})" in text
    review = auditor.audit.review(start=start, end=now)
    for rule, n in review.counts().items():
        assert re.search(rf"\b{rule}\s+{n}\b", text), rule
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    assert "@media print" in page and "Follow-up" in text
    again = tmp_path / "again.html"
    auditor.audit.report(period, again, sample_size=10)
    sample = re.compile(r"7\. Records drawn.*", re.S)
    assert sample.search(_text(again.read_text())).group(0) == sample.search(text).group(0), "the same draw"


def _purpose_cells(page: str) -> dict[str, int]:
    return {html.unescape(p): int(n.replace(",", "")) for p, n in
            re.findall(r"<tr><td>([^<]+)</td><td class='n'>([\d,]+)</td><td class='n'>[\d.]+%</td></tr>", page)}


def test_transparency_page_is_plate_free_and_counted_from_the_audit_log(demo_store, demo_env, tmp_path):
    env = demo_env("auditor")
    out = tmp_path / "transparency.html"
    result = CliRunner().invoke(cli, ["transparency", "--store", env["ALPR_STORE"], "--user", "auditor",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    reads = pl.read_parquet(sorted((demo_store.path / "reads").rglob("*.parquet")), columns=["plate"])
    plates = set(reads.get_column("plate").unique().to_list()) | {REPEATED_PLATE, "7ABK123"}
    words = set(re.findall(r"[A-Z0-9]{2,10}", page))
    assert not plates & words, sorted(plates & words)[:10]
    rows = _store_rows(demo_store.path)
    data = {a.name for a in alpr.actions() if a.needs_purpose}
    allowed = [r for r in rows if r["action"] in data and r["outcome"] == "allowed"]
    counted: dict[str, int] = {}
    for r in allowed:
        counted[r["purpose"]] = counted.get(r["purpose"], 0) + 1
    assert _purpose_cells(page) == counted
    assert f"<th class='n'>{len(allowed):,}</th>" in page
    kept = reads.height
    assert f"<td>plate reads kept</td><td class='n'>{kept:,}</td>" in page
    assert "365 days" in _text(page) and "<script" not in page
    figures = [r for r in _store_rows(demo_store.path) if r["action"] == "audit.transparency"]
    assert figures and figures[-1]["username"] == "auditor" and figures[-1]["outcome"] == "allowed"


def test_transparency_needs_its_permission(demo_store, demo_env, tmp_path):
    env = demo_env("analyst")
    result = CliRunner().invoke(cli, ["transparency", "--store", env["ALPR_STORE"], "--user", "analyst",
                                      "--out", str(tmp_path / "t.html")])
    assert result.exit_code == 1 and "may not" in result.output and not (tmp_path / "t.html").exists()


def test_cli_report(demo_store, demo_env, tmp_path):
    env = demo_env("auditor")
    out = tmp_path / "q.html"
    result = CliRunner().invoke(cli, ["audit", "report", "--store", env["ALPR_STORE"], "--user", "auditor",
                                      "--period", "2026-Q3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2026-Q3" in out.read_text() and "audit chain intact" in result.output
    bad = CliRunner().invoke(cli, ["audit", "report", "--store", env["ALPR_STORE"], "--user", "auditor",
                                   "--period", "Q3", "--out", str(out)])
    assert bad.exit_code == 1 and "2026-Q3" in bad.output
