"""Log in once per JupyterLab (issue 11, item 1): a ticket resumes a still-valid session, under every rule of
that session, audited; Voila never resumes; logout, disabling and expiry end it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

import alpr_lib as alpr
from alpr_lib.access.tickets import ticket_path
from alpr_lib.records import sessions as session_rows
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now


@pytest.fixture
def kit(any_kit):
    return any_kit


@pytest.fixture
def headless(kit, tmp_path, monkeypatch):
    """The analyst's credentials in the environment, as a headless notebook has them."""
    secret = tmp_path / "pw"
    secret.write_text(kit.passwords["analyst"])
    monkeypatch.setenv("ALPR_USER", "analyst")
    monkeypatch.setenv("ALPR_PASSWORD_FILE", str(secret))
    return kit


def _notebook_login(kit):
    return alpr.login(store=kit.path, client="notebook")


def _records(kit, action):
    store = Store.open(kit.path)
    try:
        return [r for r in store.audit.rows() if r["action"] == action]
    finally:
        store.close()


def test_a_second_notebook_resumes_the_session_and_says_so_in_the_log(headless):
    kit = headless
    first = _notebook_login(kit)
    store_id = Store.open(kit.path).store_id
    path = ticket_path(store_id)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    token = json.loads(path.read_text())["token"]
    logins = len(_records(kit, "login"))
    second = _notebook_login(kit)
    assert second.session_id == first.session_id and len(_records(kit, "login")) == logins
    resumed = _records(kit, "session.resume")
    assert len(resumed) == 1 and resumed[0]["session_id"] == first.session_id
    second.search_plates("7AB*", purpose="stolen plates")  # the resumed session works ...
    row = session_rows.get(Store.open(kit.path).db, first.session_id)
    assert token not in json.dumps(row) and row["ticket_hash"]  # ... and the database holds only a hash
    second.logout()
    assert not path.exists()
    third = _notebook_login(kit)  # after logout: a fresh login, not a resume
    assert third.session_id != first.session_id and len(_records(kit, "session.resume")) == 1


def test_an_idle_or_ended_session_is_not_resumed(headless):
    kit = headless
    first = _notebook_login(kit)
    store = Store.open(kit.path)
    idle = iso(utc_now() - timedelta(minutes=store.config.session_idle_minutes + 1))
    store.db.execute("UPDATE sessions SET last_seen_at = ? WHERE session_id = ?", (idle, first.session_id))
    second = _notebook_login(kit)
    assert second.session_id != first.session_id
    assert "idle" in session_rows.get(store.db, first.session_id)["end_reason"]
    kit.login("admin").admin.disable_user("analyst")
    with pytest.raises(alpr.AuthError):
        _notebook_login(kit)  # the disabled account's session ended; the password login is refused too


def test_voila_never_resumes(headless, monkeypatch):
    kit = headless
    first = _notebook_login(kit)
    monkeypatch.setenv("VOILA_KERNEL_ID", "k-1")
    second = _notebook_login(kit)
    assert second.session_id != first.session_id


def test_a_forged_ticket_or_another_users_ticket_resumes_nothing(headless, monkeypatch):
    kit = headless
    first = _notebook_login(kit)
    path = ticket_path(Store.open(kit.path).store_id)
    path.write_text(json.dumps({"username": "analyst", "token": "guess"}))
    assert _notebook_login(kit).session_id != first.session_id
    # a ticket of the analyst does not resume for someone who asks to be the supervisor
    secret = path.parent.parent / "sup.pw"
    secret.write_text(kit.passwords["supervisor"])
    monkeypatch.setenv("ALPR_USER", "supervisor")
    monkeypatch.setenv("ALPR_PASSWORD_FILE", str(secret))
    assert _notebook_login(kit).username == "supervisor"


def test_a_user_who_cannot_reach_reads_is_told_at_login(kit, capsys):
    trainee = kit.login("trainee")
    assert "certification" in trainee.access_note() and "Note" in trainee._repr_markdown_()
    assert "Training Sergeant" in capsys.readouterr().err
    assert "service account" in kit.login("ingest").access_note()
    assert kit.login("analyst").access_note() is None
