"""Backup and restore of a store with its records database, audit keys and checkpoints.

A backup is a folder::

    backup.json          what was copied: the store id, when, the audit head, the SHA-256 of every file
    store/               store.toml, records.db (a consistent SQLite snapshot) and the live data files
    audit/keys/          every audit key of the store (the first and each rotated one)
    audit/checkpoints/   the signed checkpoints and the local anchor copies

It is taken under the store's writer lock and inside a records transaction (no ingest, purge or audit record
changes anything while the checkpoints and the database are copied), so the copy's audit log verifies on its
own. Restore checks every file against backup.json, writes the store to a new folder and the keys and
checkpoints to the audit locations of the account restoring it (its audit system file), then verifies the
audit log. The folder holds plates and the audit key: keep it as the key backup is kept (docs/records-management.md).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alpr_lib.audit.log import VerifyResult
from alpr_lib.errors import ValidationError
from alpr_lib.private_files import private_dir, write_private_atomic
from alpr_lib.records import audit_log, dump, manifest
from alpr_lib.store.files import writer_lock
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["BackupInfo", "RestoreResult", "backup_store", "restore_store"]

KIND = "alpr-store-backup"
#: a PostgreSQL store's records, one JSON line per table
RECORDS_DUMP = "records.jsonl"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    store_id: str
    files: int
    bytes: int
    audit_seq: int


@dataclass(frozen=True)
class RestoreResult:
    store: Path
    store_id: str
    files: int
    verify: VerifyResult

    @property
    def ok(self) -> bool:
        return self.verify.ok


def _copy(source: Path, target: Path) -> None:
    private_dir(target.parent)
    with open(source, "rb") as src, open(target.with_suffix(target.suffix + ".tmp"), "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.chmod(0o600)
    tmp.replace(target)


def _empty_folder(path: Path, what: str) -> Path:
    try:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise ValidationError(f"{path} exists and is not an empty folder; give a new folder for the {what}")
        if not path.parent.is_dir():
            raise ValidationError(f"the folder above {str(path)[:200]!r} does not exist; create it first")
        return private_dir(path)
    except OSError as exc:
        raise ValidationError(f"cannot use {str(path)[:200]!r} for the {what}: {exc.strerror or exc}") from None


def backup_store(store: Store, out: Path) -> BackupInfo:
    """Copy the store, its records, keys and checkpoints to the new folder ``out`` (see the module docstring)."""
    out = _empty_folder(out, "backup")
    files: dict[str, Path] = {}
    with writer_lock(store.path), store.db.transaction() as tx:  # no writer and no audit record meanwhile
        for rel in manifest.live_paths(tx):
            source = store.path / rel
            if source.is_dir():  # an image folder is listed whole
                for item in sorted(source.iterdir()):
                    files[f"store/{rel}/{item.name}"] = item
            elif source.exists():
                files[f"store/{rel}"] = source
        files["store/store.toml"] = store.path / "store.toml"
        for key in store.audit_key.files():
            files[f"audit/keys/{key.name}"] = key
        checkpoints = store.audit.checkpoints_path
        for path in (checkpoints, store.audit.anchors_path):
            if path.exists():
                files[f"audit/checkpoints/{path.name}"] = path
        for rel, source in files.items():
            _copy(source, out / rel)
        if store.db.dialect == "sqlite":
            snapshot = out / "store" / "records.db"
            src = sqlite3.connect(store.path / "records.db")
            try:
                dst = sqlite3.connect(snapshot)
                try:
                    src.backup(dst)
                finally:
                    dst.close()
            finally:
                src.close()
            snapshot.chmod(0o600)
            files["store/records.db"] = snapshot
        else:  # PostgreSQL: every table's rows, read in this transaction (restored as a SQLite database)
            snapshot = out / "store" / RECORDS_DUMP
            lines = [json.dumps({"table": t, "rows": dump.rows_of(tx, t)}, default=str) for t in dump.table_names(tx)]
            write_private_atomic(snapshot, "\n".join(lines) + "\n")
            files[f"store/{RECORDS_DUMP}"] = snapshot
        last = audit_log.head(tx)
        head = last[0] if last else 0
    listing = [{"path": rel, "sha256": _sha256_file(out / rel), "bytes": (out / rel).stat().st_size}
               for rel in sorted(files)]
    info = {"kind": KIND, "version": 1, "store_id": store.store_id, "store_kind": store.kind,
            "created_at": iso(utc_now()), "audit_seq": int(head or 0), "files": listing}
    write_private_atomic(out / "backup.json", json.dumps(info, indent=2, sort_keys=True) + "\n")
    return BackupInfo(out, store.store_id, len(listing), sum(f["bytes"] for f in listing), int(head or 0))


def read_backup(folder: Path) -> dict[str, Any]:
    try:
        info = json.loads((folder / "backup.json").read_text())
    except FileNotFoundError:
        raise ValidationError(f"{folder} is not an ALPR backup (no backup.json)") from None
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{folder / 'backup.json'} is unreadable: {exc}") from None
    if not isinstance(info, dict) or info.get("kind") != KIND:
        raise ValidationError(f"{folder / 'backup.json'} is not an ALPR backup description")
    return info


def check_backup(folder: Path) -> list[str]:
    """Problems with a backup's files (changed, missing), in path order; empty when it is whole."""
    info = read_backup(folder)
    problems = []
    for item in info["files"]:
        path = folder / item["path"]
        if not path.is_file():
            problems.append(f"missing file: {item['path']}")
        elif _sha256_file(path) != item["sha256"]:
            problems.append(f"changed file: {item['path']}")
    return problems


