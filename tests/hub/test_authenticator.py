"""The Hub's authenticator keeps the ALPR login rules (lockout, disabled, reset password) and audits them; the
TOTP second factor refuses wrong, replayed and missing codes."""

from __future__ import annotations

import asyncio
import os
import time

import pyotp
import pytest

from alpr_lib.hub.authenticator import ALPRAuthenticator
from alpr_lib.hub.totp import TotpStore, main


class Form:
    """What the Hub's login handler hands the authenticator (it receives the message to show)."""

    alpr_login_error: str | None = None


def _login(auth: ALPRAuthenticator, username: str, password: str, otp: str | None = None):
    handler = Form()
    data = {"username": username, "password": password}
    if otp is not None:
        data["otp"] = otp
    return asyncio.run(auth.authenticate(handler, data)), handler.alpr_login_error


def _auth(kit, **kwargs) -> ALPRAuthenticator:
    return ALPRAuthenticator(store=str(kit.path), require_os_account=False, **kwargs)


def test_right_password_logs_in_and_is_audited_with_client_hub(kit):
    user, error = _login(_auth(kit), " Analyst ", kit.passwords["analyst"])
    assert user == {"name": "analyst"} and error is None
    log = kit.login("auditor").audit_records(action="login")
    hub = log.filter(log["client"] == "hub")
    assert hub["username"].to_list() == ["analyst"] and hub["outcome"].to_list() == ["allowed"]


def test_wrong_password_lockout_and_disabled_accounts_are_refused_with_the_library_message(kit):
    auth = _auth(kit)
    for _ in range(4):
        assert _login(auth, "analyst", "bad-password-11") == (None, "login failed: unknown username or wrong password")
    user, error = _login(auth, "analyst", "bad-password-11")
    assert user is None and "now locked for 15 minutes" in error
    user, error = _login(auth, "analyst", kit.passwords["analyst"])  # the right password, but locked
    assert user is None and "is locked" in error
    kit.login("admin").admin.disable_user("trainee")
    user, error = _login(auth, "trainee", kit.passwords["trainee"])
    assert user is None and "disabled" in error
    log = kit.login("auditor").audit_records(action="login")
    denied = log.filter((log["client"] == "hub") & (log["outcome"] == "denied"))
    assert denied.height == 7 and set(denied["username"]) == {"analyst", "trainee"}


def test_a_reset_password_must_be_changed_before_the_hub_lets_you_in(kit):
    kit.login("admin").admin.reset_password("analyst", "Fresh-reset-0099")
    user, error = _login(_auth(kit), "analyst", "Fresh-reset-0099")
    assert user is None and "must be changed" in error


def test_a_user_without_an_os_account_is_told_so(kit):
    user, error = _login(ALPRAuthenticator(store=str(kit.path)), "analyst", kit.passwords["analyst"])
    assert user is None and "no account on this server" in error


def test_no_backend_configured_is_a_clear_refusal():
    user, error = _login(ALPRAuthenticator(require_os_account=False), "analyst", "whatever-password")
    assert user is None and "server_url" in error


def test_totp_is_asked_for_and_checked_before_the_password(kit, tmp_path):
    secrets_dir = tmp_path / "totp"
    auth = _auth(kit, totp_dir=str(secrets_dir))
    assert auth.request_otp
    uri = TotpStore(secrets_dir).enrol("analyst")
    assert uri.startswith("otpauth://totp/") and "issuer=ALPR%20Workbench" in uri
    assert oct(secrets_dir.stat().st_mode & 0o777) == "0o700"
    assert oct((secrets_dir / "analyst").stat().st_mode & 0o777) == "0o600"
    totp = pyotp.parse_uri(uri)
    user, error = _login(auth, "analyst", kit.passwords["analyst"], otp="000000" if totp.now() != "000000" else "1")
    assert user is None and "wrong one-time code" in error
    user, error = _login(auth, "analyst", kit.passwords["analyst"], otp=totp.now())
    assert user == {"name": "analyst"} and error is None
    user, error = _login(auth, "analyst", kit.passwords["analyst"], otp=totp.now())  # replayed
    assert user is None and "already used" in error
    user, error = _login(auth, "auditor", kit.passwords["auditor"], otp="123456")
    assert user is None and "no second factor enrolled" in error
    # the code is checked first: a wrong code never reaches the password check (no login record, no lockout)
    log = kit.login("auditor").audit_records(action="login")
    assert log.filter(log["client"] == "hub")["outcome"].to_list() == ["allowed"]


def test_too_many_wrong_codes_suspend_the_second_factor(tmp_path):
    store = TotpStore(tmp_path / "totp", max_failures=3, lockout_minutes=10)
    totp = pyotp.parse_uri(store.enrol("analyst"))
    now = time.time()
    wrong = f"{(int(totp.at(now)) + 1) % 1_000_000:06d}"
    for _ in range(3):
        with pytest.raises(Exception, match="wrong one-time code"):
            store.verify("analyst", wrong, now=now)
    with pytest.raises(Exception, match="refused for 10 minutes"):
        store.verify("analyst", totp.at(now), now=now)
    store.verify("analyst", totp.at(now + 660), now=now + 660)


def test_a_secrets_directory_others_can_read_is_refused(tmp_path):
    store = TotpStore(tmp_path / "totp")
    totp = pyotp.parse_uri(store.enrol("analyst"))
    os.chmod(tmp_path / "totp", 0o755)
    with pytest.raises(Exception, match="must belong to the Hub's account and be 0700"):
        store.verify("analyst", totp.now())


def test_enrol_and_remove_from_the_command_line(tmp_path, capsys):
    assert main(["enrol", "Analyst", "--dir", str(tmp_path / "t")]) == 0
    assert capsys.readouterr().out.startswith("otpauth://totp/ALPR%20Workbench:analyst")
    assert main(["remove", "analyst", "--dir", str(tmp_path / "t")]) == 0
    assert main(["remove", "analyst", "--dir", str(tmp_path / "t")]) == 1


def test_through_the_api_service_the_same_rules_and_messages(kit, tmp_path):
    """The department deployment: the Hub never opens the store, it asks `alpr serve` (its login route)."""
    from tests.server.conftest import api_service

    with api_service(kit.path, tmp_path / "serve.log") as url:
        auth = ALPRAuthenticator(server_url=url, require_os_account=False)
        assert _login(auth, "analyst", kit.passwords["analyst"]) == ({"name": "analyst"}, None)
        for _ in range(4):
            assert _login(auth, "analyst", "bad-password-11")[1] == "login failed: unknown username or wrong password"
        user, error = _login(auth, "analyst", "bad-password-11")
        assert user is None and "now locked for 15 minutes" in error
    log = kit.login("auditor").audit_records(action="login")
    hub = log.filter(log["client"].str.ends_with("hub"))
    assert hub["outcome"].to_list() == ["allowed", *["denied"] * 5] and set(hub["username"]) == {"analyst"}
    logouts = kit.login("auditor").audit_records(action="logout")
    assert logouts.filter(logouts["client"].str.ends_with("hub")).height == 1  # the check's session is closed
