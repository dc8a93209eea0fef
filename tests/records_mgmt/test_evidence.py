"""Evidence export (issue 13, part 3): a package of a case's reads with images, manifest and chain of custody;
verify catches one changed byte, an added and a missing file; custody transfers are appended and verified;
exported reads are held; an encrypted package opens only with its key."""

from __future__ import annotations

import json
import os
import stat

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.evidence import EvidenceKey, verify_package
from tests.records_mgmt.helpers import INVESTIGATION, PNG, straddling_reads

PLATE = "7ABK123"


@pytest.fixture
def stocked(kit):
    reads = straddling_reads()
    images = {rid: PNG + rid.encode() for rid in reads.filter(pl.col("plate") == PLATE)["read_id"].to_list()}
    kit.login("ingest").ingest_reads(reads, images=images, progress=False)
    return kit, reads.filter(pl.col("plate") == PLATE), images


def _export(kit, out, **kwargs):
    return kit.login("analyst").evidence.export(out, item="E-17", reason="burglary suspect vehicle", plate=PLATE,
                                                **INVESTIGATION, **kwargs)


def test_an_exported_package_verifies_and_its_reads_are_held(stocked, tmp_path):
    kit, of_plate, images = stocked
    package = _export(kit, tmp_path / "pkg")
    assert package.reads == of_plate.height and package.images == len(images) > 0
    folder = tmp_path / "pkg"
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert {"reads.csv", "reads.parquet", "manifest.json", "custody.jsonl"} <= set(names)
    assert sum(n.startswith("images/") for n in names) == len(images)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.rglob("*") if p.is_file())
    exported = pl.read_parquet(folder / "reads.parquet")
    assert sorted(exported["read_id"]) == sorted(of_plate["read_id"])
    custody = [json.loads(line) for line in (folder / "custody.jsonl").read_text().splitlines()]
    assert custody[0]["case_number"] == "24-001234" and custody[0]["item"] == "E-17"
    assert custody[0]["by"]["username"] == "analyst" and custody[0]["reason"] == "burglary suspect vehicle"
    assert custody[0]["audit_head"]["kind"] == "alpr-audit-anchor"
    check = verify_package(folder)
    assert check.ok, check.problems
    in_store = kit.login("analyst").evidence.verify(folder)
    assert in_store.ok, str(in_store)
    holds = kit.login("analyst").holds.list()
    row = holds.filter(pl.col("hold_id") == package.hold_id).row(0, named=True)
    assert row["status"] == "active" and row["source"] == "evidence" and row["reads"] == of_plate.height
    assert set(kit.login("analyst").plate_history(PLATE, purpose="stolen plates")["hold"]) == {package.hold_id}


def test_verify_names_a_changed_byte_an_added_and_a_missing_file(stocked, tmp_path, run):
    kit, _, _ = stocked
    for name in ("changed", "added", "missing"):
        _export(kit, tmp_path / name)
    target = tmp_path / "changed" / "reads.csv"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte
    target.write_bytes(bytes(data))
    (tmp_path / "added" / "notes.txt").write_text("added later")
    image = sorted((tmp_path / "missing" / "images").iterdir())[0]
    image.unlink()
    expected = {"changed": "changed file: reads.csv", "added": "added file: notes.txt",
                "missing": f"missing file: images/{image.name}"}
    for name, problem in expected.items():
        check = verify_package(tmp_path / name)
        assert not check.ok and check.problem.startswith(problem), (name, check.problems)
        result = run("evidence", "verify", tmp_path / name)
        assert result.exit_code != 0 and problem in result.output, result.output
    good = tmp_path / "good"
    _export(kit, good)
    assert run("evidence", "verify", good).exit_code == 0
    assert run("evidence", "verify", good, "--store", kit.path, "--user", "analyst",
               password=kit.passwords["analyst"]).exit_code == 0