def _load_dump(path: Path, target: Path) -> None:
    """A PostgreSQL store's records into a new SQLite database in ``target`` (store.toml then names no server)."""
    from alpr_lib.records.migrations import migrate
    from alpr_lib.records.sqlite import SQLiteBackend

    toml = target / "store.toml"
    kept = [line for line in toml.read_text().splitlines() if not line.startswith("records_url")]
    write_private_atomic(toml, "\n".join(kept) + "\n")
    db = SQLiteBackend(target / "records.db")
    try:
        migrate(db)
        known = set(dump.table_names(db))
        with db.transaction() as tx:
            for line in path.read_text().splitlines():
                if line.strip():
                    item = json.loads(line)
                    if item["table"] in known:
                        dump.insert_rows(tx, item["table"], item["rows"])
    finally:
        db.close()


def restore_store(backup: str | Path, target: str | Path) -> RestoreResult:
    """Restore a backup into the new folder ``target`` and verify its audit log (see the module docstring).

    Keys and checkpoints go to the audit locations of the account running this (from its audit system file);
    an existing key of the same name that differs is refused, never overwritten."""
    backup, target = Path(backup), Path(target)
    info = read_backup(backup)
    problems = check_backup(backup)
    if problems:
        raise ValidationError(f"the backup is not whole ({problems[0]}); restore from another copy")
    target = _empty_folder(target, "restored store")
    stored = [item["path"] for item in info["files"]]
    for rel in stored:
        if rel.startswith("store/") and rel != f"store/{RECORDS_DUMP}":
            _copy(backup / rel, target / rel.removeprefix("store/"))
    if f"store/{RECORDS_DUMP}" in stored:
        _load_dump(backup / "store" / RECORDS_DUMP, target)
    for sub in ("reads", "index", "images"):
        private_dir(target / sub)
    from alpr_lib.audit.locations import audit_locations

    where = audit_locations(target)
    for rel in stored:
        source = backup / rel
        if rel.startswith("audit/keys/"):
            dest = where.key_dir / source.name
            if dest.exists():
                if dest.read_bytes() != source.read_bytes():
                    raise ValidationError(f"the audit key {dest} exists and differs from the backup's; it is never "
                                          "overwritten (restore under the account that owns this store's key)")
                continue
            _copy(source, dest)
        elif rel.startswith("audit/checkpoints/"):
            dest = where.checkpoint_dir / source.name
            if dest.exists() and dest.read_bytes().startswith(source.read_bytes()):
                continue  # the live file already holds these checkpoints (and maybe later ones)
            if dest.exists():
                raise ValidationError(f"the checkpoint file {dest} exists and does not begin with the backup's; "
                                      "it is never overwritten")
            _copy(source, dest)
    store = Store.open(target)
    try:
        result = store.audit.verify()
    finally:
        store.close()
    return RestoreResult(target, info["store_id"], len(stored), result)
