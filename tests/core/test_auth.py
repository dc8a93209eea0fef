"""Login, lockout, disabled accounts, forced password change, service accounts, session expiry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import alpr_lib as alpr
from alpr_lib.auth import users
from alpr_lib.store.store import Store
from alpr_lib.timeutil import utc_now


def _last_login(kit, name: str) -> dict:
    rows = kit.login("auditor").audit_records(action="login", username=name)
    return rows.row(-1, named=True)


@pytest.fixture
def kit(any_kit):
    """Every test here runs on SQLite and on PostgreSQL."""
    return any_kit


def test_wrong_password_is_refused_and_audited(kit):
    with pytest.raises(alpr.AuthError, match="unknown username or wrong password"):
        alpr.login("analyst", "not-the-password-1", kit.path)
    record = _last_login(kit, "analyst")
    assert record["outcome"] == "denied"
    assert record["organisation"] == "Milpitas Police Department"


def test_unknown_user_reads_like_a_wrong_password_and_is_audited(kit):
    with pytest.raises(alpr.AuthError, match="unknown username or wrong password"):
        alpr.login("nobody", "whatever-pass-1", kit.path)
    record = _last_login(kit, "(unknown username)")
    assert (record["outcome"], record["organisation"]) == ("denied", "unknown")
    assert json.loads(record["query"]) == {"username_length": len("nobody")}


@pytest.mark.parametrize("typed", ["Crime-pass-0002", "crime-pass-0002", "Tr0ub4dor&3 horse", "analyst-pw-1\t"])
def test_a_password_typed_as_the_username_never_reaches_the_audit_log(kit, typed):
    """An unknown username is recorded as '(unknown username)' and its length: it may be someone's password."""
    with pytest.raises(alpr.AuthError):
        alpr.login(typed, kit.passwords["analyst"], kit.path)
    store = Store.open(kit.path)
    try:
        rows = store.audit.rows()
    finally:
        store.close()
    assert typed.strip().lower() not in json.dumps(rows, default=str).lower()
    assert rows[-1]["username"] == "(unknown username)"
    assert json.loads(rows[-1]["query"]) == {"username_length": len(typed.strip())}


def test_a_known_username_is_recorded_as_itself(kit):
    with pytest.raises(alpr.AuthError):
        alpr.login("  Analyst ", "not-the-password-1", kit.path)
    record = _last_login(kit, "analyst")
    assert (record["outcome"], record["query"]) == ("denied", "{}")


def test_five_failures_lock_the_account_even_for_the_right_password(kit):
    for _ in range(4):
        with pytest.raises(alpr.AuthError, match="wrong password"):
            alpr.login("analyst", "bad-password-11", kit.path)
    with pytest.raises(alpr.AuthError, match="now locked for 15 minutes"):
        alpr.login("analyst", "bad-password-11", kit.path)
    with pytest.raises(alpr.AuthError, match="is locked"):
        kit.login("analyst")
    store = Store.open(kit.path)
    later = utc_now() + timedelta(minutes=16)
    assert users.authenticate(store.db, store.config, "analyst", kit.passwords["analyst"], now=later)


def test_success_resets_the_failure_count(kit):
    for _ in range(4):
        with pytest.raises(alpr.AuthError):
            alpr.login("analyst", "bad-password-11", kit.path)
    kit.login("analyst")
    for _ in range(4):
        with pytest.raises(alpr.AuthError, match="wrong password"):
            alpr.login("analyst", "bad-password-11", kit.path)


def test_disabled_account_cannot_log_in(kit):
    kit.login("admin").admin.disable_user("analyst")
    with pytest.raises(alpr.AuthError, match="disabled"):
        kit.login("analyst")
    kit.login("admin").admin.enable_user("analyst")
    assert kit.login("analyst").username == "analyst"


def test_reset_password_must_be_changed_before_use(kit):
    kit.login("admin").reset_password("analyst", "Temporary-pw-77")
    with pytest.raises(alpr.AuthError, match="must be changed"):
        alpr.login("analyst", "Temporary-pw-77", kit.path)
    with pytest.raises(alpr.ValidationError, match="at least 12"):
        alpr.login("analyst", "Temporary-pw-77", kit.path, new_password="short1")
    session = alpr.login("analyst", "Temporary-pw-77", kit.path, new_password="Brand-new-pw-88")
    assert session.password_changed_at_login
    assert alpr.login("analyst", "Brand-new-pw-88", kit.path).username == "analyst"


@pytest.mark.parametrize("password, message", [
    ("short-1", "at least 12"),
    ("onlyletterslong", "mix letters"),
    ("analyst-password-1", "username"),
    ("aaaa1111aaaa1111", "5 different"),
])
def test_password_rules(kit, password, message):
    with pytest.raises(alpr.ValidationError, match=message):
        kit.login("admin").add_user("analyst", full_name="X", title="Y", organisation="Z", roles=["analyst"],
                                    password=password)


