"""Offense-scaled limits: over-limit canvasses are refused unless a supervisor's approval covers them."""

from __future__ import annotations

import json

import pytest

import alpr_lib as alpr
from alpr_lib.analysis.limits import DEFAULT_LIMITS, offense_table, parse_offense_limits
from alpr_lib.config import load_config
from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from tests.analysis.conftest import PURPOSE, incident_args

CASE = "26-004512"  # the shooting: default limit 2000 m, 360 min either side


def _last(demo, action: str) -> dict:
    row = Store.open(demo.path).audit.rows(AuditFilter(action=action))[-1]
    row["query"] = json.loads(row["query"])
    return row


def test_over_limit_is_refused_and_recorded_as_denied(demo, analyst, key):
    incident = analyst.create_incident(**incident_args(key, CASE))
    with pytest.raises(alpr.AccessDenied, match=r"exceeds the department limit for a shooting.*grant_approval"):
        analyst.canvass(incident, 2500, 30, 30, purpose=PURPOSE, case_number=CASE)
    row = _last(demo, "reads.canvass")
    assert row["outcome"] == "denied" and "radius 2500 m > 2000 m" in row["reason"]
    assert row["query"]["over_limit"] is True and row["query"]["radius_m"] == 2500
    assert row["query"]["scenes"][0]["incident_id"] == incident.incident_id
    with pytest.raises(alpr.AccessDenied, match="min before"):
        analyst.canvass(incident, 300, 400, 30, purpose=PURPOSE, case_number=CASE)


def test_supervisor_approval_lifts_the_limit_for_that_case_and_request(demo, analyst, supervisor, key):
    incident = analyst.create_incident(**incident_args(key, CASE))
    approval = supervisor.grant_approval(CASE, analyst="analyst", offense_type="shooting", radius_m=3000,
                                         before_min=60, after_min=60, incident_id=incident.incident_id,
                                         reason="Suspect vehicle fled toward I-680; wider canvass needed.")
    got = analyst.canvass(incident, 2500, 60, 60, purpose=PURPOSE, case_number=CASE, approval=approval)
    assert "8MKT417" in set(got["plate"])
    row = _last(demo, "reads.canvass")
    assert row["outcome"] == "allowed" and row["query"]["approval_id"] == approval
    grant = _last(demo, "approvals.grant")
    assert grant["username"] == "supervisor" and grant["query"]["approval_id"] == approval
    assert grant["case_number"] == CASE
    # the approval covers that request only: a larger one, another case or another analyst is refused
    with pytest.raises(alpr.AccessDenied, match="radius_m 3500 > approved 3000"):
        analyst.canvass(incident, 3500, 60, 60, purpose=PURPOSE, case_number=CASE, approval=approval)
    with pytest.raises(alpr.AccessDenied, match="before_min 90 > approved 60"):
        analyst.canvass(incident, 2500, 90, 60, purpose=PURPOSE, case_number=CASE, approval=approval)
    with pytest.raises(alpr.AccessDenied, match="it is for case 26-004512, not 26-999999"):
        analyst.canvass(incident, 2500, 60, 60, purpose=PURPOSE, case_number="26-999999", approval=approval)
    with pytest.raises(alpr.AccessDenied, match="granted to analyst, not supervisor"):
        supervisor.canvass(incident, 2500, 60, 60, purpose=PURPOSE, case_number=CASE, approval=approval)
    other = analyst.create_incident(**incident_args(key, "26-003307"))
    with pytest.raises(alpr.AccessDenied, match="covers incident"):
        analyst.canvass((other.lat, other.lon), 2500, 60, 60, purpose=PURPOSE, case_number=CASE,
                        offense_type="shooting", at="2026-05-16 22:40", approval=approval)
    assert _last(demo, "reads.canvass")["outcome"] == "denied"


def test_only_supervisors_grant_and_never_for_themselves(demo, analyst, supervisor):
    with pytest.raises(alpr.AccessDenied, match="may not approve"):
        analyst.grant_approval(CASE, analyst="analyst", offense_type="shooting", radius_m=3000, before_min=60,
                               after_min=60, reason="I would like a bigger canvass please.")
    with pytest.raises(alpr.AccessDenied, match="cannot approve their own"):
        supervisor.grant_approval(CASE, analyst="supervisor", offense_type="shooting", radius_m=3000,
                                  before_min=60, after_min=60, reason="Approving my own request here.")
    with pytest.raises(alpr.ValidationError, match="reason"):
        supervisor.grant_approval(CASE, analyst="analyst", offense_type="shooting", radius_m=3000, before_min=60,
                                  after_min=60, reason="ok")
    with pytest.raises(alpr.NotFound):
        analyst.canvass((37.43, -121.91), 2500, 10, 10, purpose=PURPOSE, case_number=CASE, offense_type="shooting",
                        at="2026-05-16 22:40", approval="APR-nothere")


def test_within_limit_needs_no_approval_and_bare_point_uses_its_offense(analyst):
    analyst.canvass((37.43, -121.91), 500, 60, 60, purpose=PURPOSE, case_number=CASE,
                    offense_type="catalytic converter theft", at="2026-02-10 02:10")
    with pytest.raises(alpr.AccessDenied, match="catalytic converter theft"):
        analyst.canvass((37.43, -121.91), 501, 60, 60, purpose=PURPOSE, case_number=CASE,
                        offense_type="Catalytic_Converter  theft", at="2026-02-10 02:10")
    with pytest.raises(alpr.AccessDenied, match="limit for a jaywalking"):  # unknown offense: the 'other' row
        analyst.canvass((37.43, -121.91), 400, 10, 10, purpose=PURPOSE, case_number=CASE,
                        offense_type="jaywalking", at="2026-02-10 02:10")


def test_department_settings_override_the_defaults():
    stored = {"offense_limits": {"shooting": {"max_radius_m": 5000},
                                 "graffiti tagging": {"max_after_min": 5, "serious": False}}}
    table = offense_table(load_config(stored))
    assert table["shooting"].max_radius_m == 5000 and table["shooting"].max_before_min == 360
    assert table["graffiti tagging"].max_after_min == 5 and table["graffiti tagging"].max_radius_m == 300
    assert offense_table(load_config()) == DEFAULT_LIMITS
    as_json = offense_table(load_config({"offense_limits": '{"burglary": {"serious": true}}'}))
    assert as_json["burglary"].serious
    for bad in ({"shooting": {"max_radius_m": -1}}, {"shooting": {"radius": 5}}, {"shooting": 5},
                {"shooting": {"serious": "yes"}}):
        with pytest.raises(alpr.ConfigError):
            parse_offense_limits(bad)
