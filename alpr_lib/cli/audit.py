"""``alpr audit``: verify the chain (no login needed), export and review the log (auditors)."""

from __future__ import annotations

import sys

import click

from alpr_lib.cli._common import print_frame, session_from, store_option, user_option
from alpr_lib.stores import verify_audit_log


@click.group()
def audit() -> None:
    """Audit log: verify, export, show (policy 462.5(c), Civil Code 1798.90.52)."""


@audit.command()
@store_option
def verify(store: str) -> None:
    """Check the audit log's HMAC chain and signed checkpoints. Reveals no read data, so needs no login.

    Exits 0 when intact, 4 when tampering is found (naming the first bad record)."""
    result = verify_audit_log(store)
    click.echo(str(result), err=not result.ok)
    if not result.ok:
        sys.exit(4)


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


@audit.command()
@store_option
@user_option
@click.option("--start")
@click.option("--end")
@click.option("--for-user", "for_user", help="Only this user's records.")
@click.option("--action", help="Only this action, e.g. reads.search.")
@click.option("--outcome", type=click.Choice(["allowed", "denied", "error"]))
@click.option("--output", "-o", type=click.Path(dir_okay=False))
def show(store: str, username: str, start: str | None, end: str | None, for_user: str | None, action: str | None,
         outcome: str | None, output: str | None) -> None:
    """Show audit records (auditors, administrators)."""
    records = session_from(store, username).audit_records(start=start, end=end, username=for_user, action=action,
                                                          outcome=outcome)
    print_frame(records.drop("prev_hash", "hash", "session_id"), output)