def test_user_needs_title_and_known_roles(kit):
    admin = kit.login("admin")
    with pytest.raises(alpr.ValidationError, match="title"):
        admin.add_user("newbie", full_name="N", title=" ", organisation="Z", roles=["analyst"],
                       password="Good-password-9")
    with pytest.raises(alpr.ValidationError, match="unknown role"):
        admin.add_user("newbie", full_name="N", title="T", organisation="Z", roles=["wizard"],
                       password="Good-password-9")
    with pytest.raises(alpr.ValidationError, match="service account holds only"):
        admin.add_user("svc2", full_name="N", title="T", organisation="Z", roles=["analyst"],
                       password="Good-password-9", member_type="service")


def test_service_account_can_ingest_but_never_search(kit):
    from tests.conftest import random_reads

    svc = kit.login("ingest")
    assert svc.ingest_reads(random_reads(20), progress=False).ingested == 20
    with pytest.raises(alpr.AccessDenied, match="service account"):
        svc.search_plates("7AB*", purpose="stolen plates")


def test_roles_limit_what_a_user_may_do(kit):
    with pytest.raises(alpr.AccessDenied, match="may not"):
        kit.login("analyst").audit_records()
    with pytest.raises(alpr.AccessDenied, match="may not"):
        kit.login("auditor").search_plates("7AB*", purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied, match="may not"):
        kit.login("analyst").certify("trainee")


def test_session_expires_after_idle_time_and_max_age(kit):
    session = kit.login("analyst")
    session._door._last_seen = utc_now() - timedelta(minutes=31)  # the door keeps the session's clock
    with pytest.raises(alpr.AuthError, match="idle"):
        session.search_plates("7AB*", purpose="stolen plates")
    with pytest.raises(alpr.AuthError, match="ended"):
        session.search_plates("7AB*", purpose="stolen plates")
    old = kit.login("analyst")
    old._door.started_at = utc_now() - timedelta(hours=8, minutes=1)
    with pytest.raises(alpr.AuthError, match="8 hours"):
        old.plate_history("7ABK123", purpose="stolen plates")
    denied = kit.login("auditor").audit_records(username="analyst", outcome="denied")
    assert denied.height == 3 and denied["reason"].str.contains("expired").all()


def test_headless_login_reads_user_and_password_file(kit, tmp_path, monkeypatch):
    secret = tmp_path / "pw"
    secret.write_text(kit.passwords["analyst"] + "\n")
    monkeypatch.setenv("ALPR_USER", "analyst")
    monkeypatch.setenv("ALPR_PASSWORD_FILE", str(secret))
    monkeypatch.setenv("ALPR_STORE", str(kit.path))
    session = alpr.login()
    assert session.username == "analyst" and session.client == "script"
    monkeypatch.setenv("ALPR_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(alpr.AuthError, match="cannot read the password file"):
        alpr.login()


def test_interactive_login_prompts_with_getpass(kit, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "analyst")
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or kit.passwords["analyst"])
    monkeypatch.setenv("ALPR_STORE", str(kit.path))
    assert alpr.login().username == "analyst"
    assert prompts == ["Password for analyst: "]


def test_no_store_gives_a_clear_error(tmp_path):
    with pytest.raises(alpr.StoreError, match="ALPR_STORE"):
        alpr.login("a", "b")
    with pytest.raises(alpr.StoreError, match="not an ALPR store"):
        alpr.login("a", "b", tmp_path)


def test_password_hashes_are_argon2id_and_never_the_password(kit):
    store = Store.open(kit.path)
    rows = store.db.query("SELECT password_hash FROM users")
    assert all(r["password_hash"].startswith("$argon2id$") for r in rows)
    if kit.records_url:  # everything the users table holds, as the server stores it
        text = "\n".join(str(r) for r in store.db.query("SELECT * FROM users")).encode()
    else:
        text = (kit.path / "records.db").read_bytes()
    assert all(p.encode() not in text for p in kit.passwords.values())


@pytest.mark.parametrize("how", ["disable", "reset"])
def test_disabling_or_resetting_an_account_ends_its_open_sessions(kit, how):
    """Issue 10 (4): a session must not outlive its account's access; the ending is audited."""
    analyst = kit.login("analyst")
    analyst.store_summary()
    admin = kit.login("admin")
    if how == "disable":
        admin.admin.disable_user("analyst")
    else:
        admin.reset_password("analyst", "Temporary-pw-777")
    with pytest.raises(alpr.AuthError, match=r"account disabled|password reset"):
        analyst.store_summary()
    log = kit.login("auditor").audit_records(username="analyst")
    assert log["outcome"].to_list()[-1] == "denied"
    change = kit.login("auditor").audit_records(username="admin")
    assert '"sessions_ended":1' in change["query"].to_list()[-1].replace(" ", "")
