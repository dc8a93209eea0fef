"""``alpr audit``: verify the chain (no login needed), export, show and review the log, mark and export flags,
look up who queried a plate, write the periodic report (auditors)."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import polars as pl

from alpr_lib.access.actions import actions
from alpr_lib.cli._common import (
    TableView,
    limit_option,
    print_frame,
    printable,
    session_from,
    store_option,
    user_option,
    wide_option,
)
from alpr_lib.private_files import write_private_atomic
from alpr_lib.review.query_text import compact_query
from alpr_lib.stores import anchor_audit_log, verify_audit_log


@click.group()
def audit() -> None:
    """Audit log: verify, export, show (policy 462.5(c), Civil Code 1798.90.52)."""


@audit.command()
@store_option
@click.option("--anchor", "anchors", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A signed head from `alpr audit anchor` (kept by the Custodian of Records) to check the log "
                   "against; repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (intact, records, first_bad, "
              "bad_ranges, checkpoints, ...) instead of sentences.")
def verify(store: str, anchors: tuple[str, ...], as_json: bool) -> None:
    """Check the audit log's HMAC chain, its signed checkpoints and any anchors. Reveals no read data, so
    needs no login.

    Reports every bad record or range, not only the first. Exit status: 0 intact (records after the last
    anchor are reported, not a failure); 4 tampering found; 5 not verifiable: the key is missing, or the
    checkpoints are missing or shorter than the log, or an anchor is unusable."""
    result = verify_audit_log(store, anchors=[Path(a) for a in anchors])
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(str(result), err=not result.ok)
    sys.exit(result.exit_code)


@audit.command()
@store_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="-", show_default=True,
              help="File to write the signed head to (mode 0600); '-' prints it.")
def anchor(store: str, output: str) -> None:
    """Sign the audit log's current head for the Custodian of Records to keep outside the store.

    Verifies the log first (refuses to anchor a tampered one, exit 4), records the anchoring itself in the
    log, then prints one JSON object (store_id, seq, hash, time, signature). Later, `alpr audit verify
    --anchor FILE` proves no record up to that one was removed or changed, even by someone who could rewrite
    both the log and the checkpoint file."""
    signed = anchor_audit_log(store)
    text = json.dumps(signed, indent=2)
    if output == "-":
        click.echo(text)
    else:
        write_private_atomic(Path(output), text + "\n", make_dirs=False)
        click.echo(f"anchored the audit log at record {signed['seq']}; give {output} to the Custodian of Records",
                   err=True)


@audit.command()
@store_option
@user_option
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default="-", show_default=True,
              help="File to write; '-' writes to standard output.")
def export(store: str, username: str, fmt: str, output: str) -> None:
    """Export every audit record, one JSON object per line (auditors, administrators; itself audited)."""
    session = session_from(store, username)
    if output == "-":
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "audit.jsonl"
            session.export_audit(path, fmt=fmt)
            sys.stdout.write(path.read_text(encoding="utf-8"))
        return
    count = session.export_audit(output, fmt=fmt)
    click.echo(f"wrote {count} audit records to {output}", err=True)


#: actions recorded outside the registry of `alpr_lib.actions()`: logging in, creating and upgrading a store,
#: anchoring the log
_RECORDED_OUTSIDE_REGISTRY = ("login", "store.init", "store.upgrade", "audit.anchor")
_AUDIT_COLUMNS = ("seq", "time", "username", "action", "outcome", "purpose", "case_number", "result_count", "client")
_AUDIT_HEADERS = {"case_number": "case", "result_count": "results"}


def known_actions() -> list[str]:
    """Every action name an audit record can carry."""
    return sorted({a.name for a in actions()} | set(_RECORDED_OUTSIDE_REGISTRY))


def _check_action(name: str | None) -> None:
    """A misspelt action would show an empty log, which reads as "nobody did that": refuse it instead."""
    if name is None:
        return
    known = known_actions()
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise click.ClickException(f"unknown action {name!r}{hint}; the actions are: {', '.join(known)}")


def _filters(**given: str | None) -> str:
    said = [f"--{name.replace('_', '-')} {value}" for name, value in given.items() if value]
    return f" ({', '.join(said)})" if said else ""


@audit.command()
@store_option
@user_option
@click.option("--start", help="From this date/time in the department's zone, e.g. 2026-06-01.")
@click.option("--end", help="Up to this date (inclusive) or time.")
@click.option("--for-user", "for_user", help="Only this username's records (also names that failed to log in).")
@click.option("--action", help="Only this action, e.g. reads.search or login; an unknown name is refused with "
                               "the list of actions.")
@click.option("--outcome", type=click.Choice(["allowed", "denied", "error"]))
@limit_option
@wide_option
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write every matching record to .csv/.parquet/.json (mode 0600), times in UTC.")
def show(store: str, username: str, start: str | None, end: str | None, for_user: str | None, action: str | None,
         outcome: str | None, limit: int, wide: bool, output: str | None) -> None:
    """Show audit records (auditors, administrators), oldest first with the newest at the bottom.

    Times are in the department's zone; each record's query is shown as key=value text under it, with the
    reason of a denied or failed access. --wide puts each record on one line with every field whole."""
    _check_action(action)
    session = session_from(store, username)
    records = session.audit_records(start=start, end=end, username=for_user, action=action, outcome=outcome)
    if output:
        print_frame(records.drop("prev_hash", "hash", "session_id"), output)
        return
    zone = session.store_info.department()["timezone"]
    tz = ZoneInfo(zone)
    screen = records.drop("prev_hash", "hash").with_columns(
        pl.col("query").map_elements(lambda q: compact_query(q, tz), return_dtype=pl.String))
    view = TableView(
        empty="no audit records matched" + _filters(start=start, end=end, for_user=for_user, action=action,
                                                    outcome=outcome),
        noun=("audit record", "audit records"), title=_filters(start=start, end=end, for_user=for_user,
                                                                action=action, outcome=outcome).strip(),
        columns=_AUDIT_COLUMNS, headers=_AUDIT_HEADERS, wrap=("purpose",), details=("query", "reason"),
        keep_last=True)
    print_frame(screen, view=view, zone=zone, limit=limit, wide=wide)


_period_start = click.option("--start", help="Review from this date/time in the department's zone (default: 30 days "
                                             "before --end).")
_period_end = click.option("--end", help="Review up to this date (inclusive) or time (default: now).")


@audit.command()
@store_option
@user_option
@_period_start
@_period_end
@click.option("--for-user", "for_user", help="Only this user's flags.")
@click.option("--rule", help="Only this rule's flags (generic_note, repeated_plate, burst, ...).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per flag per line (rule, username, records, "
              "explanation, flag_id, details, reviewed, chain_status) instead of the summary.")
def review(store: str, username: str, start: str | None, end: str | None, for_user: str | None, rule: str | None,
           as_json: bool) -> None:
    """Review the audit log against the published rules (auditors; itself audited).

    Prints the chain's status, activity per user and purpose, and every flag with the rule that raised it, the
    user, the audit records (sequence numbers) and why. Rules and their parameters: docs/audit-review.md."""
    result = session_from(store, username).audit.review(start=start, end=end, username=for_user, rule=rule)
    if as_json:
        for item in result.flag_dicts():
            click.echo(json.dumps(item, sort_keys=True, default=str))
        return
    zone = ZoneInfo(result.timezone)
    click.echo(f"audit review {result.start.astimezone(zone):%Y-%m-%d %H:%M} to "
               f"{result.end.astimezone(zone):%Y-%m-%d %H:%M} ({result.timezone}): "
               f"{result.records_reviewed:,} records; audit chain {result.chain.get('status')}")
    click.echo("")
    print_frame(result.by_user, view=TableView(empty="no activity in the period", noun=("user", "users"),
                                               title="activity per user"))
    click.echo("")
    print_frame(result.by_purpose, view=TableView(empty="no data accesses in the period", noun=("purpose", "purposes"),
                                                  title="data accesses per purpose"))
    click.echo("")
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
    click.echo(f"flags: {len(result.flags)} ({counts})")
    for flag in result.flags:
        done = result.reviewed.get(flag.flag_id)
        mark = f" [reviewed by {done['reviewed_by']}: {done['finding']}]" if done else ""
        seqs = ", ".join(map(str, flag.records[:20])) + (" ..." if len(flag.records) > 20 else "")
        click.echo(printable(f"- {flag.flag_id}  {flag.explanation}{mark}"))
        click.echo(printable(f"    records: {seqs}"))


@audit.command("mark-reviewed")
@store_option
@user_option
@click.argument("flag_id")
@click.option("--finding", required=True, help="What the review found, e.g. 'tied to case 26-004512; no misuse'.")
@click.option("--follow-up", "follow_up", help="What follows, e.g. 'referred to internal affairs'.")
@_period_start
@_period_end
def mark_reviewed(store: str, username: str, flag_id: str, finding: str, follow_up: str | None, start: str | None,
                  end: str | None) -> None:
    """Record your finding on flag FLAG_ID (from `alpr audit review`; give the same --start/--end)."""
    row = session_from(store, username).audit.mark_reviewed(flag_id, finding, follow_up=follow_up, start=start,
                                                            end=end)
    click.echo(f"flag {row['flag_id']} ({row['rule']}, {row['username']}) marked reviewed")


@audit.command("export-flag")
@store_option
@user_option
@click.argument("flag_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="JSON-lines file for the internal-affairs file (mode 0600): the flag, then its records.")
@_period_start
@_period_end
def export_flag(store: str, username: str, flag_id: str, output: str, start: str | None, end: str | None) -> None:
    """Export flag FLAG_ID and every audit record it names (with their chain hashes)."""
    count = session_from(store, username).audit.export_flag(flag_id, output, start=start, end=end)
    click.echo(f"wrote flag {flag_id} and its {count} audit records to {output}", err=True)


_LOOKUP_COLUMNS = ("seq", "time", "username", "action", "how", "purpose", "case_number", "note", "result_count")


@audit.command()
@store_option
@user_option
@click.argument("plate")
@click.option("--start", help="From this date/time in the department's zone.")
@click.option("--end", help="Up to this date (inclusive) or time.")
@limit_option
@wide_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write every record to .csv/.parquet/.json.")
def lookups(store: str, username: str, plate: str, start: str | None, end: str | None, limit: int, wide: bool,
            output: str | None) -> None:
    """Who looked up PLATE: every access that queried it, matched it with a pattern, or returned it."""
    session = session_from(store, username)
    found = session.audit.plate_lookups(plate, start=start, end=end)
    if output:
        print_frame(found, output)
        return
    zone = session.store_info.department()["timezone"]
    print_frame(found, view=TableView(empty=f"no access queried or returned {plate}", noun=("access", "accesses"),
                                      title=f"concerning {plate.upper()}", columns=_LOOKUP_COLUMNS,
                                      headers={"case_number": "case", "result_count": "results"},
                                      wrap=("note",), keep_last=True), zone=zone, limit=limit, wide=wide)


@audit.command()
@store_option
@user_option
@click.option("--period", required=True, help="A quarter (2026-Q3), a month (2026-07) or a year (2026).")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True,
              help="The report, print-ready HTML (mode 0600); print it to PDF from a browser.")
@click.option("--sample-size", type=click.IntRange(0, 1000), default=25, show_default=True,
              help="Data accesses drawn at random (seeded by the period) for reading in full.")
def report(store: str, username: str, period: str, out: str, sample_size: int) -> None:
    """Write the periodic audit report (policy 462.5(c)): period, auditor, sample, findings, follow-up, chain."""
    summary = session_from(store, username).audit.report(period, out, sample_size=sample_size)
    click.echo(f"wrote the {summary['period']} audit report to {out}: {summary['records_reviewed']:,} records "
               f"reviewed, {summary['flags']} flags, {summary['sample']} sampled, audit chain "
               f"{summary['chain_status']}", err=True)
