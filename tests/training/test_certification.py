"""Certification (policy 462.3(d), 462.8): passing every module plus the trainer's sign-off opens data access;
wrong answers, expiry, revocation and inactivity close it, each refusal saying why and what to do."""

from __future__ import annotations

from datetime import timedelta

import pytest

import alpr_lib as alpr
from alpr_lib.access.checks import check_training
from alpr_lib.auth import users
from alpr_lib.auth.certifications import certificate_state
from alpr_lib.records import users as user_rows
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now
from alpr_lib.training import load_course
from tests.conftest import random_reads
from tests.training.helpers import answer_all

SEARCH = {"purpose": "stolen plates"}


@pytest.fixture
def reads_kit(any_kit):
    any_kit.login("ingest").ingest_reads(random_reads(50), progress=False)
    return any_kit


def _records(kit, **filters):
    return kit.login("auditor").audit_records(**filters)


def test_passing_every_module_and_the_sign_off_open_access(reads_kit):
    kit = reads_kit
    trainee = kit.login("trainee")
    with pytest.raises(alpr.AccessDenied, match=r"no ALPR training certification.*training sandbox"):
        trainee.search_plates("7AB*", **SEARCH)
    course = load_course()
    assert answer_all(trainee) == course.exercise_count
    status = trainee.training.status()
    assert status.passed_all and status.progress == 1.0 and status.certificate.status == "none"
    assert "ready for the trainer's sign-off" in status.summary()
    cert = kit.login("trainer").training.sign_off("trainee")
    assert kit.login("trainee").search_plates("7AB*", **SEARCH).height > 0  # the new session is certified
    status = kit.login("trainee").training.status()
    assert status.certificate.status == "current" and status.certificate.row["course_version"] == course.version
    assert status.certificate.row["cert_id"] == cert and status.certificate.row["basis"] == "course"
    assert status.progress == 0.0  # a new round (refresher) starts after the certificate
    roster = kit.login("trainer").training.roster().filter(username="trainee").row(0, named=True)
    assert (roster["certificate_status"], roster["progress"], roster["course_version"]) == \
        ("current", 1.0, course.version)
    assert roster["refresher_due"] < roster["expires_at"]
    signed = _records(kit, action="training.sign_off").row(-1, named=True)
    assert signed["username"] == "trainer" and '"target_user": "trainee"' in signed["query"]
    assert f'"course_version": "{course.version}"' in signed["query"]


def test_wrong_answers_do_not_certify(kit):
    trainee = kit.login("trainee")
    assert answer_all(trainee, correct=False) == 0
    status = trainee.training.status()
    assert not status.passed_all and status.score == 0
    with pytest.raises(alpr.ValidationError, match="has not passed every module"):
        kit.login("trainer").training.sign_off("trainee")
    answer_all(trainee, modules=("purposes", "canvass"))  # two modules right, the rest still wrong
    with pytest.raises(alpr.ValidationError, match=r"still to pass legal-basis \(0%\)"):
        kit.login("trainer").training.sign_off("trainee")
    with pytest.raises(alpr.AccessDenied, match="no ALPR training certification"):
        kit.login("trainee").search_plates("7AB*", **SEARCH)
    fb = trainee.training.submit("canvass", "suspect", "8MKT41")
    assert not fb.correct and "not the plate" in fb.message and not fb.module_passed
    course = load_course()
    attempts = _records(kit, action="training.submit", username="trainee", outcome="allowed")
    redone = len(course.module("purposes").exercises) + len(course.module("canvass").exercises)
    assert attempts.height == course.exercise_count + redone + 1  # every attempt is audited
    assert '"correct": false' in attempts["query"][-1]


def test_the_pass_mark_is_a_department_setting(kit):
    trainee = kit.login("trainee")
    answer_all(trainee)
    wrong = trainee.training.submit("purposes", "suspicion", "a")  # 4 of 5 right: 80% passes the default mark
    assert wrong.module_passed and not wrong.correct
    kit.login("admin").admin.set_setting("training_pass_mark", 100)
    assert not kit.login("trainee").training.status().passed_all
    with pytest.raises(alpr.ValidationError, match=r"purposes \(80%\)"):
        kit.login("trainer").training.sign_off("trainee")


def test_a_non_trainer_cannot_sign_off_and_the_refusal_is_audited(kit):
    answer_all(kit.login("trainee"))
    for name in ("admin", "supervisor", "auditor", "trainee"):
        with pytest.raises(alpr.AccessDenied, match="may not sign off"):
            kit.login(name).training.sign_off("trainee")
    denied = _records(kit, action="training.sign_off", outcome="denied")
    assert denied["username"].to_list() == ["admin", "supervisor", "auditor", "trainee"]
    with pytest.raises(alpr.AccessDenied, match="cannot sign off their own"):
        kit.login("trainer").training.sign_off("trainer")