def test_custody_transfers_are_appended_and_verified(stocked, tmp_path, run):
    kit, _, _ = stocked
    folder = tmp_path / "pkg"
    _export(kit, folder)
    entry = kit.login("analyst").evidence.transfer(folder, "Property Officer J. Diaz", note="locker 12")
    assert entry["entry"] == 2 and entry["from"] == "analyst" and entry["to"] == "Property Officer J. Diaz"
    result = run("evidence", "transfer", "--store", kit.path, "--user", "supervisor", folder, "--to", "DA's office",
                 password=kit.passwords["supervisor"])
    assert result.exit_code == 0, result.output
    check = verify_package(folder)
    assert check.ok and check.custody_entries == 3
    assert kit.login("analyst").evidence.verify(folder).ok
    lines = (folder / "custody.jsonl").read_text().splitlines()
    forged = json.loads(lines[1])
    forged["to"] = "someone else"
    (folder / "custody.jsonl").write_text("\n".join([lines[0], json.dumps(forged), lines[2]]) + "\n")
    check = verify_package(folder)
    assert not check.ok and "custody.jsonl (entry 2 was edited)" in check.problem
    (folder / "custody.jsonl").write_text("\n".join([lines[0], lines[2]]) + "\n")  # a transfer removed
    assert not verify_package(folder).ok


def test_an_encrypted_package_opens_only_with_its_key(stocked, tmp_path, run):
    kit, of_plate, _ = stocked
    secret = tmp_path / "pass.txt"
    secret.write_text("correct horse battery staple\n")
    result = run("evidence", "export", "--store", kit.path, "--user", "analyst", "--case", "24-001234", "--item",
                 "E-18", "--reason", "for the DA", "--out", tmp_path / "enc", "--plate", PLATE, "--purpose",
                 "criminal investigation", "--passphrase-file", secret, password=kit.passwords["analyst"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "enc"
    assert sorted(p.name for p in folder.iterdir()) == ["custody.jsonl", "encryption.json", "manifest.json",
                                                       "package.enc"]
    assert PLATE.encode() not in (folder / "package.enc").read_bytes()
    assert not verify_package(folder).contents_checked
    assert verify_package(folder, EvidenceKey(passphrase="correct horse battery staple")).ok
    wrong = verify_package(folder, EvidenceKey(passphrase="wrong horse battery staple"))
    assert not wrong.ok and "does not open" in wrong.problem
    assert run("evidence", "verify", folder, "--passphrase-file", secret).exit_code == 0
    out = tmp_path / "opened"
    kit.login("analyst").evidence.decrypt(folder, out, passphrase="correct horse battery staple",
                                          purpose="stolen plates")
    assert sorted(pl.read_parquet(out / "reads.parquet")["read_id"]) == sorted(of_plate["read_id"])
    data = bytearray((folder / "package.enc").read_bytes())
    data[100] ^= 0x01
    (folder / "package.enc").write_bytes(bytes(data))
    assert verify_package(folder).problem.startswith("changed file: package.enc")

    key_file = tmp_path / "keys" / "evidence.key"
    package = _export(kit, tmp_path / "enc2", key_file=str(key_file))
    assert package.encrypted and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert verify_package(tmp_path / "enc2", EvidenceKey(key_file=key_file)).ok
    with pytest.raises(alpr.ValidationError):
        EvidenceKey(passphrase="short")


def test_exports_need_a_case_purpose_and_permission(stocked, tmp_path):
    kit, _, _ = stocked
    with pytest.raises(alpr.AccessDenied):
        kit.login("analyst").evidence.export(tmp_path / "x", item="1", reason="r", plate=PLATE,
                                             purpose="criminal investigation")
    with pytest.raises(alpr.AccessDenied):
        kit.login("auditor").evidence.export(tmp_path / "y", item="1", reason="r", plate=PLATE, **INVESTIGATION)
    os.makedirs(tmp_path / "full")
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(alpr.ValidationError, match="not an empty folder"):
        _export(kit, tmp_path / "full")
