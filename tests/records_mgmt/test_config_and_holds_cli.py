"""Configuration changes are audited actions with old and new values (issue 13, part 5: retention, purposes,
offense limits, sharing settings and role grants); external sharing cannot be switched on; and the holds
command line (part 2): add prints the new id alone on its last line, list, release by supervisor only."""

from __future__ import annotations

import json

import pytest

import alpr_lib as alpr
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.conftest import random_reads


def _last(kit, action: str, outcome: str = "allowed") -> dict:
    store = Store.open(kit.path)
    try:
        row = store.audit.rows(AuditFilter(action=action, outcome=outcome))[-1]
        return {**row, "query": json.loads(row["query"])}
    finally:
        store.close()


def test_setting_changes_and_role_grants_are_audited_with_old_and_new_values(kit):
    admin = kit.login("admin").admin
    admin.set_setting("purposes", [{"name": "stolen plates"}, {"name": "criminal investigation",
                                                               "requires_case": True}])
    record = _last(kit, "settings.set")
    assert record["query"]["setting"] == "purposes" and len(record["query"]["old_value"]) == 10
    admin.set_setting("offense_limits", {"theft": {"max_radius_m": 400}})
    assert _last(kit, "settings.set")["query"]["old_value"] == {}
    with pytest.raises(alpr.ValidationError, match="1798"):
        admin.set_setting("external_sharing", "nationwide")
    refused = _last(kit, "settings.set", "error")
    assert refused["query"]["setting"] == "external_sharing" and refused["query"]["new_value"] == "nationwide"
    grant = admin.set_roles("trainee", ["analyst", "supervisor"])
    assert grant["old_roles"] == ["analyst"] and grant["new_roles"] == ["analyst", "supervisor"]
    record = _last(kit, "users.set_roles")
    assert record["query"]["old_roles"] == ["analyst"] and record["query"]["granted"] == ["supervisor"]
    with pytest.raises(alpr.ValidationError, match="unknown role"):
        admin.set_roles("trainee", ["superuser"])
    with pytest.raises(alpr.AccessDenied):
        kit.login("analyst").admin.set_roles("analyst", ["administrator"])


def test_holds_on_the_command_line(kit, run):
    kit.login("ingest").ingest_reads(random_reads(100), progress=False)
    added = run("holds", "add", "--store", kit.path, "--user", "analyst", "--case", "24-001234", "--reason",
                "vehicle seen at the scene", "--plate", "7ABK123", "--purpose", "criminal investigation",
                password=kit.passwords["analyst"])
    assert added.exit_code == 0, added.output
    hold_id = added.output.strip().splitlines()[-1]
    assert hold_id.startswith("H") and " " not in hold_id
    listing = run("holds", "list", "--store", kit.path, "--user", "analyst", password=kit.passwords["analyst"])
    assert listing.exit_code == 0 and hold_id in listing.output and "active" in listing.output
    shown = run("search", "7ABK123", "--store", kit.path, "--user", "analyst", "--purpose", "stolen plates",
                "--exact", password=kit.passwords["analyst"])
    assert hold_id in shown.output  # shown wherever a read is shown
    refused = run("holds", "release", hold_id, "--reason", "done", "--store", kit.path, "--user", "analyst",
                  password=kit.passwords["analyst"])
    assert refused.exit_code != 0 and "may not" in refused.output
    released = run("holds", "release", hold_id, "--reason", "case closed", "--store", kit.path, "--user",
                   "supervisor", password=kit.passwords["supervisor"])
    assert released.exit_code == 0, released.output
    assert "released" in run("holds", "list", "--store", kit.path, "--user", "analyst",
                             password=kit.passwords["analyst"]).output
    record = _last(kit, "holds.release")
    assert record["username"] == "supervisor" and record["query"]["reason"] == "case closed"
    by_id = run("holds", "add", "--store", kit.path, "--user", "analyst", "--case", "24-001234", "--reason", "r",
                "--read-id", "T0000001", "--read-id", "NOPE", "--purpose", "criminal investigation",
                password=kit.passwords["analyst"])
    assert by_id.exit_code != 0 and "NOPE" in by_id.output
