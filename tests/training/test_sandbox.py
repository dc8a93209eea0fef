"""The training sandbox: the department's accounts and certification records, never its reads; audited as
training; open to trainees before they are certified. And the ``alpr training`` commands."""

from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner

import alpr_lib as alpr
from alpr_lib.cli.main import cli
from alpr_lib.store.store import Store
from alpr_lib.training import sandbox_login, sandbox_path
from tests.conftest import random_reads
from tests.training.helpers import answer_all

JUNE = {"purpose": "criminal investigation", "case_number": "26-005120", "start": "2026-06-01", "end": "2026-06-30"}


@pytest.fixture
def sandboxed(any_kit):
    any_kit.login("ingest").ingest_reads(random_reads(50), progress=False)
    summary = any_kit.login("trainer").training.build_sandbox(n_reads=5000)
    return any_kit, summary


def _sandbox(kit, name: str) -> alpr.Session:
    return sandbox_login(kit.path, name, kit.passwords[name], client="script")


def _audit(path) -> list[dict]:
    store = Store.open(path)
    try:
        return store.audit.rows()
    finally:
        store.close()


def test_the_sandbox_lives_in_the_operational_store_and_shares_only_its_accounts(sandboxed):
    kit, summary = sandboxed
    path = kit.path / "training"
    assert summary["sandbox"] == str(path) and sandbox_path(kit.path) == path == sandbox_path(path)
    meta = tomllib.loads((path / "store.toml").read_text())
    assert meta["kind"] == "training" and meta["accounts_store"] == ".." and "records_url" not in meta
    assert (path / "records.db").exists()  # its own records, even when the department's are in PostgreSQL
    trainee = _sandbox(kit, "trainee")  # the department password; no account of its own
    assert trainee.store_kind == "training" and "TRAINING STORE" in repr(trainee)
    found = trainee.search_plates("7AB?12*", **JUNE)  # uncertified: the sandbox is open to trainees
    assert found["plate"][0] == "7ABK123"
    assert trainee.cases.incidents(case_number="26-004512").height == 1
    with pytest.raises(alpr.AccessDenied, match="no ALPR training certification"):  # ... the department's is not
        kit.login("trainee").search_plates("7AB?12*", **JUNE)
    operational = kit.login("analyst")
    assert operational.search_plates("7ABK123", purpose="stolen plates", exact=True)["read_id"].str.starts_with(
        "T").all()  # the operational store holds only its own reads
    assert operational.store_info.summary()["reads"] == 50


def test_access_in_the_sandbox_is_audited_there_as_training(sandboxed):
    kit, _ = sandboxed
    before = len(_audit(kit.path))
    trainee = _sandbox(kit, "trainee")
    trainee.search_plates("7AB?12*", **JUNE)
    answer = trainee.training.submit("partial-plates", "suspect-plate", "7ABK123")
    assert answer.correct
    sandbox_rows = _audit(kit.path / "training")
    assert {r["store_kind"] for r in sandbox_rows} == {"training"}
    assert [r["action"] for r in sandbox_rows][:2] == ["training.sandbox", "reads.ingest"]
    assert [r["action"] for r in sandbox_rows[-3:]] == ["login", "reads.search", "training.submit"]
    assert all(r["username"] == "trainee" for r in sandbox_rows[-3:])
    operational = _audit(kit.path)[before:]
    assert not [r for r in operational if r["username"] == "trainee"]  # nothing of it in the department's log
    # ... but the attempt is with the department's training records, where the trainer sees it
    status = kit.login("trainer").training.status("trainee")
    assert next(m for m in status.modules if m.module_id == "partial-plates").correct == 1
    assert Store.open(kit.path / "training").audit.verify().ok


def test_training_reads_never_enter_the_operational_store(sandboxed):
    kit, _ = sandboxed
    part = next((kit.path / "training" / "reads").rglob("*.parquet"))
    with pytest.raises(alpr.IngestError, match="training and operational reads never mix"):
        kit.login("ingest").ingest_reads(part, progress=False)


