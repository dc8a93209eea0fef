"""The access note and the audit review through the real door, on a real store (issue 14, items 1 and 2).

The note travels with every data access into its audit record (and the export); the department may require it
per purpose. The review is an audited action whose flags name real audit records; an auditor marks a flag
reviewed, exports its records, and looks up who queried a plate; the CLI prints one JSON object per flag.
"""

from __future__ import annotations

import json
import stat
from datetime import timedelta

import pytest
from click.testing import CliRunner

import alpr_lib as alpr
from alpr_lib.access.door import synthetic_clock
from alpr_lib.audit.events import AuditRecord
from alpr_lib.bootstrap import init_store
from alpr_lib.cli.main import cli
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now
from tests.conftest import ORG, TEST_SETTINGS, random_reads

NOTE = "white sedan seen leaving the shooting"


def _rows(kit) -> list[dict]:
    store = Store.open(kit.path)
    try:
        return store.audit.rows()
    finally:
        store.close()


def _query(row: dict) -> dict:
    return json.loads(row["query"])


@pytest.fixture
def stocked(kit):
    kit.login("ingest").ingest_reads(random_reads(300), progress=False)
    return kit


@pytest.fixture
def cli_as(monkeypatch, tmp_path):
    def invoke(kit, user: str, *args: str):
        secret = tmp_path / f"{user}.pw"
        secret.write_text(kit.passwords[user])
        secret.chmod(0o600)
        monkeypatch.setenv("ALPR_PASSWORD_FILE", str(secret))
        return CliRunner().invoke(cli, [*args[:2], "--store", str(kit.path), "--user", user, *args[2:]]
                                  if args[0] == "audit" else [args[0], "--store", str(kit.path), "--user", user,
                                                              *args[1:]])
    return invoke


# ------------------------------------------------------------------------------------------------ the note
def test_every_data_access_takes_a_note_into_its_audit_record(stocked):
    analyst = stocked.login("analyst")
    analyst.search_plates("7AB*", purpose="stolen plates", note=NOTE)
    analyst.plate_history("7ABK123", purpose="stolen plates", note="  owner reported the plate stolen  ")
    analyst.reads.search("7AB*", purpose="stolen plates")  # additive: no note is still fine
    rows = _rows(stocked)[-3:]
    assert [r["action"] for r in rows] == ["reads.search", "reads.history", "reads.search"]
    assert [_query(r)["note"] for r in rows] == [NOTE, "owner reported the plate stolen", None]
    data_actions = [a for a in alpr.actions() if a.needs_purpose]
    assert {"reads.search", "reads.history", "reads.details", "reads.canvass", "reads.convoy"} <= \
        {a.name for a in data_actions}
    import inspect

    for spec in data_actions:  # every data access, those other areas add included, shows note= in its signature
        method = getattr(getattr(analyst, spec.namespace), spec.method)
        assert "note" in inspect.signature(method).parameters, spec.name


def test_a_note_is_refused_where_not_text_and_on_actions_without_a_purpose(stocked):
    analyst = stocked.login("analyst")
    with pytest.raises(alpr.ValidationError, match="note must be text"):
        analyst.search_plates("7AB*", purpose="stolen plates", note=42)
    last = _rows(stocked)[-1]
    assert (last["action"], last["outcome"]) == ("reads.search", "error")
    with pytest.raises(alpr.ValidationError):
        analyst.store_info.summary(note="why")  # no purpose, no note


def test_the_department_may_require_a_note_per_purpose_and_a_refusal_is_audited(stocked):
    stocked.login("admin").admin.set_setting("notes_required_for", ["stolen plates"])
    analyst = stocked.login("analyst")
    with pytest.raises(alpr.AccessDenied, match="requires a note"):
        analyst.search_plates("7AB*", purpose="stolen plates")
    denied = _rows(stocked)[-1]
    assert (denied["action"], denied["outcome"], denied["purpose"]) == ("reads.search", "denied", "stolen plates")
    with pytest.raises(alpr.AccessDenied, match="requires a note"):
        analyst.search_plates("7AB*", purpose="stolen plates", note="   ")
    analyst.search_plates("7AB*", purpose="stolen plates", note=NOTE)
    analyst.search_plates("7AB*", purpose="missing persons")  # not listed: no note needed
    with pytest.raises(alpr.ValidationError, match="purpose names"):
        stocked.login("admin").admin.set_setting("notes_required_for", "[1, 2]")


def test_cli_note_reaches_the_audit_record_and_the_export(stocked, cli_as, tmp_path):
    result = cli_as(stocked, "analyst", "search", "7AB*", "--purpose", "stolen plates", "--note", NOTE)
    assert result.exit_code == 0, result.output
    result = cli_as(stocked, "analyst", "history", "7ABK123", "--purpose", "stolen plates", "--note", "tow check")
    assert result.exit_code == 0, result.output
    out = tmp_path / "audit.jsonl"
    result = cli_as(stocked, "auditor", "audit", "export", "-o", str(out))
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    notes = [r["query"].get("note") for r in exported if r["action"] in ("reads.search", "reads.history")]
    assert notes[-2:] == [NOTE, "tow check"]


