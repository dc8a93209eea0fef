"""The API service and the remote Session (issue 16, parts 1 and 2): the same Session over HTTP.

Each test starts ``alpr serve`` on a free loopback port (bounded, always stopped) and compares what the remote
Session returns and raises with what the embedded one does on the same store.
"""

from __future__ import annotations

import inspect
import json
import time

import geopandas as gpd
import httpx
import pandas as pd
import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.access.actions import actions
from alpr_lib.errors import AccessDenied, AuthError, NotFound, ServiceUnavailable, ValidationError
from alpr_lib.remote import RemoteSession
from alpr_lib.remote.files import file_fields
from alpr_lib.session import Session
from alpr_lib.store.store import Store
from tests.conftest import random_reads

PURPOSE = "criminal investigation"
CASE = "24-001234"


def public(obj: object) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def test_remote_session_has_exactly_the_embedded_namespaces_methods_and_signatures():
    assert public(RemoteSession) == public(Session)
    from alpr_lib.remote.client import _NAMESPACE_CLASSES as remote_ns
    from alpr_lib.session import _NAMESPACE_CLASSES as embedded_ns

    assert sorted(remote_ns) == sorted(embedded_ns) == sorted(alpr.areas_namespaces())
    for name, cls in embedded_ns.items():
        assert public(remote_ns[name]) == public(cls), name
        assert remote_ns[name].__name__ == cls.__name__
        for method in public(cls):
            here, there = getattr(cls, method), getattr(remote_ns[name], method)
            assert inspect.signature(here) == inspect.signature(there), (name, method)
            assert here.__doc__ == there.__doc__
    for spec in actions():
        for alias in spec.aliases:
            assert inspect.signature(getattr(RemoteSession, alias)) == inspect.signature(getattr(Session, alias))