def test_building_the_sandbox_is_for_trainers_and_administrators_from_the_operational_store(sandboxed):
    kit, _ = sandboxed
    with pytest.raises(alpr.AccessDenied, match="may not build the training sandbox"):
        kit.login("analyst").training.build_sandbox()
    with pytest.raises(alpr.ValidationError, match="already exists"):
        kit.login("admin").training.build_sandbox()
    with pytest.raises(alpr.ValidationError, match="the training sandbox itself"):
        _sandbox(kit, "trainer").training.build_sandbox(replace=True)
    answer_all(_sandbox(kit, "trainee"), modules=("canvass",))
    kit.login("admin").training.build_sandbox(replace=True, n_reads=2000)
    status = _sandbox(kit, "trainee").training.status()  # attempts survive a rebuild
    assert next(m for m in status.modules if m.module_id == "canvass").passed


def test_a_trainee_certified_through_the_sandbox_can_search_operational_data(sandboxed):
    kit, _ = sandboxed
    answer_all(_sandbox(kit, "trainee"))
    kit.login("trainer").training.sign_off("trainee")
    assert kit.login("trainee").search_plates("7AB*", purpose="stolen plates").height > 0


def test_disabled_accounts_cannot_use_the_sandbox(sandboxed):
    kit, _ = sandboxed
    open_session = _sandbox(kit, "trainee")
    kit.login("admin").admin.disable_user("trainee")
    with pytest.raises(alpr.AuthError, match="disabled"):
        _sandbox(kit, "trainee")
    with pytest.raises(alpr.AuthError, match="disabled or suspended"):  # the open sandbox session ends too
        open_session.training.status()
    kit.login("admin").admin.enable_user("trainee")
    new = _sandbox(kit, "trainee")
    new.account.change_password(kit.passwords["trainee"], "Another-pass-0042")  # the department's account
    assert alpr.login("trainee", "Another-pass-0042", kit.path).username == "trainee"


@pytest.fixture
def run(monkeypatch, tmp_path):
    def invoke(*args: str, password: str):
        file = tmp_path / "pw"
        file.write_text(password)
        monkeypatch.setenv("ALPR_PASSWORD_FILE", str(file))
        return CliRunner().invoke(cli, list(args))
    return invoke


def test_the_training_commands(kit, run, tmp_path):
    store = str(kit.path)
    out = run("training", "sandbox", "--store", store, "--user", "trainer", "--reads", "2000",
              password=kit.passwords["trainer"])
    assert out.exit_code == 0 and "training sandbox at" in out.output, out.output
    out = run("training", "status", "--store", store, "--user", "trainee", password=kit.passwords["trainee"])
    assert out.exit_code == 0 and "0 of 8 modules passed" in out.output and "certificate: none" in out.output
    answer_all(_sandbox(kit, "trainee"))
    out = run("training", "status", "--store", store, "--user", "trainer", "--for", "trainee",
              password=kit.passwords["trainer"])
    assert "8 of 8 modules passed" in out.output and "ready for the trainer's sign-off" in out.output, out.output
    out = run("training", "sign-off", "--store", store, "--user", "admin", "trainee", password=kit.passwords["admin"])
    assert out.exit_code == 1 and "may not sign off" in out.output
    out = run("training", "sign-off", "--store", store, "--user", "trainer", "trainee",
              password=kit.passwords["trainer"])
    assert out.exit_code == 0 and "issued to trainee" in out.output, out.output
    out = run("training", "status", "--store", store, "--user", "trainee", password=kit.passwords["trainee"])
    assert "certificate: current" in out.output and "refresher due" in out.output
    out = run("training", "roster", "--store", store, "--user", "auditor", password=kit.passwords["auditor"])
    assert out.exit_code == 0 and "trainee" in out.output and "current" in out.output, out.output
    out = run("training", "certificate", "--store", store, "--user", "trainee", "-o", str(tmp_path / "c.html"),
              password=kit.passwords["trainee"])
    assert out.exit_code == 0 and "Certificate of ALPR Training" in (tmp_path / "c.html").read_text()
    out = run("training", "revoke", "--store", store, "--user", "trainer", "trainee", "--reason", "test",
              password=kit.passwords["trainer"])
    assert out.exit_code == 0 and "revoked" in out.output
    out = run("users", "reinstate", "--store", store, "--user", "supervisor", "analyst",
              password=kit.passwords["supervisor"])
    assert out.exit_code == 0 and "reinstated" in out.output
