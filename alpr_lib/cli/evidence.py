"""``alpr evidence``: evidence packages on portable media (policy 462.4): export, verify, transfer, decrypt."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from alpr_lib.cli._common import TableView, note_option, print_frame, session_from, store_option, user_option


def _passphrase(path: str | None) -> str | None:
    """A passphrase is read from a file (never from the command line, where ps and shell history see it)."""
    if path is None:
        return None
    return Path(path).read_text().strip()


_key_file = click.option("--key-file", type=click.Path(dir_okay=False),
                         help="Encrypt with (or open with) this 256-bit key file; a missing one is created 0600.")
_passphrase_file = click.option("--passphrase-file", type=click.Path(dir_okay=False, exists=True),
                                help="Encrypt with (or open with) the passphrase in this file (scrypt).")


@click.group()
def evidence() -> None:
    """Evidence packages: reads, images, manifest with SHA-256, chain of custody (462.4)."""


@evidence.command("export")
@store_option
@user_option
@click.option("--case", "case_number", required=True, help="Case number, NN-NNNNNN.")
@click.option("--item", required=True, help="Evidence item number.")
@click.option("--reason", required=True, help="Why the reads are exported.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new folder on the media.")
@click.option("--plate", help="Export the reads of this full plate.")
@click.option("--start", help="With --plate: start date/time in the department's zone.")
@click.option("--end", help="With --plate: end date (inclusive) or time.")
@click.option("--hold", "hold_id", help="Export the reads this hold keeps.")
@click.option("--read-id", "read_ids", multiple=True, help="Export this read (repeatable).")
@click.option("--purpose", required=True, help="Authorised purpose, e.g. 'criminal investigation'.")
@_key_file
@_passphrase_file
@note_option
def export(store: str, username: str, case_number: str, item: str, reason: str, out: str, plate: str | None,
           start: str | None, end: str | None, hold_id: str | None, read_ids: tuple[str, ...], purpose: str,
           key_file: str | None, passphrase_file: str | None, note: str | None) -> None:
    """Write the package; the exported reads are placed on hold."""
    package = session_from(store, username).evidence.export(
        out, item=item, reason=reason, plate=plate, start=start, end=end, hold_id=hold_id,
        read_ids=list(read_ids) or None, purpose=purpose, case_number=case_number, key_file=key_file,
        passphrase=_passphrase(passphrase_file), note=note)
    click.echo(f"evidence package {package.package_id}: {package.reads} reads, {package.images} images"
               f"{', encrypted' if package.encrypted else ''} in {package.path}; held under {package.hold_id}")
    click.echo(package.package_id)


@evidence.command("verify")
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--store", envvar="ALPR_STORE", default=None, type=click.Path(file_okay=False),
              help="The store that wrote it (or ALPR_STORE): also checks custody against its register and the "
                   "audit head's signature. Without --store/--user only the files are checked.")
@click.option("--user", "username", envvar="ALPR_USER", default=None, help="Your username (or ALPR_USER).")
@_key_file
@_passphrase_file
def verify(path: str, store: str | None, username: str | None, key_file: str | None,
           passphrase_file: str | None) -> None:
    """Exit 0 when every file matches; non-zero naming the first changed, missing or added file."""
    from alpr_lib.evidence.package import EvidenceKey, verify_package

    passphrase = _passphrase(passphrase_file)
    if store and username:
        check = session_from(store, username).evidence.verify(path, key_file=key_file, passphrase=passphrase)
    else:
        key = None if key_file is None and passphrase is None else EvidenceKey(
            passphrase=passphrase, key_file=Path(key_file) if key_file else None)
        check = verify_package(path, key)
    click.echo(str(check))
    if not check.ok:
        click.echo(f"Error: {check.problem}", err=True)
        sys.exit(3)


@evidence.command("transfer")
@store_option
@user_option
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--to", "to_person", required=True, help="Who receives the package.")
@click.option("--note", help="e.g. 'booked into the property room, locker 12'.")
def transfer(store: str, username: str, path: str, to_person: str, note: str | None) -> None:
    """Record a custody transfer (appended to the package and to the store's register)."""
    entry = session_from(store, username).evidence.transfer(path, to_person, note=note)
    click.echo(f"custody entry {entry['entry']}: {entry['from']} -> {entry['to']}")


@evidence.command("decrypt")
@store_option
@user_option
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new folder for the contents.")
@click.option("--purpose", required=True, help="Authorised purpose.")
@click.option("--case", "case_number", help="Case number.")
@_key_file
@_passphrase_file
@note_option
def decrypt(store: str, username: str, path: str, out: str, purpose: str, case_number: str | None,
            key_file: str | None, passphrase_file: str | None, note: str | None) -> None:
    """Write an encrypted package's reads and images to a new folder (after verifying it)."""
    target = session_from(store, username).evidence.decrypt(path, out, key_file=key_file,
                                                            passphrase=_passphrase(passphrase_file),
                                                            purpose=purpose, case_number=case_number, note=note)
    click.echo(f"decrypted into {target}")


@evidence.command("list")
@store_option
@user_option
def list_(store: str, username: str) -> None:
    """The evidence register."""
    print_frame(session_from(store, username).evidence.packages(),
                view=TableView(empty="no evidence package exported yet", noun=("package", "packages"),
                               columns=("package_id", "case_number", "item", "reads", "images", "encrypted",
                                        "exported_by", "exported_at", "hold_id", "release_id")))
