"""Load and faults, short and bounded (issue 16, part 5; the 60 s run is bench/bench_server.py): concurrent
remote clients, the service restarted mid-load, the PostgreSQL records database restarted mid-load. Zero
errors other than a clear ServiceUnavailable while something restarts, every answered call audited exactly
once, and every client recovers (a restarted service resumes the sessions; nobody logs in again)."""

from __future__ import annotations

import pytest

import alpr_lib as alpr
from bench.bench_server import CLIENT_KIND, ServiceProcess, audit_counts, last_seq, restart_postgres, run_load
from tests.conftest import make_kit, new_database, random_reads
from tests.jupyterlab import _free_port

CLIENTS = 20
ANSWERS = 4  # each client's answered calls at least (clients go on past the time for them)


def _store(tmp_path, records_url=None):
    kit = make_kit(tmp_path / "store", records_url=records_url)
    frame = random_reads(3000, days=12, seed=3)
    ingest = kit.login("ingest")
    ingest.ingest_reads(frame, source_name="load", progress=False)
    ingest.logout()
    return kit, sorted(set(frame.get_column("plate").to_list()))


def _check(kit, before, tally, *, restarts: int) -> None:
    assert tally.errors == [], tally.errors[:5]
    counts = audit_counts(kit.path, before, f"api:{CLIENT_KIND}")
    assert counts["calls"] == tally.answered >= CLIENTS * ANSWERS  # no answered call without its record, none lost
    # a client logs in again only if the restart caught its own login; the others resumed their sessions
    assert CLIENTS <= counts["logins"] <= CLIENTS + 5
    assert counts["resumes"] >= (CLIENTS - 5) * restarts
    if restarts:
        assert tally.unavailable > 0 and len(tally.recovered_after_s) > 0


@pytest.mark.slow
def test_concurrent_clients_and_a_service_restart_mid_load(tmp_path):
    kit, plates = _store(tmp_path)
    service = ServiceProcess(kit.path, _free_port(), tmp_path / "serve.log")
    service.start()
    before = last_seq(kit.path)
    try:
        tally = run_load(lambda: alpr.login("analyst", kit.passwords["analyst"], server=service.url,
                                            client=CLIENT_KIND), plates, clients=CLIENTS, seconds=8,
                         faults=[(3.0, service.restart)], min_answers_per_client=ANSWERS)
    finally:
        service.stop()
    _check(kit, before, tally, restarts=1)


@pytest.mark.slow
def test_records_database_restarted_mid_load(pg_server, tmp_path):
    kit, plates = _store(tmp_path, new_database(pg_server))
    service = ServiceProcess(kit.path, _free_port(), tmp_path / "serve.log")
    service.start()

    def restart_database() -> None:
        restart_postgres(pg_server)

    before = last_seq(kit.path)
    try:
        tally = run_load(lambda: alpr.login("analyst", kit.passwords["analyst"], server=service.url,
                                            client=CLIENT_KIND), plates, clients=CLIENTS, seconds=10,
                         faults=[(3.0, restart_database)], min_answers_per_client=ANSWERS)
    finally:
        service.stop()
    _check(kit, before, tally, restarts=0)
