"""Release requests (issue 13, part 4; policy 462.7, Civil Code 1798.90.55, AG bulletin 2023-DLE-06): every
refused kind is refused at once, naming the legal reason, and kept on file; approval by the wrong role, by
someone without the designation or by whoever entered the request is refused; fulfilment before approval is
refused; an approved request is fulfilled with a package tied to it; the register keeps everything."""

from __future__ import annotations

import json

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.areas.releases import ReleaseRefused
from alpr_lib.evidence import verify_package
from tests.records_mgmt.helpers import straddling_reads

PLATE = "7ABK123"
REQUEST = {"agency_type": "law-enforcement", "state": "CA", "requester": "Det. R. Alvarez",
           "contact": "ralvarez@sjpd.example", "purpose": "homicide investigation 26-1234", "plate": PLATE,
           "start": "2025-10-01", "end": "2026-12-31", "scope": "all reads of 7ABK123 in the window"}


@pytest.fixture
def office(kit):
    kit.login("ingest").ingest_reads(straddling_reads(), progress=False)
    admin = kit.login("admin")
    for name, roles in (("command", ["command_staff"]), ("deputy", ["command_staff", "custodian_of_records"]),
                        ("other", ["command_staff"])):
        admin.add_user(name, full_name=f"{name.title()} User", title="Commander", organisation="MPD", roles=roles,
                       password=f"Release-pass-{len(name):04d}", must_change_password=False)
        kit.passwords[name] = f"Release-pass-{len(name):04d}"
        kit.login("trainer").certify(name)
    admin.designate("administration_division_commander", "command", title="Administration Division Commander")
    admin.designate("administration_division_commander_designee", "deputy", title="Deputy Commander")
    return kit


@pytest.mark.parametrize("agency_type,state,law", [
    ("federal", "CA", "federal"), ("private", "CA", "private"), ("other", "CA", "1798.90.55"),
    ("law-enforcement", "NV", "out-of-state"), ("prosecutor", "AZ", "out-of-state")])
def test_each_refused_kind_is_refused_naming_the_law_and_kept_on_file(office, run, agency_type, state, law):
    kit = office
    with pytest.raises(ReleaseRefused, match=r"1798\.90\.55") as refused:
        kit.login("admin").releases.add("Some Agency", **{**REQUEST, "agency_type": agency_type, "state": state})
    assert law in str(refused.value)
    if agency_type in ("private", "other"):
        assert "Custodian of Records" in str(refused.value)
    result = run("releases", "add", "--store", kit.path, "--user", "admin", "--agency", "Another Agency",
                 "--agency-type", agency_type, "--state", state, "--requester", "X", "--contact", "x@example",
                 "--purpose", "p", "--plate", PLATE, "--scope", "s", password=kit.passwords["admin"])
    assert result.exit_code != 0 and "1798.90.55" in result.output and law in result.output
    register = kit.login("command").releases.list()
    assert register.height == 2 and set(register["status"]) == {"refused"}
    assert all(law in reason for reason in register["legal_reason"])
    assert kit.login("command").releases.figures()["refused"] == 2


def test_the_review_rules_and_the_fulfilment(office, run, tmp_path):
    kit = office
    result = run("releases", "add", "--store", kit.path, "--user", "admin", "--agency", "San Jose PD",
                 *[f"--{k.replace('_', '-')}={v}" for k, v in REQUEST.items()], password=kit.passwords["admin"])
    assert result.exit_code == 0, result.output
    request_id = result.output.strip().splitlines()[-1]  # the id alone on the last line
    assert request_id.startswith("R")
    with pytest.raises(alpr.AccessDenied):  # fulfilment before approval
        kit.login("command").releases.fulfil(request_id, out=tmp_path / "early", purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied):  # the wrong role
        kit.login("supervisor").releases.approve(request_id)
    with pytest.raises(alpr.AccessDenied):  # the enterer (an administrator) holds no decision right
        kit.login("admin").releases.approve(request_id)
    with pytest.raises(alpr.AccessDenied, match="designation"):  # command staff without the designation
        kit.login("other").releases.approve(request_id)
    own = kit.login("deputy").releases.add("Santa Clara DA", **{**REQUEST, "agency_type": "prosecutor"})
    with pytest.raises(alpr.AccessDenied, match="entered"):  # the designee may not approve what they entered
        kit.login("deputy").releases.approve(own["request_id"])
    kit.login("command").releases.deny(own["request_id"], reason="no case number given")

    approved = run("releases", "approve", "--store", kit.path, "--user", "command", request_id,
                   password=kit.passwords["command"])
    assert approved.exit_code == 0, approved.output
    out = tmp_path / "release"
    fulfilled = run("releases", "fulfil", "--store", kit.path, "--user", "command", request_id, "--out", out,
                    "--purpose", "stolen plates", password=kit.passwords["command"])
    assert fulfilled.exit_code == 0, fulfilled.output
    assert verify_package(out).ok
    custody = json.loads((out / "custody.jsonl").read_text().splitlines()[0])
    assert custody["release_id"] == request_id
    released = pl.read_parquet(out / "reads.parquet")
    assert set(released["plate"]) == {PLATE} and released.height > 0
    with pytest.raises(alpr.AccessDenied):  # fulfilled once
        kit.login("command").releases.fulfil(request_id, out=tmp_path / "again", purpose="stolen plates")
    register = kit.login("admin").releases.list()
    row = register.filter(pl.col("request_id") == request_id).row(0, named=True)
    assert row["status"] == "fulfilled" and row["decided_by"] == "command" and row["entered_by"] == "admin"
    assert row["reads_released"] == released.height and row["package_id"]
    figures = kit.login("auditor").releases.figures()
    assert figures == {"approved": 1, "fulfilled": 1, "denied": 1, "refused": 0, "pending": 0, "total": 2}