# ------------------------------------------------------------------------------------------------ the review
def _misuse(kit) -> None:
    analyst = kit.login("analyst")
    for _ in range(5):
        analyst.plate_history("7ABK123", purpose="stolen plates", note="test")
    analyst.search_plates("*K123", purpose="suspect interdiction", note="cars at the abortion clinic protest")
    trainee = kit.login("trainee")
    for _ in range(3):
        with pytest.raises(alpr.AccessDenied):
            trainee.search_plates("7AB*", purpose="stolen plates")


def test_review_flags_name_real_records_and_the_review_is_audited(stocked):
    _misuse(stocked)
    before = {r["seq"]: r for r in _rows(stocked)}
    review = stocked.login("auditor").audit.review()
    assert review.chain["status"] == "intact" and review.rules.default_window_days == 30
    rules = {f.rule for f in review.flags}
    assert {"generic_note", "repeated_plate", "broad_query", "sensitive_term", "denied_attempts"} <= rules
    for flag in review.flags:
        assert flag.records and all(seq in before for seq in flag.records), flag
    repeated = next(f for f in review.flags if f.rule == "repeated_plate")
    assert {before[s]["action"] for s in repeated.records} == {"reads.history"} and len(repeated.records) == 5
    denied = next(f for f in review.flags if f.rule == "denied_attempts")
    assert {before[s]["outcome"] for s in denied.records} == {"denied"}
    audited = _rows(stocked)[-1]
    assert (audited["action"], audited["username"], audited["outcome"]) == ("audit.review", "auditor", "allowed")
    assert _query(audited)["chain_status"] == "intact" and _query(audited)["flags"]["repeated_plate"] == 1
    assert review.by_user.filter(review.by_user["username"] == "analyst")["data_accesses"].item() == 6


def test_a_clean_store_has_no_misuse_flags(stocked):
    analyst = stocked.login("analyst")
    analyst.plate_history("7ABK123", purpose="criminal investigation", case_number="24-001234", note=NOTE)
    analyst.create_incident("24-001234", "burglary", "2026-06-02T10:00", lat=37.43, lon=-121.9)
    review = stocked.login("auditor").audit.review()
    # a good note, a recorded case: only the hour of the day the test runs may be outside 06:00-22:00
    assert {f.rule for f in review.flags} <= {"after_hours"}, review.flag_dicts()


def test_mark_reviewed_and_export_a_flag(stocked, tmp_path):
    _misuse(stocked)
    auditor = stocked.login("auditor")
    review = auditor.audit.review()
    flag = next(f for f in review.flags if f.rule == "repeated_plate")
    window = {"start": review.start, "end": review.end}
    row = auditor.audit.mark_reviewed(flag.flag_id, "lookups were a stolen-car follow-up; no misuse",
                                      follow_up="reminded the analyst to give a case number", **window)
    assert (row["rule"], row["username"], row["records"]) == ("repeated_plate", "analyst", list(flag.records))
    again = auditor.audit.review(**window)
    assert again.reviewed[flag.flag_id]["finding"].startswith("lookups were")
    assert next(d for d in again.flag_dicts() if d["flag_id"] == flag.flag_id)["reviewed"]["reviewed_by"] == "auditor"
    marked = _rows(stocked)[-2]
    assert (marked["action"], _query(marked)["records"]) == ("audit.mark_reviewed", list(flag.records))
    with pytest.raises(alpr.NotFound, match="no flag"):
        auditor.audit.mark_reviewed("repeated_plate-000000000000", "nothing", **window)
    with pytest.raises(alpr.ValidationError, match="say what the review found"):
        auditor.audit.mark_reviewed(flag.flag_id, "  ", **window)

    out = tmp_path / "ia-file.jsonl"
    assert auditor.audit.export_flag(flag.flag_id, out, **window) == len(flag.records)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    header, *records = [json.loads(line) for line in out.read_text().splitlines()]
    assert header["flag"]["flag_id"] == flag.flag_id and header["chain"]["status"] == "intact"
    assert [r["seq"] for r in records] == list(flag.records) and all(r["hash"] for r in records)
    assert header["review"]["follow_up"] == "reminded the analyst to give a case number"


