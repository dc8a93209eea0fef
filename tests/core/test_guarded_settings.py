"""Settings that guard access or the audit log come only from the records database (audited) and, for the
audit key and checkpoint locations, from a trusted system file: never from the caller's environment or from
a file inside the store (issue 10, item 3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import alpr_lib as alpr
from alpr_lib.cli.main import cli
from alpr_lib.store.store import Store
from tests.conftest import PASSWORDS, make_kit


@pytest.fixture
def kit(tmp_path):
    return make_kit(tmp_path / "store")


def _system_file() -> Path:
    return Path.home() / ".config" / "alpr" / "audit.toml"


ATTACK_ENV = {
    "ALPR_LOCKOUT_FAILURES": "1000000", "ALPR_LOCKOUT_MINUTES": "1", "ALPR_SESSION_MAX_HOURS": "10000",
    "ALPR_SESSION_IDLE_MINUTES": "100000", "ALPR_PURPOSES": '[{"name": "curiosity"}]',
    "ALPR_CASE_NUMBER_PATTERN": ".*", "ALPR_RETENTION_DAYS": "100000", "ALPR_PASSWORD_MIN_LENGTH": "8",
    "ALPR_OFFENSE_LIMITS": '{"other": {"max_radius_m": 100000}}', "ALPR_BASEMAP_STYLE_URL": "https://tiles.example",
}


def test_the_callers_environment_changes_no_guarded_setting(kit, tmp_path, monkeypatch):
    before = Store.open(kit.path)
    config, key = before.config.as_dict(), before.audit_key.path
    evil = tmp_path / "evil"
    monkeypatch.setenv("ALPR_KEY_DIR", str(evil / "keys"))
    monkeypatch.setenv("ALPR_CHECKPOINT_DIR", str(evil / "checkpoints"))
    for name, value in ATTACK_ENV.items():
        monkeypatch.setenv(name, value)
    after = Store.open(kit.path)
    assert after.config.as_dict() == config and set(after.config.sources.values()) <= {"default",
                                                                                        "records database"}
    assert after.audit_key.path == key and not evil.exists()
    analyst = kit.login("analyst")
    with pytest.raises(alpr.AccessDenied, match="not an authorised"):
        analyst.search_plates("7AB*", purpose="curiosity")
    for _ in range(5):
        with pytest.raises(alpr.AuthError):
            alpr.login("auditor", "wrong-password-0", kit.path)
    with pytest.raises(alpr.AuthError, match="locked"):  # the department's 5, not the environment's million
        kit.login("auditor")


def test_files_inside_the_store_change_no_setting_and_point_at_no_key(kit, tmp_path):
    attacker_keys = tmp_path / "attacker"
    attacker_keys.mkdir(mode=0o700)
    (kit.path / "department.toml").write_text(
        f'key_dir = "{attacker_keys}"\ncheckpoint_dir = "{attacker_keys}"\nlockout_failures = 1000000\n'
        'purposes = [{name = "curiosity"}]\n')
    store = Store.open(kit.path)
    assert store.audit_key.path.parent != attacker_keys and store.config.lockout_failures == 5
    assert store.config.purpose("curiosity") is None
    kit.login("analyst").search_plates("7AB*", purpose="stolen plates")
    assert not any(attacker_keys.iterdir()) and store.audit.verify().ok


def test_settings_change_only_through_the_audited_administrator_action(kit):
    admin = kit.login("admin")
    admin.admin.set_setting("lockout_failures", 3)
    record = kit.login("auditor").audit_records(action="settings.set").row(-1, named=True)
    query = json.loads(record["query"])
    assert (query["setting"], query["old_value"], query["new_value"]) == ("lockout_failures", 5, 3)
    assert record["username"] == "admin" and record["outcome"] == "allowed"
    listed = {r["name"]: r for r in admin.admin.settings().iter_rows(named=True)}
    assert listed["lockout_failures"]["value"] == "3" and listed["lockout_failures"]["source"] == "records database"
    assert listed["key_dir"]["source"] == str(_system_file())
    with pytest.raises(alpr.ValidationError, match="365"):
        admin.admin.set_setting("retention_days", 30)  # Government Code 34090.6: at least one year
    with pytest.raises(alpr.ValidationError, match="audit system file"):
        admin.admin.set_setting("key_dir", "/tmp/mine")
    with pytest.raises(alpr.AccessDenied):
        kit.login("analyst").admin.set_setting("lockout_failures", 1000)


def test_first_settings_are_given_at_init_and_recorded(tmp_path):
    runner = CliRunner()
    password = tmp_path / "pw"
    password.write_text(PASSWORDS["admin"])
    env = {"ALPR_PASSWORD_FILE": str(password)}
    out = runner.invoke(cli, ["init", "--store", str(tmp_path / "s"), "--admin", "custodian", "--full-name", "C",
                              "--title", "Chief", "--setting", "lockout_failures=7",
                              "--setting", "password_hash_time_cost=1", "--setting", "password_hash_memory_kib=8192"],
                        env=env)
    assert out.exit_code == 0, out.output
    store = Store.open(tmp_path / "s")
    assert store.config.lockout_failures == 7 and store.config.sources["lockout_failures"] == "records database"
    init = next(r for r in store.audit.rows() if r["action"] == "store.init")
    assert json.loads(init["query"])["settings"]["lockout_failures"] == "7"
    bad = runner.invoke(cli, ["init", "--store", str(tmp_path / "t"), "--admin", "custodian", "--full-name", "C",
                              "--title", "Chief", "--setting", "retention_days=10"], env=env)
    assert bad.exit_code != 0 and "365" in bad.output and "Traceback" not in bad.output


def test_the_system_file_must_be_the_store_owners_and_not_writable_by_others(kit):
    path = _system_file()
    path.chmod(0o622)
    with pytest.raises(alpr.ConfigError, match="writable by group or others"):
        Store.open(kit.path)
    path.chmod(0o600)
    path.write_text(path.read_text() + 'lockout_failures = 1000000\n')
    with pytest.raises(alpr.ConfigError, match="unknown settings"):  # it holds the two locations only
        Store.open(kit.path)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_system_file_or_key_owned_by_someone_else_is_refused(kit):
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    path = _system_file()
    os.chown(path, nobody, -1)
    with pytest.raises(alpr.ConfigError, match="not by the store's owner"):
        Store.open(kit.path)
    os.chown(path, 0, -1)
    key = Store.open(kit.path).audit_key.path
    os.chown(key, nobody, -1)
    with pytest.raises(alpr.AuditIntegrityError, match="not by the store's owner"):
        kit.login("analyst")


def test_a_key_others_can_write_is_refused(kit):
    key = Store.open(kit.path).audit_key.path
    key.chmod(0o666)
    with pytest.raises(alpr.AuditIntegrityError, match="writable by group or others"):
        kit.login("analyst")
    key.chmod(0o600)
    kit.login("analyst")


def test_store_toml_alone_cannot_make_an_operational_store_synthetic(tmp_path):
    """Only a demo store may run the door under a synthetic clock or set passwords that need no change; the
    flag must be in the records database too, so editing store.toml changes nothing."""
    from alpr_lib.access.door import synthetic_clock
    from alpr_lib.bootstrap import init_store
    from tests.conftest import TEST_SETTINGS

    path = tmp_path / "real"
    init_store(path, admin_username="admin", admin_password=PASSWORDS["admin"], full_name="A. Admin",
               title="Administrator", organisation="PD", settings=TEST_SETTINGS).close()
    toml = path / "store.toml"
    toml.write_text(toml.read_text().replace("synthetic = false", "synthetic = true"))
    assert "synthetic = true" in toml.read_text()
    assert Store.open(path).synthetic is False
    s = alpr.login("admin", PASSWORDS["admin"], path, client="script", new_password="A-new-pass-00042")
    with pytest.raises(alpr.AccessDenied), synthetic_clock(s, lambda: s._door.now()):
        pass
