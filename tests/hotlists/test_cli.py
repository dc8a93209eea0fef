"""``alpr hotlist`` and ``alpr alerts``: thin commands with --store/--user and the password as elsewhere."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from alpr_lib.cli.main import cli
from tests.hotlists.conftest import add_operator, reads, recent, write_list


@pytest.fixture
def run(monkeypatch, tmp_path, kit):
    def invoke(user: str, *args: str):
        file = tmp_path / f"{user}.pw"
        file.write_text(kit.passwords[user])
        monkeypatch.setenv("ALPR_PASSWORD_FILE", str(file))
        return CliRunner().invoke(cli, [*args, "--store", str(kit.path), "--user", user])
    return invoke


def test_hotlist_and_alert_commands(kit, run, tmp_path):
    add_operator(kit, grant=())
    assert run("admin", "hotlist", "grant", "supervisor", "department", "state").exit_code == 0
    out = run("admin", "hotlist", "grant", "operator", "department")
    assert out.exit_code == 0 and "operator now holds: department" in out.output
    listed = write_list(tmp_path / "l.csv", ["7ABC123,CA,stolen vehicle,2026-01-01,,grey Civic",
                                             "7ABC123,CA,stolen vehicle,,,again", "8DPR224,CA,stolen plate,,,"])
    out = run("supervisor", "hotlist", "import", str(listed), "--name", "dept", "--source", "department",
              "--report", str(tmp_path / "refused.csv"))
    assert out.exit_code == 3, out.output  # a row was refused
    assert "2 entries" in out.output and "row 2: plate" in out.output
    assert (tmp_path / "refused.csv").stat().st_mode & 0o777 == 0o600
    out = run("supervisor", "hotlist", "import", str(listed), "--name", "fed", "--source", "federal")
    assert out.exit_code == 1 and "not authorised for federal" in out.output
    out = run("operator", "hotlist", "list")
    assert out.exit_code == 0 and "dept" in out.output and "department" in out.output
    out = run("operator", "hotlist", "show", "dept")
    assert out.exit_code == 0 and "7ABC123" in out.output and "owned by supervisor" in out.output

    kit.login("ingest").ingest_reads(reads([("7ABC123", "CA", "CAM1", recent()), ("8DPR224", "CA", "CAM2", recent(1))]),
                                     progress=False)
    out = run("operator", "alerts", "list", "--json")
    assert out.exit_code == 0
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert {"alert_id", "plate", "entry_plate", "match_kind", "status"} <= set(rows[0])
    ids = {r["plate"]: r["alert_id"] for r in rows}
    out = run("operator", "alerts", "dispose", ids["7ABC123"], "--disposition", "arrest")
    assert out.exit_code == 1 and "not verified" in out.output
    out = run("operator", "alerts", "verify", ids["7ABC123"], "--clets-ref", "CLETS-77")
    assert out.exit_code == 0 and "verified" in out.output
    assert run("operator", "alerts", "dispose", ids["7ABC123"], "--disposition", "arrest").exit_code == 0
    assert run("operator", "alerts", "reject", ids["8DPR224"], "--reason", "misread").exit_code == 0
    out = run("operator", "alerts", "list", "--status", "verified", "--json")
    assert [json.loads(line)["plate"] for line in out.output.splitlines()] == ["7ABC123"]
    out = run("operator", "alerts", "list")
    assert out.exit_code == 0 and "2 alerts" in out.output
    out = run("supervisor", "alerts", "figures")
    assert out.exit_code == 0 and json.loads(out.output)["verification_rate"] == 0.5
