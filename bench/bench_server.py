"""Load and faults for the API service (issue 16, part 5): concurrent remote clients doing searches, plate
histories and canvasses, loopback only, bounded in time and count; p50/p95/p99 per operation, errors, and the
audit log checked against the requests (every answered call has exactly one record).

Faults (optional): ``--restart-service-at S`` stops the service gracefully S seconds in and starts it again
(clients see a clear ServiceUnavailable, then resume their sessions without logging in again);
``--restart-database-at S`` restarts the PostgreSQL records database (clients see ServiceUnavailable "the
records database is not answering", then recover). Embedded figures (the same calls in-process) are measured
first for comparison. Results go into docs/benchmarks.md.

    .venv/bin/python bench/bench_server.py --dir /tmp/bench-srv --clients 20 --seconds 60
    .venv/bin/python bench/bench_server.py --dir /tmp/bench-srv-pg --postgres --clients 20 --seconds 60 \\
        --restart-service-at 20 --restart-database-at 40
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PURPOSE = "criminal investigation"
CASE = "24-001234"
CLIENT_KIND = "load"


@dataclass
class Tally:
    """What the clients saw: latencies per operation, answered calls, errors by kind."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    answered: int = 0  # calls that got an answer (a result or a refusal): each must have its audit record
    unavailable: int = 0  # ServiceUnavailable (the service or its database was restarting)
    errors: list[str] = field(default_factory=list)  # anything else: must stay empty
    recovered_after_s: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, op: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(op, []).append(seconds)
            self.answered += 1


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"n": len(ordered), "p50_ms": round(pick(0.50), 1), "p95_ms": round(pick(0.95), 1),
            "p99_ms": round(pick(0.99), 1), "mean_ms": round(statistics.fmean(ordered) * 1000, 1)}


def operations(plates: list[str]) -> dict[str, Callable[[Any, random.Random], Any]]:
    """The three calls each client makes in turn, on plates and places the store holds."""
    def search(s: Any, rng: random.Random) -> Any:
        plate = rng.choice(plates)
        return s.search_plates(plate[:3] + "*", purpose=PURPOSE, case_number=CASE)

    def history(s: Any, rng: random.Random) -> Any:
        return s.plate_history(rng.choice(plates), purpose=PURPOSE, case_number=CASE)

    def canvass(s: Any, rng: random.Random) -> Any:
        day = 26 + rng.randrange(10)
        return s.canvass((37.43, -121.9), 500, 30, 30, purpose=PURPOSE, case_number=CASE, offense_type="homicide",
                         at=f"2026-05-{day:02d} 12:00" if day <= 31 else f"2026-06-{day - 31:02d} 12:00")

    return {"search": search, "history": history, "canvass": canvass}


def client_loop(make_session: Callable[[], Any], ops: dict[str, Callable], tally: Tally, deadline: float,
                seed: int, max_calls: int, min_answers: int = 0, hard_deadline: float = 0.0) -> None:
    """One client's calls until ``deadline``, or past it (never past ``hard_deadline``) until it has had
    ``min_answers`` answers: on a slow machine a restart can take most of a short run."""
    from alpr_lib.errors import AlprError, ServiceUnavailable

    rng = random.Random(seed)
    session = None
    names = list(ops)
    calls = answers = 0
    down_since: float | None = None
    while calls < max_calls and ((now := time.monotonic()) < deadline
                                 or (answers < min_answers and now < hard_deadline)):
        try:
            if session is None:
                session = make_session()
            op = names[calls % len(names)]
            calls += 1
            started = time.perf_counter()
            ops[op](session, rng)
            tally.add(op, time.perf_counter() - started)
            answers += 1
            if down_since is not None:
                with tally.lock:
                    tally.recovered_after_s.append(time.monotonic() - down_since)
                down_since = None
        except ServiceUnavailable as exc:
            with tally.lock:
                tally.unavailable += 1
                if getattr(exc, "recorded", None):  # the call failed under a database restart, and is audited
                    tally.answered += 1
            down_since = down_since or time.monotonic()
            time.sleep(0.2)
        except AlprError as exc:  # a refusal is an answer too (audited), but none is expected here
            with tally.lock:
                tally.answered += 1
                tally.errors.append(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a load client reports, never dies
            with tally.lock:
                tally.errors.append(f"{type(exc).__name__}: {exc}")


def run_load(make_session: Callable[[], Any], plates: list[str], *, clients: int, seconds: float,
             max_calls_per_client: int = 100_000, faults: list[tuple[float, Callable[[], None]]] = (),
             min_answers_per_client: int = 0, grace_s: float = 60.0) -> Tally:
    """``clients`` threads, each with its own session, for ``seconds``; ``faults`` run at their times. A client
    short of ``min_answers_per_client`` answers at the end goes on for up to ``grace_s`` more seconds, so
    that a test's load is a count of calls, not whatever a slow machine managed in the time."""
    tally = Tally()
    ops = operations(plates)
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=client_loop, args=(make_session, ops, tally, deadline, i,
                                                          max_calls_per_client, min_answers_per_client,
                                                          deadline + grace_s), daemon=True)
               for i in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for at, fault in sorted(faults, key=lambda f: f[0]):
        time.sleep(max(0.0, start + at - time.monotonic()))
        fault()
    for thread in threads:
        thread.join(timeout=seconds + grace_s + 120)
    return tally


