"""Incidents are validated and audited; every analysis access records geography and window as query elements."""

from __future__ import annotations

import json

import pytest

import alpr_lib as alpr
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.analysis.conftest import PURPOSE, incident_args


def _rows(demo, action: str) -> list[dict]:
    rows = Store.open(demo.path).audit.rows(AuditFilter(action=action))
    for r in rows:
        r["query"] = json.loads(r["query"])
    return rows


def test_create_incident_is_audited_and_idempotent_only_when_asked(demo, analyst, key):
    args = incident_args(key, "26-004512")
    first = analyst.create_incident(**args)
    again = analyst.create_incident(**args)
    assert again.incident_id == first.incident_id
    with pytest.raises(alpr.ValidationError, match="already records this"):
        analyst.create_incident(**{**args, "exist_ok": False})
    listed = analyst.incidents(case_number="26-004512")
    assert first.incident_id in listed["incident_id"].to_list()
    assert str(listed["occurred_local"].dtype) == "Datetime(time_unit='us', time_zone='America/Los_Angeles')"
    rows = _rows(demo, "incidents.create")
    assert [r["outcome"] for r in rows[-3:]] == ["allowed", "allowed", "error"]
    assert rows[-1]["username"] == "analyst" and rows[-1]["case_number"] == "26-004512"
    assert rows[-2]["query"]["incident_id"] == first.incident_id and rows[-2]["query"]["existing"] is True


@pytest.mark.parametrize("changes,message", [
    ({"lat": 95.0}, "not a WGS84 coordinate"),
    ({"lat": None, "lon": None}, "needs a location"),
    ({"polygon_wkt": "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "lat": None, "lon": None}, "valid, non-empty polygon"),
    ({"polygon_wkt": "POLYGON((-121.9 37.4, -121.8 37.4, -121.8 37.5, -121.9 37.4))"}, "not both"),
    ({"occurred_end": "2026-05-10 00:00"}, "before occurred_at"),
    ({"occurred_at": "2099-01-01 00:00", "occurred_end": None}, "in the future"),
    ({"case_number": "bad-case"}, "department format"),
    ({"offense_type": " "}, "offense_type"),
])
def test_bad_incidents_are_refused_with_the_fix(analyst, key, changes, message):
    with pytest.raises(alpr.ValidationError, match=message):
        analyst.create_incident(**{**incident_args(key, "26-004512"), "exist_ok": False, **changes})


def test_polygon_incident_round_trips(analyst):
    wkt = "POLYGON((-121.897 37.406, -121.889 37.405, -121.888 37.412, -121.895 37.413, -121.897 37.406))"
    made = analyst.create_incident("26-000777", "Burglary", "2026-04-14 16:00", occurred_end="2026-04-14 17:30",
                                   polygon_wkt=wkt, summary="Strip-mall burglaries", exist_ok=True)
    back = analyst.incident(made.incident_id)
    assert back.offense_type == "burglary" and back.geometry.equals_exact(made.geometry, 1e-9)
    got = analyst.canvass(back, 0, 15, 15, purpose=PURPOSE, case_number="26-000777")
    assert (got["distance_m"] == 0).all()


def test_trainee_and_auditor_cannot_record_incidents(demo, key):
    with pytest.raises(alpr.AccessDenied, match="training"):
        demo.login("trainee").create_incident(**incident_args(key, "26-004512"))
    with pytest.raises(alpr.AccessDenied, match="may not record incidents"):
        demo.login("auditor").create_incident(**incident_args(key, "26-004512"))


def test_canvass_audit_record_holds_geography_window_and_plates(demo, analyst, key):
    incident = analyst.create_incident(**incident_args(key, "26-004512"))
    got = analyst.canvass(incident, 300, 30, 30, purpose=PURPOSE, case_number="26-004512")
    row = _rows(demo, "reads.canvass")[-1]
    q = row["query"]
    assert row["outcome"] == "allowed" and row["result_count"] == len(got)
    assert row["purpose"] == PURPOSE and row["case_number"] == "26-004512" and row["username"] == "analyst"
    assert q["radius_m"] == 300 and q["before_min"] == 30 and q["after_min"] == 30
    assert q["geography"] == [{"type": "point", "lat": round(incident.lat, 6), "lon": round(incident.lon, 6)}]
    assert q["window_start_utc"].startswith("2026-05-17T05:10:00")
    assert q["window_end_utc"].startswith("2026-05-17T06:15")
    assert q["scenes"][0]["incident_id"] == incident.incident_id and q["offense_types"] == ["shooting"]
    assert set(q["plates_returned"]) == set(got["plate"])
    # the elements are queryable without parsing JSON (the records DB view)
    elements = {r["element"] for r in Store.open(demo.path).db.query(
        "SELECT element FROM audit_elements WHERE seq = ?", (row["seq"],))}
    assert {"geography", "window_start_utc", "window_end_utc", "radius_m"} <= elements


def test_refused_canvass_before_any_read_is_recorded(demo, analyst):
    with pytest.raises(alpr.AccessDenied, match="purpose"):
        analyst.canvass((37.43, -121.91), 100, 10, 10, purpose=None, case_number="26-004512",
                        offense_type="shooting", at="2026-05-16 22:40")
    row = _rows(demo, "reads.canvass")[-1]
    assert row["outcome"] == "denied" and row["query"]["radius_m"] == 100
    with pytest.raises(alpr.ValidationError):
        analyst.canvass((137.43, -121.91), 100, 10, 10, purpose=PURPOSE, case_number="26-004512",
                        offense_type="shooting", at="2026-05-16 22:40")
    assert _rows(demo, "reads.canvass")[-1]["outcome"] == "error"


def test_a_mistyped_case_number_is_said_at_once(analyst):
    import alpr_lib as alpr

    with pytest.raises(alpr.NotFound, match="no incident on record with case number '26-999999'"):
        analyst.incidents(case_number="26-999999")
