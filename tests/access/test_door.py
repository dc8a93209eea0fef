"""The one door: every declared action writes exactly one audit record when allowed, when denied and when it
fails, on both records backends, and no public Session method escapes the registry."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import alpr_lib as alpr
from alpr_lib.session import LIFECYCLE, Session
from alpr_lib.store.store import Store
from tests.conftest import random_reads

CASE = "24-001234"
INVESTIGATION = {"purpose": "criminal investigation", "case_number": CASE}
SPOT = {"lat": 37.43, "lon": -121.9}


def allowed_calls(kit, tmp_path, incident_id: str, read_id: str) -> dict[str, tuple[str, tuple, dict[str, Any]]]:
    """For each action: (user, args, kwargs) of a call that is allowed. A new action must add one here."""
    import polars as pl

    cameras = pl.DataFrame({"camera_id": ["CAM9"], "name": ["Test site"], "kind": ["fixed"], "lat": [37.4],
                            "lon": [-121.9], "agency": ["Milpitas PD"]})
    return {
        "users.change_password": ("newbie", (kit.passwords["newbie"], "Another-pass-0099"), {}),
        "logout": ("analyst", (), {}),
        "users.add": ("admin", ("newer",), {"full_name": "New Er", "title": "Analyst", "organisation": "MPD",
                                           "roles": ["analyst"], "password": "Second-pass-0001"}),
        "users.disable": ("admin", ("trainee",), {}),
        "users.enable": ("admin", ("trainee",), {}),
        "users.reset_password": ("admin", ("trainee", "Temporary-pw-777"), {}),
        "users.designate": ("admin", ("training_sergeant", "trainer"), {"title": "Training Sergeant"}),
        "users.designations": ("admin", (), {}),
        "users.list": ("admin", (), {}),
        "training.certify": ("trainer", ("supervisor",), {}),
        "cameras.register": ("admin", (cameras,), {}),
        "store.compact": ("admin", (), {"progress": False}),
        "exports.case_file": ("analyst", (pl.DataFrame({"read_id": [read_id]}), tmp_path / "case-file"),
                              {"purpose": "stolen plates"}),
        "settings.list": ("admin", (), {}),
        "settings.set": ("admin", ("session_idle_minutes", 45), {}),
        "reads.search": ("analyst", ("7AB*",), {"purpose": "stolen plates"}),
        "reads.history": ("analyst", ("7ABK123",), {"purpose": "stolen plates"}),
        "reads.details": ("analyst", (read_id,), {"purpose": "stolen plates"}),
        "reads.thumbnails": ("analyst", ([read_id],), {"purpose": "stolen plates"}),
        "reads.correct": ("analyst", (read_id, "7ABK128"), {"purpose": "stolen plates", "note": "misread"}),
        "reads.ingest": ("ingest", (random_reads(20, seed=9, prefix="W"),), {"progress": False}),
        "reads.canvass": ("analyst", (incident_id, 300, 30, 30), INVESTIGATION),
        "reads.multi_scene": ("analyst", ([incident_id, incident_id], 300, 30, 30), INVESTIGATION),
        "reads.convoy": ("analyst", ("7ABK123",), {**INVESTIGATION, "offense_type": "homicide"}),
        "reads.frequent_locations": ("analyst", ("7ABK123",), {**INVESTIGATION, "offense_type": "homicide"}),
        "audit.read": ("auditor", (), {"limit": 5}),
        "audit.export": ("auditor", (tmp_path / "audit.jsonl",), {}),
        "audit.verify": ("auditor", (), {}),
        "incidents.create": ("analyst", (CASE, "burglary", "2026-06-02T10:00"), SPOT),
        "incidents.list": ("analyst", (), {}),
        "incidents.get": ("analyst", (incident_id,), {}),
        "approvals.grant": ("supervisor", (CASE,), {"analyst": "analyst", "offense_type": "burglary",
                                                    "radius_m": 900, "before_min": 60, "after_min": 60,
                                                    "reason": "Suspect vehicle fled toward the freeway."}),
        "store.summary": ("analyst", (), {}),
        "store.department": ("analyst", (), {}),
        "cameras.list": ("analyst", (), {}),
        **_training_calls(kit, tmp_path),
        **_review_calls(kit, tmp_path),
        **_hotlist_calls(kit, tmp_path),
        **_records_calls(kit, tmp_path),
    }


def _records_calls(kit, tmp_path) -> dict[str, tuple[str, tuple, dict[str, Any]]]:
    """Issue 13: a command user designated Administration Division Commander, two pending release requests and
    an approved one, a hold to release, a plain and an encrypted evidence package, a purge certificate."""
    admin = kit.login("admin")
    kit.passwords["command"] = "Decide-pass-0042"
    admin.add_user("command", full_name="Jordan Blake", title="Commander", organisation="MPD",
                   roles=["command_staff"], password=kit.passwords["command"], must_change_password=False)
    admin.designate("administration_division_commander", "command", title="Administration Division Commander")
    kit.login("trainer").certify("command")  # fulfilling a release reads plates
    request = {"agency_type": "law-enforcement", "state": "CA", "requester": "Det. R. Alvarez",
               "contact": "ralvarez@sjpd.example", "purpose": "homicide investigation", "plate": "7ABK123",
               "scope": "reads of 7ABK123"}
    pending = [admin.releases.add("San Jose PD", **request)["request_id"] for _ in range(3)]
    kit.login("command").releases.approve(pending[2])
    analyst = kit.login("analyst")
    hold = analyst.holds.add("suspect vehicle", plate="7ABK123", **INVESTIGATION)
    analyst.evidence.export(tmp_path / "door-pkg", item="E-1", reason="evidence", plate="7ABK123", **INVESTIGATION)
    analyst.evidence.export(tmp_path / "door-enc", item="E-2", reason="evidence", plate="7ABK123",
                            key_file=str(tmp_path / "door.key"), **INVESTIGATION)
    purge_id = admin.retention.purge(progress=False).purge_id
    return {
        "retention.purge": ("admin", (), {"dry_run": True}),
        "retention.status": ("admin", (), {}),
        "retention.certificates": ("auditor", (), {}),
        "retention.certificate": ("auditor", (purge_id,), {}),
        "retention.age_statistics": ("auditor", (), {}),
        "holds.add": ("analyst", ("evidence",), {"read_ids": ["T0000001"], **INVESTIGATION}),
        "holds.release": ("supervisor", (hold["hold_id"], "case closed"), {}),
        "holds.list": ("analyst", (), {}),
        "evidence.export": ("analyst", (tmp_path / "door-pkg-2",), {"item": "E-3", "reason": "evidence",
                                                                     "plate": "7ABK123", **INVESTIGATION}),
        "evidence.verify": ("analyst", (tmp_path / "door-pkg",), {}),
        "evidence.transfer": ("analyst", (tmp_path / "door-pkg", "Property room"), {}),
        "evidence.decrypt": ("analyst", (tmp_path / "door-enc", tmp_path / "door-open"),
                             {"key_file": str(tmp_path / "door.key"), "purpose": "stolen plates"}),
        "evidence.packages": ("analyst", (), {}),
        "releases.add": ("admin", ("Santa Clara DA",), {**request, "agency_type": "prosecutor"}),
        "releases.approve": ("command", (pending[0],), {}),
        "releases.deny": ("command", (pending[1],), {"reason": "no case given"}),
        "releases.fulfil": ("command", (pending[2],), {"out": tmp_path / "door-release", "purpose": "stolen plates"}),
        "releases.list": ("admin", (), {}),
        "releases.figures": ("auditor", (), {}),
        "users.set_roles": ("admin", ("trainee", ["analyst"]), {}),
        "store.backup": ("admin", (tmp_path / "door-backup",), {}),
        "audit.rotate_key": ("admin", (), {}),
    }


def _hotlist_calls(kit, tmp_path) -> dict[str, tuple[str, tuple, dict[str, Any]]]:
    """Issue 12: the supervisor holds the department source and a list whose two plates were then read (two
    alerts: one to verify and dispose, one to reject)."""
    from datetime import UTC, datetime, timedelta

    kit.login("admin").hotlists.grant("supervisor", ["department"])
    listed = tmp_path / "door-list.csv"
    listed.write_text("plate,state,category,entered_at,expires_at,notes\n1HOT001,CA,stolen vehicle,2026-01-01,,\n"
                      "1HOT002,CA,stolen plate,2026-01-01,,\n")
    kit.login("supervisor").hotlists.import_list(listed, "door-list", "department")
    hits = random_reads(2, seed=3, prefix="HOT", plates=["1HOT001", "1HOT002"],
                        start=datetime.now(UTC) - timedelta(hours=2), days=0)
    kit.login("ingest").ingest_reads(hits.with_columns(plate=pl_series(["1HOT001", "1HOT002"])), progress=False)
    alerts = {r["plate"]: r["alert_id"] for r in kit.login("supervisor").alerts.list().iter_rows(named=True)}
    return {
        "hotlists.grant": ("admin", ("supervisor", ["state"]), {}),
        "hotlists.revoke": ("admin", ("supervisor", ["state"]), {}),
        "hotlists.grants": ("admin", (), {}),
        "hotlists.import": ("supervisor", (listed, "door-list-2", "department"), {}),
        "hotlists.list": ("supervisor", (), {}),
        "hotlists.show": ("supervisor", ("door-list",), {}),
        "hotlists.rerun": ("supervisor", ("door-list", "1HOT001"), {"purpose": "stolen plates"}),
        "alerts.list": ("supervisor", (), {}),
        "alerts.get": ("supervisor", (alerts["1HOT001"],), {}),
        "alerts.verify": ("supervisor", (alerts["1HOT001"], "CLETS-0001"), {}),
        "alerts.reject": ("supervisor", (alerts["1HOT002"], "misread"), {}),
        "alerts.dispose": ("supervisor", (alerts["1HOT001"], "no action"), {}),
        "alerts.figures": ("supervisor", (), {}),
    }


def pl_series(values: list[str]):
    import polars as pl

    return pl.Series("plate", values)


def _review_calls(kit, tmp_path) -> dict[str, tuple[str, tuple, dict[str, Any]]]:
    """Issue 14: the trainee's three refused searches make a flag for mark_reviewed and export_flag (in a fixed
    review period, so the later calls of the test do not change the flag)."""
    from datetime import timedelta

    from alpr_lib.timeutil import utc_now

    trainee = kit.login("trainee")
    for pattern in ("7AB*", "8DP*", "5KL*"):
        with pytest.raises(alpr.AccessDenied):
            trainee.search_plates(pattern, purpose="stolen plates")
    end = utc_now()
    period = {"start": end - timedelta(days=1), "end": end}
    review = kit.login("auditor").audit.review(**period, rule="denied_attempts")
    flag = next(f for f in review.flags if f.username == "trainee")
    quarter = f"{end.year}-Q{(end.month - 1) // 3 + 1}"
    return {
        "audit.review": ("auditor", (), {}),
        "audit.mark_reviewed": ("auditor", (flag.flag_id, "trainee not yet certified; no misuse"), period),
        "audit.export_flag": ("auditor", (flag.flag_id, tmp_path / "flag.jsonl"), period),
        "audit.plate_lookups": ("auditor", ("7ABK123",), {}),
        "audit.report": ("auditor", (quarter, tmp_path / "report.html"), {}),
        "audit.transparency": ("auditor", (), {}),
        "oversight.read_activity": ("admin", (), {}),
        "oversight.compliance": ("auditor", (), {}),
    }


def _training_calls(kit, tmp_path) -> dict[str, tuple[str, tuple, dict[str, Any]]]:
    """Issue 15: the trainee passes the course (so the trainer's sign-off is allowed)."""
    from tests.training.helpers import answer_all

    answer_all(kit.login("trainee"))
    return {
        "training.course": ("analyst", (), {}),
        "training.submit": ("analyst", ("purposes", "suspicion", "c"), {}),
        "training.status": ("analyst", (), {}),
        "training.roster": ("trainer", (), {}),
        "training.sign_off": ("trainer", ("trainee",), {}),
        "training.revoke": ("trainer", ("trainee",), {"reason": "Misused the system in training."}),
        "training.certificate": ("analyst", (), {"path": str(tmp_path / "certificate.html")}),
        "training.build_sandbox": ("trainer", (), {"n_reads": 1000, "replace": True}),
        "users.reinstate": ("supervisor", ("analyst",), {}),
    }


def _records(kit) -> list[dict]:
    store = Store.open(kit.path)
    try:
        return store.audit.rows()
    finally:
        store.close()


def _method(session: Session, spec: alpr.Action):
    return getattr(getattr(session, spec.namespace), spec.method)


@pytest.fixture
def prepared(any_kit, tmp_path):
    kit = any_kit
    kit.login("ingest").ingest_reads(random_reads(200), progress=False)
    admin = kit.login("admin")
    kit.passwords["newbie"] = "Fresh-pass-00001"
    admin.add_user("newbie", full_name="New Bie", title="Analyst", organisation="MPD", roles=["analyst"],
                   password=kit.passwords["newbie"], must_change_password=False)
    analyst = kit.login("analyst")
    incident = analyst.create_incident(CASE, "burglary", "2026-06-01T10:00", **SPOT)
    read_id = analyst.search_plates("7ABK123", purpose="stolen plates")["read_id"][0]
    return kit, allowed_calls(kit, tmp_path, incident.incident_id, read_id)


def test_every_action_has_a_declared_shape():
    names = [a.name for a in alpr.actions()]
    assert len(names) == len(set(names))
    for spec in alpr.actions():
        assert spec.permission and spec.namespace and spec.method and spec.doc, spec.name
        assert isinstance(spec.needs_training, bool) and isinstance(spec.needs_purpose, bool)
    # today's action names stay
    assert {"reads.search", "reads.history", "reads.details", "reads.ingest", "audit.read", "audit.export",
            "logout"} <= set(names)


def test_each_action_is_audited_exactly_once_allowed_denied_and_failed(prepared):
    kit, calls = prepared
    specs = alpr.actions()
    assert {s.name for s in specs} == set(calls), "every declared action needs an allowed call in this test"
    sessions = {name: kit.login(name) for name in {user for user, _, _ in calls.values()}}
    for spec in specs:
        user, args, kwargs = calls[spec.name]
        session = sessions[user] if spec.name != "logout" else kit.login(user)
        before = len(_records(kit))
        _method(session, spec)(*args, **kwargs)
        if spec.name == "users.change_password":
            kit.passwords[user] = args[1]
        rows = _records(kit)[before:]
        assert [(r["action"], r["outcome"]) for r in rows] == [(spec.name, "allowed")], spec.name

        before = len(_records(kit))
        with pytest.raises(alpr.AlprError):  # an argument the action does not declare
            _method(session if spec.name != "logout" else kit.login(user), spec)(*args, bogus=1, **kwargs)
        rows = _records(kit)[before + (1 if spec.name == "logout" else 0):]
        assert [(r["action"], r["outcome"]) for r in rows] == [(spec.name, "error")], spec.name

        ended = kit.login(user)
        ended.logout()
        before = len(_records(kit))
        with pytest.raises(alpr.AuthError):
            _method(ended, spec)(*args, **kwargs)
        rows = _records(kit)[before:]
        assert [(r["action"], r["outcome"], r["username"]) for r in rows] == [(spec.name, "denied", user)], \
            spec.name
    assert Store.open(kit.path).audit.verify().ok


def test_permission_refusals_are_denied_records(prepared):
    kit, calls = prepared
    trainer = kit.login("trainer")  # holds training.certify only
    for spec in alpr.actions():
        if spec.permission in trainer.user.permissions:
            continue
        _, args, kwargs = calls[spec.name]
        before = len(_records(kit))
        with pytest.raises(alpr.AccessDenied, match=r"may not|service account"):
            _method(trainer, spec)(*args, **kwargs)
        rows = _records(kit)[before:]
        assert [(r["action"], r["outcome"]) for r in rows] == [(spec.name, "denied")], spec.name


def test_no_public_session_method_escapes_the_registry():
    specs = alpr.actions()
    aliases = {alias: spec for spec in specs for alias in spec.aliases}
    namespaces = {spec.namespace for spec in specs}
    properties = {n for n, v in inspect.getmembers(Session) if isinstance(v, property)}
    for name, _value in inspect.getmembers(Session):
        if name.startswith("_") or name in properties:
            continue
        assert name in aliases or name in LIFECYCLE, f"Session.{name} is not generated from an action"
    assert "store" not in properties and "db" not in properties
    for name, spec in aliases.items():  # an alias is the namespaced method, same signature
        assert inspect.signature(getattr(Session, name)) == inspect.signature(
            getattr(type(_namespace_class(spec.namespace)), spec.method)), name
    assert namespaces <= set(alpr.areas_namespaces())


def _namespace_class(name: str):
    from alpr_lib.session import _NAMESPACE_CLASSES

    return _NAMESPACE_CLASSES[name](None)  # type: ignore[arg-type]


def test_the_session_exposes_no_store_database_or_key(kit):
    session = kit.login("analyst")
    public = {n for n in dir(session) if not n.startswith("_")}
    assert not public & {"store", "db", "audit_key", "config", "path"}
    for name in public:
        value = getattr(session, name)
        assert not isinstance(value, Store), name


def test_a_check_runs_once_per_call(kit, monkeypatch):
    """Training is checked once per access (it was queried twice per analysis call before the one door)."""
    from alpr_lib.access import door

    calls = []
    original = door.check_training
    monkeypatch.setattr(door, "check_training", lambda *a, **k: calls.append(1) or original(*a, **k))
    analyst = kit.login("analyst")
    incident = analyst.create_incident(CASE, "burglary", "2026-06-01T10:00", **SPOT)
    calls.clear()
    analyst.canvass(incident, 300, 30, 30, **INVESTIGATION)
    assert calls == [1]