# ---------------------------------------------------------------------------------------------- set-up
def restart_postgres(pg: Any, down_s: float = 1.0) -> None:
    """Restart the test PostgreSQL as an administrator would (``pg_ctl stop -m fast``: sessions cut, committed
    work kept). Its ``stop()`` is an immediate shutdown, a crash: with the test server's
    ``synchronous_commit=off`` that loses the last commits, which a production server (on) does not."""
    pg._run("pg_ctl", "-D", str(pg.datadir), "stop", "-m", "fast", "-w", "-t", "30", timeout_s=45)
    time.sleep(down_s)
    pg._start(60)


def build_store(directory: Path, reads: int, records_url: str | None) -> tuple[Path, dict[str, str], list[str]]:
    from tests.conftest import make_kit, random_reads, write_audit_system_file

    write_audit_system_file(Path(os.environ["HOME"]))
    kit = make_kit(directory / "store", records_url=records_url)
    ingest = kit.login("ingest")
    frame = random_reads(reads, days=12, seed=3)
    ingest.ingest_reads(frame, source_name="bench", progress=False)
    ingest.logout()
    plates = sorted(set(frame.get_column("plate").to_list()))
    return kit.path, kit.passwords, plates


class ServiceProcess:
    """``alpr serve`` on a fixed loopback port, stoppable and restartable."""

    def __init__(self, store: Path, port: int, log: Path) -> None:
        self.store, self.port, self.log = store, port, log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import httpx

        alpr = Path(sys.executable).with_name("alpr")
        self.proc = subprocess.Popen([str(alpr), "serve", "--store", str(self.store), "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))  # noqa: SIM115
        for _ in range(240):
            if self.proc.poll() is not None:
                raise RuntimeError("alpr serve exited: " + self.log.read_text()[-2000:])
            try:
                httpx.get(f"{self.url}/health", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.25)
        raise RuntimeError("alpr serve did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # graceful: calls in flight finish (and are audited) first
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def audit_counts(store: Path, since_seq: int, client: str) -> dict[str, int]:
    """The audit records of ``client`` after ``since_seq``: action calls, logins and session resumes."""
    from alpr_lib.store.store import Store

    opened = Store.open(store)
    try:
        rows = [r for r in opened.audit.rows() if r["seq"] > since_seq and r["client"] == client]
    finally:
        opened.close()
    logins = sum(r["action"] == "login" for r in rows)
    resumes = sum(r["action"] == "session.resume" for r in rows)
    return {"calls": len(rows) - logins - resumes, "logins": logins, "resumes": resumes}


def last_seq(store: Path) -> int:
    from alpr_lib.store.store import Store

    opened = Store.open(store)
    try:
        rows = opened.audit.rows()
        return rows[-1]["seq"] if rows else 0
    finally:
        opened.close()


def report(tally: Tally) -> dict[str, Any]:
    return {"answered": tally.answered, "unavailable": tally.unavailable, "errors": len(tally.errors),
            "first_errors": tally.errors[:5], "recovered_after_s": [round(x, 2) for x in tally.recovered_after_s[:5]],
            **{op: percentiles(v) for op, v in sorted(tally.latencies.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--postgres", action="store_true", help="records database on a throwaway PostgreSQL")
    parser.add_argument("--restart-service-at", type=float, default=None)
    parser.add_argument("--restart-database-at", type=float, default=None)
    parser.add_argument("--embedded-seconds", type=float, default=15)
    args = parser.parse_args()

    args.dir.mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(args.dir / "home")
    (args.dir / "home").mkdir(exist_ok=True)
    pg = None
    url = None
    if args.postgres:
        from tests.pgserver import PostgresServer

        pg = PostgresServer.start(args.dir / "pg")
        url = pg.create_database("alpr_bench")
    try:
        store, passwords, plates = build_store(args.dir, args.reads, url)
        import alpr_lib as alpr
        from tests.jupyterlab import _free_port

        results: dict[str, Any] = {"reads": args.reads, "clients": args.clients, "seconds": args.seconds,
                                   "records": "postgresql" if pg else "sqlite"}
        # embedded: the same calls in-process, one session per client thread
        embedded = run_load(lambda: alpr.login("analyst", passwords["analyst"], store, client=CLIENT_KIND),
                            plates, clients=args.clients, seconds=args.embedded_seconds)
        results["embedded"] = report(embedded)
        service = ServiceProcess(store, _free_port(), args.dir / "serve.log")
        service.start()
        faults = []
        if args.restart_service_at is not None:
            faults.append((args.restart_service_at, service.restart))
        if args.restart_database_at is not None and pg is not None:
            def restart_db() -> None:
                restart_postgres(pg)
            faults.append((args.restart_database_at, restart_db))
        before = last_seq(store)
        try:
            remote = run_load(lambda: alpr.login("analyst", passwords["analyst"], server=service.url,
                                                 client=CLIENT_KIND), plates, clients=args.clients,
                              seconds=args.seconds, faults=faults)
        finally:
            service.stop()
        results["remote"] = report(remote)
        results["audit"] = {**audit_counts(store, before, f"api:{CLIENT_KIND}"), "answered_calls": remote.answered}
        print(json.dumps(results, indent=2))
    finally:
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
