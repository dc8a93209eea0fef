"""Training gate (462.3(d)), purposes (462.3(a), 462.5(b)) and case numbers; every refusal audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

import alpr_lib as alpr
from alpr_lib.timeutil import utc_now
from tests.conftest import make_kit, random_reads


def _denials(kit, name: str):
    return kit.login("auditor").audit_records(username=name, outcome="denied")


def test_uncertified_user_is_refused_with_the_reason_and_audited(kit):
    trainee = kit.login("trainee")
    with pytest.raises(alpr.AccessDenied, match=r"no ALPR training certification.*462\.3\(d\)"):
        trainee.search_plates("7AB?12*", purpose="criminal investigation", case_number="24-001234")
    with pytest.raises(alpr.AccessDenied, match="certification"):
        trainee.plate_history("7ABK123", purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied, match="certification"):
        trainee.read_details("T0000001", purpose="stolen plates")
    denied = _denials(kit, "trainee")
    assert denied["action"].to_list() == ["reads.search", "reads.history", "reads.details"]
    first = denied.row(0, named=True)
    assert first["purpose"] == "criminal investigation" and first["case_number"] == "24-001234"
    assert '"plate_pattern": "7AB?12*"' in first["query"]


def test_expired_certification_is_refused(kit):
    kit.login("trainer").certify("trainee", completed_at=(utc_now() - timedelta(days=400)).isoformat(),
                                 valid_days=365)
    with pytest.raises(alpr.AccessDenied, match="expired on"):
        kit.login("trainee").search_plates("7AB*", purpose="stolen plates")


def test_certification_opens_access(kit):
    kit.login("trainer").certify("trainee")
    assert kit.login("trainee").search_plates("7AB*", purpose="stolen plates").height == 0


def test_only_trainers_and_administrators_certify_and_it_is_audited(kit):
    with pytest.raises(alpr.AccessDenied):
        kit.login("supervisor").certify("trainee")
    kit.login("trainer").certify("trainee", course="ALPR refresher")
    records = kit.login("auditor").audit_records(action="training.certify")
    last = records.row(-1, named=True)
    assert last["username"] == "trainer" and '"target_user": "trainee"' in last["query"]
    assert records.filter(records["outcome"] == "denied").height == 1


@pytest.mark.parametrize("purpose, case, message", [
    (None, None, "state the purpose"),
    ("", None, "state the purpose"),
    ("curiosity", None, "not an authorised ALPR purpose"),
    ("criminal investigation", None, "requires a case number"),
    ("criminal investigation", "2024-1234", "does not match the department format"),
    ("stolen plates", "not a case", "does not match"),
])
def test_purpose_and_case_rules(kit, purpose, case, message):
    with pytest.raises(alpr.AccessDenied, match=message):
        kit.login("analyst").search_plates("7AB*", purpose=purpose, case_number=case)
    assert _denials(kit, "analyst").height == 1


def test_purpose_names_are_case_insensitive_and_recorded_canonically(kit):
    kit.login("analyst").search_plates("7AB*", purpose="  Stolen Plates ")
    record = kit.login("auditor").audit_records(action="reads.search").row(-1, named=True)
    assert record["purpose"] == "stolen plates" and record["outcome"] == "allowed"


def test_department_configuration_changes_purposes_and_case_format(kit):
    admin = kit.login("admin")
    admin.admin.set_setting("case_number_pattern", r"^MPD-\d{4}$")
    admin.admin.set_setting("purposes", [{"name": "criminal investigation", "requires_case": True},
                                   {"name": "missing persons"}])
    analyst = kit.login("analyst")
    with pytest.raises(alpr.AccessDenied, match="not an authorised"):
        analyst.search_plates("7AB*", purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied, match="department format"):
        analyst.search_plates("7AB*", purpose="criminal investigation", case_number="24-001234")
    analyst.search_plates("7AB*", purpose="criminal investigation", case_number="MPD-1234")


def test_training_store_admits_uncertified_trainees_and_says_so(tmp_path):
    kit = make_kit(tmp_path / "training", kind="training")
    kit.login("ingest").ingest_reads(random_reads(50), progress=False)
    trainee = kit.login("trainee")
    assert "TRAINING STORE" in repr(trainee)
    trainee.search_plates("7AB*", purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied, match="purpose"):
        trainee.search_plates("7AB*", purpose=None)
    record = kit.login("auditor").audit_records(action="reads.search").row(-1, named=True)
    assert record["store_kind"] == "training"
