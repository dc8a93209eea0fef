"""``alpr releases``: release requests from other agencies (policy 462.7, Civil Code 1798.90.55)."""

from __future__ import annotations

import click

from alpr_lib.cli._common import TableView, note_option, print_frame, session_from, store_option, user_option
from alpr_lib.releases.rules import AGENCY_TYPES


@click.group()
def releases() -> None:
    """Written release requests: record, approve or deny, fulfil, and the register (462.7)."""


@releases.command("add")
@store_option
@user_option
@click.option("--agency", required=True, help="The requesting agency's name.")
@click.option("--agency-type", required=True, type=click.Choice(AGENCY_TYPES), help="What kind of body it is.")
@click.option("--state", required=True, help="The agency's state (two letters).")
@click.option("--requester", required=True, help="Who asks (name, rank).")
@click.option("--contact", required=True, help="How to reach them.")
@click.option("--purpose", required=True, help="The intended purpose they state.")
@click.option("--case", "case_number", help="Their case or our case number, if any.")
@click.option("--plate", required=True, help="The plate whose reads may be released.")
@click.option("--start", help="Start of the window (department zone).")
@click.option("--end", help="End of the window (inclusive date or time).")
@click.option("--scope", required=True, help="What is asked for, in words.")
def add(store: str, username: str, agency: str, agency_type: str, state: str, requester: str, contact: str,
        purpose: str, case_number: str | None, plate: str, start: str | None, end: str | None, scope: str) -> None:
    """Record a written request; prints its id alone on the last line. A request the law bars (federal,
    private, other, out of state) is refused at once, kept on file, and the command exits non-zero."""
    row = session_from(store, username).releases.add(
        agency, agency_type=agency_type, state=state, requester=requester, contact=contact, purpose=purpose,
        case_number=case_number, plate=plate, start=start, end=end, scope=scope)
    click.echo("release request recorded, pending the Administration Division Commander's decision")
    click.echo(row["request_id"])


@releases.command("approve")
@store_option
@user_option
@click.argument("request_id")
@click.option("--note", help="A note with the approval.")
def approve(store: str, username: str, request_id: str, note: str | None) -> None:
    """Approve (Administration Division Commander or designee; never the one who entered it)."""
    session_from(store, username).releases.approve(request_id, note=note)
    click.echo(f"release request {request_id} approved")


@releases.command("deny")
@store_option
@user_option
@click.argument("request_id")
@click.option("--reason", required=True, help="Why it is denied.")
def deny(store: str, username: str, request_id: str, reason: str) -> None:
    """Deny (Administration Division Commander or designee)."""
    session_from(store, username).releases.deny(request_id, reason=reason)
    click.echo(f"release request {request_id} denied")


@releases.command("fulfil")
@store_option
@user_option
@click.argument("request_id")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new folder for the package.")
@click.option("--purpose", required=True, help="Authorised purpose, e.g. 'criminal investigation'.")
@click.option("--case", "case_number", help="Case number (when the purpose needs one).")
@click.option("--key-file", type=click.Path(dir_okay=False), help="Encrypt the package with this key file.")
@note_option
def fulfil(store: str, username: str, request_id: str, out: str, purpose: str, case_number: str | None,
           key_file: str | None, note: str | None) -> None:
    """Write the released reads as an evidence-style package (only after approval)."""
    package = session_from(store, username).releases.fulfil(request_id, out=out, purpose=purpose,
                                                            case_number=case_number, key_file=key_file, note=note)
    click.echo(f"release request {request_id} fulfilled: {package.reads} reads in {package.path} "
               f"(package {package.package_id})")


@releases.command("list")
@store_option
@user_option
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the register to .csv/.parquet/.json.")
def list_(store: str, username: str, output: str | None) -> None:
    """The register of every request, decision and what was released."""
    frame = session_from(store, username).releases.list()
    print_frame(frame, output, TableView(
        empty="no release request on file", noun=("request", "requests"),
        columns=("request_id", "agency", "agency_type", "state", "status", "plate", "entered_by", "decided_by",
                 "reads_released"), details=("legal_reason", "purpose", "decision_reason")))
