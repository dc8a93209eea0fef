"""The audit log: every access path recorded, written before results, and tampering detected."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import alpr_lib as alpr
from alpr_lib.audit.log import AuditLog, VerifyResult
from alpr_lib.cli.main import cli
from alpr_lib.store.store import Store
from tests.conftest import random_reads


@pytest.fixture
def kit(any_kit):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_kit


class Attacker:
    """Someone who can write the records database: sqlite3 on the file, or PostgreSQL's superuser with the
    append-only triggers switched off (``session_replication_role = replica``). Only the HMAC chain and the
    checkpoints outside the database catch what either does."""

    def __init__(self, kit) -> None:
        self.dialect = kit.backend
        if kit.records_url:
            import psycopg
            from psycopg.rows import dict_row

            self.con = psycopg.connect(kit.records_url, autocommit=True, row_factory=dict_row)
            self.con.execute("SET session_replication_role = replica")
        else:
            self.con = sqlite3.connect(kit.path / "records.db", isolation_level=None)
            self.con.row_factory = sqlite3.Row

    def execute(self, sql: str, params: tuple = ()) -> None:
        self.con.execute(sql.replace("?", "%s") if self.dialect == "postgresql" else sql, params)

    def rows(self, sql: str, params: tuple = ()) -> list[dict]:
        query = sql.replace("?", "%s") if self.dialect == "postgresql" else sql
        return [dict(r) for r in self.con.execute(query, params).fetchall()]


@pytest.fixture
def busy(kit):
    """A store with reads and a few dozen audit records of every kind."""
    kit.login("ingest").ingest_reads(random_reads(200), progress=False)
    analyst = kit.login("analyst")
    analyst.search_plates("7AB?12*", purpose="criminal investigation", case_number="24-001234")
    analyst.plate_history("7ABK123", purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied):
        kit.login("trainee").search_plates("7AB*", purpose="stolen plates")
    with pytest.raises(alpr.AuthError):
        alpr.login("analyst", "wrong-password-9", kit.path)
    return kit


def _verify(kit) -> VerifyResult:
    return Store.open(kit.path).audit.verify()


def _db(kit) -> Attacker:
    return Attacker(kit)


def test_every_access_path_is_recorded_with_the_civil_code_fields(busy):
    analyst = busy.login("analyst")
    hits = analyst.search_plates("7ABK123", purpose="stolen plates")
    analyst.read_details(hits["read_id"][0], purpose="stolen plates")
    with pytest.raises(alpr.ValidationError):
        analyst.search_plates("7*", purpose="stolen plates")
    auditor = busy.login("auditor")
    log = auditor.audit_records()
    actions = set(log["action"].to_list())
    assert {"store.init", "login", "users.add", "training.certify", "reads.ingest", "reads.search",
            "reads.history", "reads.details"} <= actions
    outcomes = set(zip(log["action"].to_list(), log["outcome"].to_list(), strict=True))
    assert ("reads.search", "denied") in outcomes and ("login", "denied") in outcomes
    assert ("reads.search", "error") in outcomes
    search = log.filter((log["action"] == "reads.search") & (log["outcome"] == "allowed")).row(0, named=True)
    query = json.loads(search["query"])
    assert query["plate_pattern"] == "7AB?12*" and search["purpose"] == "criminal investigation"
    assert search["case_number"] == "24-001234" and search["organisation"] == "Milpitas Police Department"
    assert search["client"] == "script" and search["result_count"] >= 1
    assert set(query["plates_returned"]) >= {"7ABK123"}
    # reading the audit log is itself audited (visible to the next read)
    assert auditor.audit_records(action="audit.read").height >= 1


def test_data_elements_are_queryable_fields(busy):
    store = Store.open(busy.path)
    rows = store.db.query("SELECT a.username, e.value FROM audit_elements e JOIN audit_log a USING (seq) "
                          "WHERE e.element = 'plate_pattern'")
    assert ("analyst", "7AB?12*") in {(r["username"], r["value"]) for r in rows}


def test_record_is_written_before_results_are_returned(kit, monkeypatch):
    kit.login("ingest").ingest_reads(random_reads(50), progress=False)
    analyst = kit.login("analyst")

    def broken(self, record):
        raise OSError("disk full")

    monkeypatch.setattr(AuditLog, "append", broken)
    with pytest.raises(OSError):
        analyst.search_plates("7ABK123", purpose="stolen plates")


def test_intact_log_verifies(busy):
    result = _verify(busy)
    assert result.ok, str(result)
    assert result.records > 20


def test_edit_is_detected(busy):
    _db(busy).execute("UPDATE audit_log SET purpose = 'stolen plates' WHERE seq = 12")
    result = _verify(busy)
    assert not result.ok and result.first_bad_seq == 12 and "hash mismatch" in result.problem


def test_edit_of_a_queried_element_is_detected(busy):
    con = _db(busy)
    seq = con.rows("SELECT seq FROM audit_log WHERE action='reads.search' AND outcome='allowed'")[0]["seq"]
    edit = ("jsonb_set(query::jsonb, '{plate_pattern}', '\"8XYZ*\"')::text" if con.dialect == "postgresql"
            else "json_set(query, '$.plate_pattern', '8XYZ*')")
    con.execute(f"UPDATE audit_log SET query = {edit} WHERE seq = ?", (seq,))
    assert _verify(busy).first_bad_seq == seq


def test_delete_is_detected(busy):
    _db(busy).execute("DELETE FROM audit_log WHERE seq = 10")
    result = _verify(busy)
    assert not result.ok and result.first_bad_seq == 10


def test_reorder_is_detected(busy):
    con = _db(busy)
    con.execute("UPDATE audit_log SET seq = -1 WHERE seq = 8")
    con.execute("UPDATE audit_log SET seq = 8 WHERE seq = 9")
    con.execute("UPDATE audit_log SET seq = 9 WHERE seq = -1")
    result = _verify(busy)
    assert not result.ok and result.first_bad_seq == 8


def test_truncation_is_detected_by_the_signed_checkpoint(busy):
    total = _verify(busy).records
    _db(busy).execute("DELETE FROM audit_log WHERE seq > ?", (total - 3,))
    result = _verify(busy)
    assert not result.ok and "truncated" in result.problem and result.first_bad_seq == total - 2


def test_recomputed_chain_without_the_key_is_detected(busy):
    """An attacker rewrites a record and recomputes every hash with plain SHA-256 (no key)."""
    con = _db(busy)
    rows = con.rows("SELECT * FROM audit_log ORDER BY seq")
    rows[5]["username"] = "someone-else"
    prev = "0" * 64
    for row in rows:
        row["prev_hash"] = prev
        body = json.dumps({k: v for k, v in row.items() if k != "hash"}, sort_keys=True).encode()
        row["hash"] = hashlib.sha256(body).hexdigest()
        con.execute("UPDATE audit_log SET username=?, prev_hash=?, hash=? WHERE seq=?",
                    (row["username"], row["prev_hash"], row["hash"], row["seq"]))
        prev = row["hash"]
    result = _verify(busy)
    assert not result.ok and result.first_bad_seq == 1


def test_forged_checkpoint_is_detected(busy, monkeypatch):
    path = Store.open(busy.path).audit._checkpoints.path
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged["seq"] = 1
    path.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    assert "bad signature" in _verify(busy).problem


def test_missing_key_is_a_clear_failure(busy):
    Store.open(busy.path).audit_key.path.unlink()
    result = _verify(busy)
    assert not result.ok and "audit key" in result.problem
    with pytest.raises(alpr.AuditIntegrityError, match="audit key"):
        busy.login("analyst")


def test_key_inside_the_store_is_refused(kit):
    system_file = Path.home() / ".config" / "alpr" / "audit.toml"
    system_file.write_text(f'key_dir = "{kit.path / "keys"}"\n')
    with pytest.raises(alpr.ConfigError, match="inside the store"):
        Store.open(kit.path)


def test_cli_verify_exit_codes_and_export(busy, tmp_path, monkeypatch):
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify", "--store", str(busy.path)])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    password_file = tmp_path / "pw"
    password_file.write_text(busy.passwords["auditor"])
    monkeypatch.setenv("ALPR_PASSWORD_FILE", str(password_file))
    out = runner.invoke(cli, ["audit", "export", "--store", str(busy.path), "--user", "auditor", "--format", "jsonl"])
    assert out.exit_code == 0, out.output
    records = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    keys = {"time", "username", "organisation", "action", "query", "purpose", "case_number", "result_count",
            "client", "outcome"}
    assert records and all(keys <= set(r) for r in records)
    assert any(r["action"] == "reads.search" and r["query"].get("plate_pattern") == "7AB?12*" for r in records)
    _db(busy).execute("UPDATE audit_log SET result_count = 0 WHERE seq = 15")
    bad = runner.invoke(cli, ["audit", "verify", "--store", str(busy.path)])
    assert bad.exit_code == 4 and "seq=15" in bad.output


def test_postgresql_refuses_to_change_the_audit_table_even_for_its_owner(kit):
    """The triggers of migration 1: UPDATE, DELETE and TRUNCATE of audit_log fail for the role that owns it."""
    if kit.backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no roles (the HMAC chain is what protects it)")
    import psycopg

    with psycopg.connect(kit.records_url, autocommit=True) as con:
        for sql in ("UPDATE audit_log SET purpose = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1",
                    "TRUNCATE audit_log"):
            with pytest.raises(psycopg.Error, match="append-only"):
                con.execute(sql)
    assert _verify(kit).ok


# ---------------------------------------------------------------- issue 10: no false alarm, no hidden truncation
def _cli_verify(kit, *extra: str):
    result = CliRunner().invoke(cli, ["audit", "verify", "--store", str(kit.path), "--json", *extra])
    return result.exit_code, json.loads(result.stdout)


def _checkpoint_file(kit) -> Path:
    return Store.open(kit.path).audit._checkpoints.path


def test_a_value_of_the_wrong_type_is_audited_without_a_false_alarm(busy):
    analyst = busy.login("analyst")
    for purpose in (123, ["x"], 1.5, True, {"a": 1}):
        with pytest.raises(alpr.AlprError):
            analyst.search_plates("7AB*", purpose=purpose)
    assert _verify(busy).ok, str(_verify(busy))


def test_verify_reports_every_bad_record_not_only_the_first(busy):
    last = _verify(busy).records
    con = _db(busy)
    con.execute("UPDATE audit_log SET purpose = 'x' WHERE seq = 5")       # an edit ...
    con.execute("DELETE FROM audit_log WHERE seq IN (12, 13)")            # ... and, later, a real deletion
    con.execute("UPDATE audit_log SET username = 'nobody' WHERE seq = ?", (last - 1,))
    code, report = _cli_verify(busy)
    assert code == 4 and report["intact"] is False and report["first_bad"] == 5
    assert report["bad_ranges"] == [[5, 5], [12, 13], [last - 1, last - 1]]
    assert report["checkpoints"] == str(_checkpoint_file(busy))


def test_a_missing_checkpoint_file_is_a_finding_of_its_own(busy):
    total = _verify(busy).records
    _db(busy).execute("DELETE FROM audit_log WHERE seq > ?", (total - 4,))
    _checkpoint_file(busy).unlink()  # the truncation of issue 10: rows and the checkpoint file together
    code, report = _cli_verify(busy)
    assert code == 5 and not report["intact"] and report["status"] == "unverifiable"
    assert any(f["kind"] == "checkpoints-missing" for f in report["findings"])
    text = CliRunner().invoke(cli, ["audit", "verify", "--store", str(busy.path)]).output
    assert "intact" not in text.lower().replace("not verified", "") and "missing" in text


def test_a_shortened_checkpoint_file_is_a_finding(busy):
    path = _checkpoint_file(busy)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-3]) + "\n")  # only the checkpoint file's last lines removed
    code, report = _cli_verify(busy)
    total = report["records"]
    assert code == 5 and report["unvouched"] == [total - 2, total] and report["first_bad"] is None
    # the next audited action vouches for the chain again (what a crash between record and checkpoint needs)
    busy.login("analyst").search_plates("7AB*", purpose="stolen plates")
    assert _cli_verify(busy)[0] == 0


def test_an_anchor_catches_what_rewriting_log_and_checkpoints_together_hides(busy, tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["audit", "anchor", "--store", str(busy.path), "-o", str(tmp_path / "head.json")])
    assert out.exit_code == 0, out.output
    anchor = json.loads((tmp_path / "head.json").read_text())
    assert (tmp_path / "head.json").stat().st_mode & 0o777 == 0o600
    assert {"store_id", "seq", "hash", "time", "signature"} <= set(anchor)
    code, report = _cli_verify(busy, "--anchor", str(tmp_path / "head.json"))
    assert code == 0 and report["anchored_to"] == anchor["seq"] and report["unanchored_tail"] == 0
    busy.login("analyst").search_plates("7AB*", purpose="stolen plates")
    code, report = _cli_verify(busy)
    assert code == 0 and report["unanchored_tail"] == 2  # reported, not a failure (login + search)
    # the attacker cuts the last records, the same checkpoint lines, and the local copy of the anchors
    total = report["records"]
    _db(busy).execute("DELETE FROM audit_log WHERE seq > ?", (total - 5,))
    path = _checkpoint_file(busy)
    path.write_text("\n".join(path.read_text().splitlines()[:-5]) + "\n")
    Store.open(busy.path).audit.anchors_path.unlink()
    assert _cli_verify(busy)[0] == 0  # nothing inside reach of a store writer can tell ...
    code, report = _cli_verify(busy, "--anchor", str(tmp_path / "head.json"))
    assert code == 4 and report["bad_ranges"] == [[total - 4, anchor["seq"]]]  # ... the Custodian's anchor can


def test_a_forged_or_foreign_anchor_is_unusable_not_reassuring(busy, tmp_path):
    signed = Store.open(busy.path).audit.signed_head()
    forged = {**signed, "seq": 1}
    other = {**signed, "store_id": "someone-else"}
    for name, anchor in (("forged", forged), ("other", other), ("junk", "not json")):
        path = tmp_path / f"{name}.json"
        path.write_text(anchor if isinstance(anchor, str) else json.dumps(anchor))
        code, report = _cli_verify(busy, "--anchor", str(path))
        assert code == 5 and [f["kind"] for f in report["findings"]] == ["anchor-unusable"], report


def test_anchoring_a_tampered_log_is_refused(busy):
    _db(busy).execute("UPDATE audit_log SET purpose = 'x' WHERE seq = 3")
    out = CliRunner().invoke(cli, ["audit", "anchor", "--store", str(busy.path)])
    assert out.exit_code != 0 and "cannot be anchored" in out.output and "Traceback" not in out.output
