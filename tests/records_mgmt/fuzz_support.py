"""What the action fuzz (tests/access/test_fuzz_actions.py) needs for the records-management actions (issue 13):
the supervisor also holds command staff and is the Administration Division Commander, pools of holds to release
and of release requests to approve, deny and fulfil, an evidence package and an encrypted one, a purge
certificate, and valid values for their fields."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from alpr_lib.records import holds as hold_rows
from alpr_lib.records import purges as purge_rows
from alpr_lib.records import releases as release_rows
from alpr_lib.store.store import Store

POOL_SIZE = 12
_OUT = itertools.count(1)
REQUEST = {"agency_type": "law-enforcement", "state": "CA", "requester": "Det. R. Alvarez",
           "contact": "ralvarez@sjpd.example", "purpose": "homicide investigation", "plate": "7ABK123",
           "scope": "reads of 7ABK123"}
CASE = {"purpose": "criminal investigation", "case_number": "24-001234"}


def records_store(kit: Any, base: Path) -> None:
    admin = kit.login("admin")
    admin.admin.set_roles("supervisor", ["supervisor", "command_staff"])
    admin.designate("administration_division_commander", "supervisor", title="Administration Division Commander")
    supervisor = kit.login("supervisor")
    for i in range(POOL_SIZE):
        supervisor.holds.add(f"fuzz hold {i}", plate="7ABK123", **CASE)
    requests = [admin.releases.add("San Jose PD", **REQUEST)["request_id"] for _ in range(3 * POOL_SIZE)]
    for request_id in requests[:POOL_SIZE]:
        supervisor.releases.approve(request_id, note="fuzz pool: to fulfil")
    analyst = kit.login("analyst")
    analyst.evidence.export(base / "fuzz-pkg", item="E-1", reason="fuzz", plate="7ABK123", **CASE)
    analyst.evidence.export(base / "fuzz-enc", item="E-2", reason="fuzz", plate="7ABK123",
                            key_file=str(base / "fuzz-evidence.key"), **CASE)
    admin.retention.purge(progress=False)


def _state(path: Path) -> tuple[list[str], list[str], list[str]]:
    """The fuzz's holds, its release requests (in the order entered) and purges: fixed lists, whatever their
    state now (hypothesis needs the same choices on every run; a released hold is then refused, audited)."""
    store = Store.open(path)
    try:
        holds = [h["hold_id"] for h in hold_rows.all_holds(store.db) if h["reason"].startswith("fuzz hold")]
        requests = [r["request_id"] for r in release_rows.all_requests(store.db)
                    if r["agency"] == "San Jose PD" and r["entered_by"] == "admin"][:3 * POOL_SIZE]
        purges = [r["purge_id"] for r in purge_rows.runs(store.db)][:1]
        return holds, requests, purges
    finally:
        store.close()


def _fresh(prefix: str) -> st.SearchStrategy[str]:
    return st.builds(lambda: f"{prefix}-{next(_OUT)}")


def records_values(path: Path, spec: Any) -> dict[str, st.SearchStrategy[Any]]:
    """Valid values by field name for the records-management actions (nothing for other actions)."""
    if spec.namespace not in ("retention", "holds", "evidence", "releases") and spec.name not in (
            "users.set_roles", "store.backup", "audit.rotate_key"):
        return {}
    holds, entered, purges = _state(path)
    requests = {"releases.fulfil": entered[:POOL_SIZE], "releases.approve": entered[POOL_SIZE:2 * POOL_SIZE],
                "releases.deny": entered[2 * POOL_SIZE:]}
    base = path.parent
    out: dict[str, st.SearchStrategy[Any]] = {
        "hold_id": st.sampled_from(holds or ["H-none"]) if spec.name == "holds.release" else st.none(),
        "request_id": st.sampled_from(requests.get(spec.name) or ["R-none"]),
        "purge_id": st.sampled_from(purges or ["p-none"]),
        "out": _fresh("fuzz-out"), "item": st.just("E-9"), "to_person": st.just("Property room"),
        "note": st.sampled_from([None, "locker 12"]), "read_ids": st.none(), "reads": st.none(),
        "key_file": st.none(), "passphrase": st.none(), "dry_run": st.booleans(),
        "active_only": st.booleans(), "agency": st.just("San Jose PD"),
        "agency_type": st.sampled_from(["law-enforcement", "prosecutor", "law-enforcement", "federal"]),
        "state": st.sampled_from(["CA", "CA", "NV"]), "requester": st.just(REQUEST["requester"]),
        "contact": st.just(REQUEST["contact"]), "scope": st.just(REQUEST["scope"]),
        "plate": st.just("7ABK123"), "roles": st.sampled_from([("analyst",), ["analyst", "auditor"]]),
    }
    if spec.name in ("evidence.verify", "evidence.transfer"):
        out["path"] = st.just(base / "fuzz-pkg")
    if spec.name == "evidence.decrypt":
        out["path"] = st.just(base / "fuzz-enc")
        out["key_file"] = st.just(str(base / "fuzz-evidence.key"))
    if spec.name == "releases.add":
        out["purpose"] = st.just(REQUEST["purpose"])
    return out
