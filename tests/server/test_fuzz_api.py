"""Bad input over HTTP (issue 16, part 6): a property-based fuzz of every action route from the published
OpenAPI schema (schemathesis, bounded examples, loopback only): no 500, no traceback, every answer that is an
error is problem details, and every call is audited exactly once (records added == calls made)."""

from __future__ import annotations

import os

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

import alpr_lib as alpr
from alpr_lib.store.store import Store
from tests.conftest import random_reads

schemathesis = pytest.importorskip("schemathesis")

#: examples per route and generation mode (positive: what the schema admits; negative: what it does not)
EXAMPLES = int(os.environ.get("ALPR_FUZZ_EXAMPLES", "5"))
#: ends the fuzzing session itself (its refusal path is tested in test_api.py)
SKIP = {"/actions/logout"}


def _fuzz(url: str, token: str, operation, mode, calls: list[int]) -> None:
    strategy = operation.as_strategy(generation_mode=mode)
    headers = {"Authorization": f"Bearer {token}", "X-Alpr-Client": "fuzz"}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case) -> None:
        body = case.body
        if isinstance(body, (dict, list, str, int, float, bool)) or body is None:
            answer = httpx.post(f"{url}{operation.path}", json=body, headers=headers, timeout=120)
        else:
            answer = httpx.post(f"{url}{operation.path}", content=bytes(body), headers=headers, timeout=120)
        calls.append(answer.status_code)
        assert answer.status_code < 500, (operation.path, body, answer.text[:2000])
        assert "Traceback" not in answer.text, (operation.path, answer.text[:2000])
        if answer.status_code >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json"), answer.text[:500]
            assert answer.json()["detail"], answer.text[:500]

    run()


@pytest.mark.slow
@pytest.mark.parametrize("user", ["admin", "analyst"])
def test_fuzz_every_action_route_from_the_openapi_schema(kit, serve, user):
    ingest = kit.login("ingest")
    ingest.ingest_reads(random_reads(200), source_name="fuzz", progress=False)
    with serve(kit.path) as url:
        session = alpr.login(user, kit.passwords[user], server=url)
        token = session._conn.token
        schema = schemathesis.openapi.from_dict(httpx.get(f"{url}/openapi.json").json())
        audit = Store.open(kit.path).audit
        before = len(audit.rows())
        calls: list[int] = []
        operations = [r.ok() for r in schema.get_all_operations()]
        routes = [op for op in operations if op.path.startswith("/actions/") and op.path not in SKIP]
        assert len(routes) == len(alpr.actions()) - len(SKIP)
        routes += [op for op in operations if op.path == "/session/login"]  # each attempt is a login record
        for operation in routes:
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                _fuzz(url, token, operation, mode, calls)
        added = audit.rows()[before:]
    assert len(calls) >= len(routes)
    assert {r["action"] for r in added} >= {s.name for s in alpr.actions()} - {"logout"}
    assert len(added) == len(calls)  # every call, refused or not, has its one record
    refused = sum(code >= 400 for code in calls)
    assert sum(r["outcome"] != "allowed" for r in added) == refused