def test_reverse_lookup_who_looked_up_a_plate(stocked, cli_as):
    _misuse(stocked)
    found = stocked.login("auditor").audit.plate_lookups("7abk-123")
    assert set(found["how"]) >= {"queried", "pattern"}
    assert set(found.filter(found["how"] == "queried")["action"]) == {"reads.history"}
    queried = found.filter(found["how"] == "queried")
    assert queried.height == 5 and set(queried["username"]) == {"analyst"}
    assert _rows(stocked)[-1]["action"] == "audit.plate_lookups"
    with pytest.raises(alpr.AccessDenied):
        stocked.login("analyst").audit.plate_lookups("7ABK123")
    result = cli_as(stocked, "auditor", "audit", "lookups", "7ABK123")
    assert result.exit_code == 0 and "reads.history" in result.output and "queried" in result.output


def test_cli_review_json_one_object_per_flag(stocked, cli_as):
    _misuse(stocked)
    result = cli_as(stocked, "auditor", "audit", "review", "--json")
    assert result.exit_code == 0, result.output
    flags = [json.loads(line) for line in result.output.splitlines()]
    seqs = {r["seq"] for r in _rows(stocked)}
    assert flags and {"generic_note", "repeated_plate", "denied_attempts"} <= {f["rule"] for f in flags}
    for flag in flags:
        assert {"rule", "username", "records", "explanation", "flag_id", "chain_status"} <= set(flag)
        assert set(flag["records"]) <= seqs and flag["explanation"]
    text = cli_as(stocked, "auditor", "audit", "review", "--start", "2026-01-01")
    assert text.exit_code == 0 and "audit chain intact" in text.output and "repeated_plate" in text.output
    refused = cli_as(stocked, "analyst", "audit", "review")
    assert refused.exit_code == 1 and "may not" in refused.output
    marked = cli_as(stocked, "auditor", "audit", "mark-reviewed", flags[0]["flag_id"], "--finding", "seen",
                    "--start", flags[0]["review_period"]["start"], "--end", flags[0]["review_period"]["end"])
    assert marked.exit_code == 0, marked.output


def test_department_tuning_through_the_audited_setting(stocked):
    _misuse(stocked)
    admin = stocked.login("admin")
    admin.admin.set_setting("audit_rules", {"repeated_plate": {"min_lookups": 6}, "denied_attempts":
                                            {"enabled": False}})
    review = stocked.login("auditor").audit.review()
    assert not {"repeated_plate", "denied_attempts"} & {f.rule for f in review.flags}
    assert review.rules["repeated_plate"].tuned == ("min_lookups",)
    with pytest.raises(alpr.ValidationError, match="no parameter"):
        admin.admin.set_setting("audit_rules", {"burst": {"maximum": 3}})


def test_disabled_user_activity_fires_on_a_crafted_log(stocked):
    """The door ends a disabled user's sessions, so only a crafted record (as an old or broken system might
    have left) shows activity after the disable; the rule still reads it."""
    stocked.login("admin").admin.disable_user("supervisor")
    store = Store.open(stocked.path)
    try:
        seq = store.audit.append(AuditRecord(
            time=iso(utc_now()), username="supervisor", organisation=ORG, action="reads.search",
            query={"plate_pattern": "7AB*", "note": "after the disable"}, purpose="stolen plates",
            result_count=3, client="script", session_id="crafted"))
    finally:
        store.close()
    review = stocked.login("auditor").audit.review()
    flag = next(f for f in review.flags if f.rule == "disabled_user_session")
    assert flag.username == "supervisor" and seq in flag.records


def test_review_reports_a_tampered_chain(stocked):
    _misuse(stocked)
    store = Store.open(stocked.path)
    try:
        store.db.execute("UPDATE audit_log SET purpose = ? WHERE seq = ?", ("missing persons", 5))
    finally:
        store.close()
    review = stocked.login("auditor").audit.review()
    assert review.chain["status"] == "tampered" and review.chain["first_bad"] == 5


def test_synthetic_clock_only_on_synthetic_stores(tmp_path):
    store = init_store(tmp_path / "real", admin_username="admin", admin_password="Chief-pass-0001",
                       full_name="A", title="Admin", organisation=ORG, synthetic=False, settings=TEST_SETTINGS)
    store.close()
    admin = alpr.login("admin", "Chief-pass-0001", tmp_path / "real", new_password="Chief-pass-0002")
    with pytest.raises(alpr.AccessDenied, match="only for demo and training"), \
            synthetic_clock(admin, lambda: utc_now() - timedelta(days=100)):
        pass


def test_synthetic_clock_records_say_so(stocked):
    stocked.login("trainer").certify("analyst", completed_at=utc_now() - timedelta(days=10))
    analyst = stocked.login("analyst")
    past = utc_now() - timedelta(days=3)
    with synthetic_clock(analyst, lambda: past):
        analyst.plate_history("7ABK123", purpose="stolen plates", note=NOTE)
    analyst.plate_history("7ABK123", purpose="stolen plates", note=NOTE)  # real time again, session alive
    planted, real = _rows(stocked)[-2:]
    assert planted["time"] == iso(past) and _query(planted)["synthetic_clock"] is True
    assert "synthetic_clock" not in _query(real) and real["time"] > iso(past)