def test_expiry_closes_access_and_refresher_training_is_due_first(kit):
    answer_all(kit.login("trainee"))
    kit.login("trainer").training.sign_off("trainee")
    store = Store.open(kit.path)
    try:
        user = users.require_user(store.db, "trainee")
        now = utc_now()
        check_training(store.db, user, "operational", now)  # current
        assert certificate_state(store.db, "trainee", now + timedelta(days=340)).status == "refresher_due"
        check_training(store.db, user, "operational", now + timedelta(days=340))  # still open while due
        with pytest.raises(alpr.AccessDenied, match=r"expired on .*take refresher training"):
            check_training(store.db, user, "operational", now + timedelta(days=366))
        check_training(store.db, user, "training", now + timedelta(days=366))  # the sandbox stays open
    finally:
        store.close()


def test_revocation_closes_access_with_the_reason(kit):
    kit.login("trainer").certify("trainee")  # training taken elsewhere, recorded by hand (alpr users certify)
    assert kit.login("trainee").search_plates("7AB*", **SEARCH).height == 0
    with pytest.raises(alpr.AccessDenied, match="may not"):
        kit.login("analyst").training.revoke("trainee", reason="misuse")
    revoked = kit.login("trainer").training.revoke("trainee", reason="searched a neighbour's plate")
    assert len(revoked) == 1
    with pytest.raises(alpr.AccessDenied, match=r"revoked on .* by trainer \(searched a neighbour's plate\).*again"):
        kit.login("trainee").search_plates("7AB*", **SEARCH)
    with pytest.raises(alpr.NotFound, match="no current certificate"):
        kit.login("trainer").training.revoke("trainee", reason="twice")
    assert kit.login("trainer").training.roster().filter(username="trainee")["certificate_status"][0] == "revoked"
    # a new round on the course, and a new sign-off, open it again
    answer_all(kit.login("trainee"))
    kit.login("trainer").training.sign_off("trainee")
    assert kit.login("trainee").search_plates("7AB*", **SEARCH).height == 0


def test_inactive_accounts_are_suspended_until_a_supervisor_reinstates_them(kit):
    kit.login("admin").admin.set_setting("inactivity_suspend_days", 30)
    store = Store.open(kit.path)
    try:
        long_ago = iso(utc_now() - timedelta(days=31))
        for name in ("analyst", "ingest"):
            user_rows.set_last_active(store.db, name, long_ago)
    finally:
        store.close()
    with pytest.raises(alpr.AuthError, match=r"suspended on .* after inactivity \(no login for more than 30 days"):
        kit.login("analyst")
    with pytest.raises(alpr.AuthError, match="ask a supervisor to reinstate it"):
        kit.login("analyst")  # stays suspended, whatever the password
    kit.login("ingest")  # service accounts are exempt
    with pytest.raises(alpr.AccessDenied, match="may not reinstate"):
        kit.login("trainer").admin.reinstate_user("analyst")
    assert kit.login("supervisor").admin.reinstate_user("analyst") is True
    assert kit.login("analyst").search_plates("7AB*", **SEARCH).height == 0
    logins = _records(kit, action="login", username="analyst", outcome="denied")
    assert logins.height == 2 and "suspended" in logins["reason"][0]
    roster = kit.login("trainer").training.roster().filter(username="analyst")
    assert not roster["suspended"][0]


def test_training_records_are_private_to_their_member_except_for_roster_roles(kit):
    with pytest.raises(alpr.AccessDenied, match="only their own training record"):
        kit.login("analyst").training.status("trainee")
    for name in ("trainer", "admin", "auditor"):
        assert kit.login(name).training.status("trainee").username == "trainee"
        assert set(kit.login(name).training.roster()["username"]) >= {"trainee", "analyst"}
    with pytest.raises(alpr.AccessDenied, match="may not see every user's training"):
        kit.login("analyst").training.roster()
    assert "ingest" not in kit.login("trainer").training.roster()["username"].to_list()


def test_the_printable_certificate_names_its_course_version(kit, tmp_path):
    answer_all(kit.login("trainee"))
    kit.login("trainer").training.sign_off("trainee")
    page = kit.login("trainee").training.certificate(path=str(tmp_path / "cert.html"))
    course = load_course()
    assert f'<strong class="alpr-course-version">{course.version}</strong>' in page
    assert "@page" in page and "@media print" in page and "Trainee User" in page and "Trainer User" in page
    assert "http://" not in page and "https://" not in page  # prints the same in an isolated network
    assert (tmp_path / "cert.html").read_text() == page and (tmp_path / "cert.html").stat().st_mode & 0o777 == 0o600
    kit.login("trainer").training.revoke("trainee", reason="left the unit")
    assert 'data-status="revoked"' in kit.login("trainer").training.certificate("trainee")
    hand = kit.login("auditor").training.certificate("analyst")  # recorded by hand: no course version
    assert "recorded by hand" in hand
