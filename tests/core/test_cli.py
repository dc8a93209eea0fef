"""The ``alpr`` command line: clear errors, non-zero exits, --help everywhere."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from alpr_lib.cli.main import cli
from tests.conftest import random_reads


@pytest.fixture
def run(monkeypatch, tmp_path):
    def invoke(*args: str, password: str | None = None, user_input: str | None = None):
        if password is not None:
            file = tmp_path / "pw"
            file.write_text(password)
            monkeypatch.setenv("ALPR_PASSWORD_FILE", str(file))
        else:
            monkeypatch.delenv("ALPR_PASSWORD_FILE", raising=False)
        return CliRunner().invoke(cli, list(args), input=user_input)
    return invoke


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help(run):
    for path in _commands(cli):
        result = run(*path, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output, path


def test_init_creates_a_store_whose_admin_must_change_the_password(run, tmp_path):
    store = tmp_path / "s"
    result = run("init", "--store", str(store), "--admin", "boss", "--full-name", "Pat Boss", "--title",
                 "ALPR Administrator", password="Initial-pass-42")
    assert result.exit_code == 0, result.output
    assert "must change the password" in result.output
    again = run("init", "--store", str(store), "--admin", "x", "--full-name", "X", "--title", "Y",
                password="Initial-pass-42")
    assert again.exit_code == 1 and "not empty" in again.output
    listing = run("users", "list", "--store", str(store), "--user", "boss", password="Initial-pass-42")
    assert listing.exit_code == 1 and "must be changed" in listing.output
    changed = run("users", "passwd", "--store", str(store), "--user", "boss",
                  user_input="Initial-pass-42\nChanged-pass-43\nChanged-pass-43\n")
    assert changed.exit_code == 0, changed.output
    ok = run("users", "list", "--store", str(store), "--user", "boss", password="Changed-pass-43")
    assert ok.exit_code == 0 and "boss" in ok.output


def test_users_add_certify_and_search(run, kit, tmp_path):
    result = run("users", "add", "--store", str(kit.path), "--user", "admin", "newanalyst", "--full-name",
                 "New Analyst", "--title", "Crime Analyst", "--role", "analyst", password=kit.passwords["admin"],
                 user_input="Fresh-start-991\nFresh-start-991\n")
    assert result.exit_code == 0, result.output
    cert = run("users", "certify", "--store", str(kit.path), "--user", "trainer", "analyst",
               password=kit.passwords["trainer"])
    assert cert.exit_code == 0, cert.output
    csv = tmp_path / "reads.csv"
    random_reads(100, seed=4).write_csv(csv)
    ingest = run("ingest", "--store", str(kit.path), "--user", "ingest", str(csv), password=kit.passwords["ingest"])
    assert ingest.exit_code == 0 and "100 ingested" in ingest.output
    out = tmp_path / "hits.csv"
    found = run("search", "--store", str(kit.path), "--user", "analyst", "7ABK123", "--purpose",
                "criminal investigation", "--case", "24-001234", "-o", str(out), password=kit.passwords["analyst"])
    assert found.exit_code == 0, found.output
    assert out.read_text().startswith("read_id,plate")
    refused = run("search", "--store", str(kit.path), "--user", "analyst", "7ABK123", "--purpose",
                  "criminal investigation", password=kit.passwords["analyst"])
    assert refused.exit_code == 1 and "requires a case number" in refused.output
    assert "Traceback" not in refused.output
    bad = run("search", "--store", str(kit.path), "--user", "analyst", "7*", "--purpose", "stolen plates",
              password=kit.passwords["analyst"])
    assert bad.exit_code == 1 and "at least 3" in bad.output


def test_ingest_reports_rejected_rows_with_exit_status_3(run, kit, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("plate,plate_confidence,captured_at,camera_id,lat,lon\n"
                   "7ABC123,90,2026-06-01T10:00:00Z,C1,37.4,-121.9\n"
                   "7AB#123,90,2026-06-01T10:00:00Z,C1,37.4,-121.9\n")
    rejects = tmp_path / "rejects.csv"
    result = run("ingest", "--store", str(kit.path), "--user", "ingest", str(csv), "--rejects", str(rejects),
                 password=kit.passwords["ingest"])
    assert result.exit_code == 3
    assert "row 2: plate" in result.output and "1 ingested" in result.output
    assert "characters other than" in rejects.read_text()


def test_compact_merges_batches_and_keeps_every_read(run, kit, tmp_path):
    for seed in range(3):
        csv = tmp_path / f"reads{seed}.csv"
        random_reads(200, seed=seed, prefix=f"K{seed}-").write_csv(csv)
        assert run("ingest", "--store", str(kit.path), "--user", "ingest", str(csv),
                   password=kit.passwords["ingest"]).exit_code == 0
    result = run("compact", "--store", str(kit.path), "--user", "ingest", password=kit.passwords["ingest"])
    assert result.exit_code == 0, result.output
    merged = re.search(r"compacted: (\d+) file\(s\) merged into (\d+)", result.output)
    assert merged and int(merged[1]) > int(merged[2]) > 0, result.output
    refused = run("compact", "--store", str(kit.path), "--user", "analyst", password=kit.passwords["analyst"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    summary = run("search", "--store", str(kit.path), "--user", "analyst", "7ABK123", "--purpose",
                  "stolen plates", password=kit.passwords["analyst"])
    assert summary.exit_code == 0, summary.output


def test_wrong_store_and_wrong_password_are_one_line_errors(run, kit, tmp_path):
    missing = run("search", "--store", str(tmp_path / "nope"), "--user", "analyst", "7ABK123", "--purpose", "x",
                  password="whatever-123")
    assert missing.exit_code == 1 and "not an ALPR store" in missing.output
    wrong = run("history", "--store", str(kit.path), "--user", "analyst", "7ABK123", "--purpose", "stolen plates",
                password="not-it-at-all-1")
    assert wrong.exit_code == 1 and "wrong password" in wrong.output


def test_audit_show_is_for_auditors(run, kit):
    shown = run("audit", "show", "--store", str(kit.path), "--user", "auditor", "--action", "login",
                password=kit.passwords["auditor"])
    assert shown.exit_code == 0 and "login" in shown.output
    refused = run("audit", "show", "--store", str(kit.path), "--user", "analyst", password=kit.passwords["analyst"])
    assert refused.exit_code == 1 and "may not" in refused.output
    export = run("audit", "export", "--store", str(kit.path), "--user", "analyst", password=kit.passwords["analyst"])
    assert export.exit_code == 1
    records = [json.loads(x) for x in run("audit", "export", "--store", str(kit.path), "--user", "auditor",
                                           password=kit.passwords["auditor"]).stdout.splitlines()]
    assert any(r["action"] == "audit.export" and r["outcome"] == "denied" for r in records)