def test_every_declared_action_has_its_generated_route_and_schema(kit, serve):
    with serve(kit.path) as url:
        schema = httpx.get(f"{url}/openapi.json").json()
    paths = schema["paths"]
    for spec in actions():
        route = paths[f"/actions/{spec.name}"]["post"]
        assert route["operationId"] == spec.name
        body = route["requestBody"]["content"]["application/json"]["schema"]
        fields = {f.name for f in spec.fields if f.name != "_"}
        assert fields <= set(body["properties"]), spec.name
        assert route["x-alpr-action"]["session_method"] == f"{spec.namespace}.{spec.method}"
    assert {"/session/login", "/session/logout", "/session"} <= set(paths)
    # a path is never something the client names: those fields take an uploaded file
    ingest = paths["/actions/reads.ingest"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/LocalFile"} in ingest["properties"]["source"]["anyOf"]
    assert file_fields(next(s for s in actions() if s.name == "exports.case_file")) == {"path": "path"}


def _reads_kit(kit):
    ingest = kit.login("ingest")
    ingest.ingest_reads(random_reads(400), source_name="reads-a", progress=False)
    ingest.logout()
    return kit


@pytest.fixture
def reads_kit(any_kit):
    return _reads_kit(any_kit)


def test_same_results_and_same_errors_on_both_backends(reads_kit, serve):
    kit = reads_kit
    embedded = kit.login("analyst")
    with serve(kit.path) as url:
        remote = alpr.login("analyst", kit.passwords["analyst"], server=url)
        assert isinstance(remote, RemoteSession) and remote.username == "analyst"
        assert remote.user == embedded.user and remote.store_kind == embedded.store_kind
        for call in (lambda s: s.search_plates("7AB*", purpose=PURPOSE, case_number=CASE),
                     lambda s: s.reads.search("?ABK12?", purpose="stolen or wanted vehicles", exact=True),
                     lambda s: s.plate_history("7ABK123", purpose=PURPOSE, case_number=CASE,
                                               start="2026-05-26", end="2026-06-10"),
                     lambda s: s.store_info.cameras(),
                     lambda s: s.store_summary()):
            here, there = call(embedded), call(remote)
            if isinstance(here, pl.DataFrame):
                assert isinstance(there, pl.DataFrame) and there.schema == here.schema
                assert there.equals(here)
            else:
                here.pop("last_ingest", None), there.pop("last_ingest", None)
                assert there == here
        hits = remote.canvass((37.43, -121.9), 800, 600, 600, purpose=PURPOSE, case_number=CASE,
                              offense_type="homicide", at="2026-06-01 12:00")
        same = embedded.canvass((37.43, -121.9), 800, 600, 600, purpose=PURPOSE, case_number=CASE,
                                offense_type="homicide", at="2026-06-01 12:00")
        assert isinstance(hits, gpd.GeoDataFrame) and hits.crs == same.crs and len(hits) == len(same) > 0
        pd.testing.assert_frame_equal(pd.DataFrame(hits.drop(columns="geometry")),
                                      pd.DataFrame(same.drop(columns="geometry")))
        assert list(hits.geometry.to_wkb()) == list(same.geometry.to_wkb()) and hits.attrs == same.attrs
        # the same refusal, the same class and message (each audited by the door, remote and embedded)
        for bad in (lambda s: s.search_plates("7AB*"),
                    lambda s: s.search_plates("7AB*", purpose="curiosity"),
                    lambda s: s.search_plates("", purpose=PURPOSE, case_number=CASE),
                    lambda s: s.search_plates(7, purpose=PURPOSE, case_number=CASE),
                    lambda s: s.search_plates("7AB*", purpose=PURPOSE, case_number=CASE, cameras="CAM1"),
                    lambda s: s.search_plates("7AB*", purpose=PURPOSE, case_number=CASE, colour="red"),
                    lambda s: s.search_plates(),
                    lambda s: s.search_plates("A", "B", "C"),
                    lambda s: s.plate_history("7AB*", purpose=PURPOSE, case_number=CASE),
                    lambda s: s.read_details("no-such-read", purpose=PURPOSE, case_number=CASE),
                    lambda s: s.admin.users(),
                    lambda s: s.reads.thumbnails(["x"] * 201, purpose=PURPOSE, case_number=CASE)):
            with pytest.raises(alpr.AlprError) as here:
                bad(embedded)
            with pytest.raises(alpr.AlprError) as there:
                bad(remote)
            assert type(there.value) is type(here.value) and str(there.value) == str(here.value)
        rows = Store.open(kit.path).audit.rows()
        mine = [r for r in rows if r["session_id"] == remote.session_id]
        assert {r["client"] for r in mine} == {"api:script"}
        assert len([r for r in mine if r["outcome"] != "allowed"]) == 11  # one (3 positional) refused by the client
        remote.logout()
        with pytest.raises(AuthError, match="ended"):
            remote.store_summary()


def test_login_over_the_api_keeps_every_rule(kit, serve):
    admin = kit.login("admin")
    with serve(kit.path) as url:
        with pytest.raises(AuthError) as wrong:
            alpr.login("analyst", "not-the-password", server=url)
        assert str(wrong.value) == "login failed: unknown username or wrong password"
        with pytest.raises(AuthError, match="unknown username or wrong password"):
            alpr.login("nobody", "x", server=url)
        # lockout after the department's number of failures, the same message as embedded
        failures = Store.open(kit.path).config.lockout_failures
        for _ in range(failures - 1):
            with pytest.raises(AuthError):
                alpr.login("trainee", "wrong", server=url)
        with pytest.raises(AuthError, match="now locked"):
            alpr.login("trainee", "wrong", server=url)
        with pytest.raises(AuthError, match="is locked"):
            alpr.login("trainee", kit.passwords["trainee"], server=url)
        # a reset password must be changed first; then the new one works
        admin.reset_password("auditor", "Temporary-pass-77")
        with pytest.raises(alpr.AuthError, match="must be changed") as forced:
            alpr.login("auditor", "Temporary-pass-77", server=url)
        assert type(forced.value).__name__ == "PasswordChangeRequired"
        with pytest.raises(ValidationError, match="new password refused"):
            alpr.login("auditor", "Temporary-pass-77", server=url, new_password="short")
        auditor = alpr.login("auditor", "Temporary-pass-77", server=url, new_password="Brand-new-pass-88")
        assert auditor.password_changed_at_login and auditor.audit.records(limit=3).height == 3
        # a disabled account ends the remote session at once (the door checks the row)
        analyst = alpr.login("analyst", kit.passwords["analyst"], server=url)
        analyst.store_summary()
        admin.admin.disable_user("analyst")
        with pytest.raises(AuthError, match="ended"):
            analyst.store_summary()
        # the client never learns where the store is
        info = httpx.get(f"{url}/session", headers={"Authorization": f"Bearer {auditor._conn.token}"}).text
        assert str(kit.path) not in info and "records.db" not in info
    logins = [r for r in Store.open(kit.path).audit.rows() if r["action"] == "login"]
    assert all(r["client"] in ("api:script", "script") for r in logins)
    assert sum(r["outcome"] == "denied" for r in logins if r["client"] == "api:script") >= failures + 4


def test_files_travel_and_the_service_never_opens_a_path_a_client_names(kit, serve, tmp_path):
    csv = tmp_path / "batch.csv"
    random_reads(120, prefix="F").write_csv(csv)
    crop = tmp_path / "crop.png"
    crop.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    with serve(kit.path) as url:
        ingest = alpr.login("ingest", kit.passwords["ingest"], server=url)
        report = ingest.ingest_reads(csv, progress=False, images={"F0000001": crop})
        assert report.ingested == 120 and report.source_name == "batch.csv"
        with pytest.raises(alpr.IngestError) as missing:
            ingest.ingest_reads(tmp_path / "nowhere.csv", progress=False)
        assert str(missing.value) == f"{tmp_path / 'nowhere.csv'}: no such file"
        analyst = alpr.login("analyst", kit.passwords["analyst"], server=url)
        details = analyst.read_details("F0000001", purpose=PURPOSE, case_number=CASE)
        assert details["image"] == crop.read_bytes()
        hits = analyst.plate_history(details["plate"], purpose=PURPOSE, case_number=CASE)
        out = tmp_path / "exports"
        out.mkdir()
        written = analyst.export_case_file(hits, out, title="Remote export", purpose=PURPOSE, case_number=CASE)
        assert written.csv == out / "remote-export.csv" and written.rows == hits.height
        assert pl.read_csv(written.csv).height == hits.height and (written.csv.stat().st_mode & 0o777) == 0o600
        assert "Remote export" in written.html.read_text()
        stem = analyst.export_case_file(hits.head(3), tmp_path / "case-24", purpose=PURPOSE, case_number=CASE)
        assert stem.csv == tmp_path / "case-24.csv" and stem.csv.exists()
        with pytest.raises(ValidationError, match="does not exist; create it first") as nofolder:
            analyst.export_case_file(hits, tmp_path / "no" / "stem", purpose=PURPOSE, case_number=CASE)
        assert str(tmp_path / "no" / "stem") in str(nofolder.value)
        auditor = alpr.login("auditor", kit.passwords["auditor"], server=url)
        count = auditor.export_audit(tmp_path / "audit.jsonl")
        assert count > 0 and len((tmp_path / "audit.jsonl").read_text().splitlines()) >= count
        # a raw client naming a path on the service's machine is refused, and audited
        token = analyst._conn.token
        before = len(Store.open(kit.path).audit.rows())
        answer = httpx.post(f"{url}/actions/reads.ingest", json={"source": "/etc/passwd"},
                            headers={"Authorization": f"Bearer {ingest._conn.token}"})
        assert answer.status_code == 422 and "never opens a path" in answer.json()["detail"]
        answer = httpx.post(f"{url}/actions/exports.case_file",
                            json={"frame": {"$polars": ""}, "path": "/tmp/x", "purpose": PURPOSE,
                                  "case_number": CASE},
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 422
        rows = Store.open(kit.path).audit.rows()[before:]
        assert [r["outcome"] for r in rows] == ["error", "error"]
        assert not (tmp_path / "x.csv").exists()


def test_bad_input_is_a_clear_4xx_and_audited(kit, serve):
    with serve(kit.path) as url:
        analyst = alpr.login("analyst", kit.passwords["analyst"], server=url)
        auth = {"Authorization": f"Bearer {analyst._conn.token}"}
        before = len(Store.open(kit.path).audit.rows())
        cases = [
            (dict(content=b"{not json"), 422, "not JSON"),
            (dict(json=[1, 2]), 422, "JSON object"),
            (dict(json={"pattern": {"$nope": 1}}), 422, "unknown tag"),
            (dict(json={"pattern": "7AB*", "purpose": PURPOSE, "case_number": CASE, "start": {"$datetime": "x"}}),
             422, "not valid"),
            (dict(json={"pattern": 2**80, "purpose": PURPOSE, "case_number": CASE}), 422, "must be text"),
            (dict(json={"pattern": "7AB*", "purpose": PURPOSE, "case_number": CASE, "extra": 1}), 422,
             "unexpected keyword"),
            (dict(json={"pattern": "7AB\x00", "purpose": PURPOSE, "case_number": CASE}), 422, "NUL"),
            (dict(json={"pattern": "7AB*"}), 403, "purpose"),
        ]
        for request, status, words in cases:
            answer = httpx.post(f"{url}/actions/reads.search", headers=auth, **request)
            assert answer.status_code == status, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert words in answer.json()["detail"] and "Traceback" not in answer.text
        for headers in ({}, {"Authorization": "Bearer forged"}):
            answer = httpx.post(f"{url}/actions/reads.search", json={"pattern": "7AB*"}, headers=headers)
            assert answer.status_code == 401 and answer.json()["error"] == "AuthError"
        assert httpx.post(f"{url}/actions/no.such", json={}, headers=auth).status_code == 404
        rows = Store.open(kit.path).audit.rows()[before:]
        assert len(rows) == len(cases) + 2 and all(r["outcome"] in ("denied", "error") for r in rows)
        assert [r["username"] for r in rows[-2:]] == ["(no session)", "(no session)"]


def test_restarted_service_resumes_sessions_and_clients_get_a_clear_error_meanwhile(kit, serve):
    from tests.jupyterlab import _free_port

    port = _free_port()
    with serve(kit.path, port=port) as url:
        analyst = alpr.login("analyst", kit.passwords["analyst"], server=url)
        analyst.store_summary()
    with pytest.raises(ServiceUnavailable, match="cannot reach the ALPR service"):
        analyst.store_summary()
    with serve(kit.path, port=port):
        assert analyst.store_summary()["kind"] == "operational"  # the same session, no new login
        with pytest.raises(AccessDenied):
            analyst.search_plates("7AB*")
    rows = [r for r in Store.open(kit.path).audit.rows() if r["session_id"] == analyst.session_id]
    assert [r["action"] for r in rows] == ["login", "store.summary", "session.resume", "store.summary",
                                           "reads.search"]


def test_not_found_and_json_results_are_the_embedded_ones(kit, serve):
    admin = kit.login("admin")
    with serve(kit.path) as url:
        remote = alpr.login("admin", kit.passwords["admin"], server=url)
        with pytest.raises(NotFound) as there:
            remote.admin.disable_user("nobody")
        with pytest.raises(NotFound) as here:
            admin.admin.disable_user("nobody")
        assert str(there.value) == str(here.value)
        assert remote.admin.users().equals(admin.admin.users())
        assert remote.verify_audit().records > 0
        started = time.monotonic()
        assert json.loads(json.dumps(remote.purposes())) == admin.purposes()
        assert time.monotonic() - started < 5
