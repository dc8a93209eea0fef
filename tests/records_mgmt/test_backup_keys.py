"""Backup and key rotation (issue 13, part 6): the audit key is rotated with the chain continuing across it
(verification passes, and still catches an edit after the rotation); a backup restored by another account on
another machine verifies and serves searches; so does one taken after a rotation."""

from __future__ import annotations

import json
import sqlite3

import pytest

import alpr_lib as alpr
from alpr_lib.backup import restore_store
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.conftest import random_reads, use_home


def _verify(path):
    store = Store.open(path)
    try:
        return store.audit.verify()
    finally:
        store.close()


def test_key_rotation_keeps_the_chain_verifiable(kit, run):
    kit.login("ingest").ingest_reads(random_reads(50), progress=False)
    admin = kit.login("admin")
    first = admin.audit.rotate_key()
    kit.login("analyst").search_plates("7ABK123", purpose="stolen plates")
    result = run("rotate-audit-key", "--store", kit.path, "--user", "admin", password=kit.passwords["admin"])
    assert result.exit_code == 0, result.output
    kit.login("analyst").plate_history("7ABK123", purpose="stolen plates")
    verdict = _verify(kit.path)
    assert verdict.ok, str(verdict)
    store = Store.open(kit.path)
    try:
        rotations = store.audit.rows(AuditFilter(action="audit.rotate_key"))
        assert len(rotations) == 2 and json.loads(rotations[0]["query"])["new_key_fingerprint"] \
            == first["new_key_fingerprint"]
        assert len(store.audit_key.ring()) == 3  # the first key and two rotated ones, all kept
        last = store.audit.rows()[-1]["seq"]
    finally:
        store.close()
    with sqlite3.connect(kit.path / "records.db") as db:  # an edit after the rotation is still caught
        db.execute("UPDATE audit_log SET purpose = 'warrants' WHERE seq = ?", (last,))
    assert _verify(kit.path).tampered


def test_a_backup_restored_elsewhere_verifies_and_serves(any_kit, tmp_path, monkeypatch, run):
    """On PostgreSQL the backup holds every table's rows and restores as a SQLite records database."""
    kit = any_kit
    kit.login("ingest").ingest_reads(random_reads(120), progress=False)
    kit.login("admin").audit.rotate_key()
    before = kit.login("analyst").search_plates("7AB*", purpose="stolen plates").sort("read_id")
    result = run("backup", "--store", kit.path, "--user", "admin", "--out", tmp_path / "bk",
                 password=kit.passwords["admin"])
    assert result.exit_code == 0, result.output
    with pytest.raises(alpr.AccessDenied):
        kit.login("analyst").admin.backup(tmp_path / "bk2")
    use_home(tmp_path / "other-machine", monkeypatch)  # another account's key and checkpoint directories
    restored = run("restore", tmp_path / "bk", "--store", tmp_path / "restored")
    assert restored.exit_code == 0, restored.output
    assert "audit log intact" in restored.output
    again = alpr.login("analyst", kit.passwords["analyst"], tmp_path / "restored")
    assert again.search_plates("7AB*", purpose="stolen plates").sort("read_id").drop("hold").equals(
        before.drop("hold"))
    assert _verify(tmp_path / "restored").ok
    damaged = tmp_path / "bk" / "store" / "store.toml"
    damaged.write_text(damaged.read_text() + "# changed\n")
    with pytest.raises(alpr.ValidationError, match=r"changed file: store/store\.toml"):
        restore_store(tmp_path / "bk", tmp_path / "restored-2")
