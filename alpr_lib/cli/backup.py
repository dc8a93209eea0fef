"""``alpr backup``, ``alpr restore`` and ``alpr rotate-audit-key``: a store with its records, keys and
checkpoints, and the rotation of the audit key with the chain continuing across it."""

from __future__ import annotations

import sys

import click

from alpr_lib.cli._common import session_from, store_option, user_option


@click.command()
@store_option
@user_option
@click.option("--out", required=True, type=click.Path(file_okay=False), help="A new folder for the backup.")
def backup(store: str, username: str, out: str) -> None:
    """Back up the store, its records database, audit keys and checkpoints (administrator or custodian)."""
    info = session_from(store, username).admin.backup(out)
    click.echo(f"backup of store {info.store_id}: {info.files} files, {info.bytes:,} bytes, audit log to record "
               f"{info.audit_seq}, in {info.path}")


@click.command()
@click.argument("backup_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--store", required=True, type=click.Path(file_okay=False), help="A new folder for the store.")
@click.option("--user", "username", default=None,
              help="Accepted for symmetry with the other commands; restore needs no login (the store is new).")
def restore(backup_dir: str, store: str, username: str | None) -> None:
    """Restore a backup into a new store folder (keys and checkpoints into this account's audit locations),
    then verify its audit log: exit 0 when intact, 4 tampered, 5 unverifiable."""
    from alpr_lib.backup import restore_store

    result = restore_store(backup_dir, store)
    click.echo(f"restored store {result.store_id} ({result.files} files) into {result.store}")
    click.echo(str(result.verify))
    sys.exit(result.verify.exit_code)


@click.command("rotate-audit-key")
@store_option
@user_option
def rotate_audit_key(store: str, username: str) -> None:
    """Rotate the audit HMAC key (administrator): later records are signed with a new key; the chain continues."""
    done = session_from(store, username).audit.rotate_key()
    click.echo(f"audit key rotated: {done['old_key_fingerprint']} -> {done['new_key_fingerprint']}; back up the "
               "key directory now (alpr backup)")
