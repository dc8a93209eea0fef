"""Time the audit review, the reports and the three oversight dashboards (issue 14); run by hand.

    .venv/bin/python bench/bench_review.py --dir /tmp/bench-review [--reads 300000] [--log 200000]

Builds a demo store (its planted misuse included) in DIR unless one is there, then times through the real
Session: ``s.audit.review()``, ``s.audit.report``, the transparency figures, and each dashboard's build after
login (what a user waits for, kernel side, the page's own loading not included). ``--log N`` also times the
rules alone over a crafted log of N data accesses (the engine is pure: no store needed). Median of 5 runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _store(base: Path, reads: int) -> dict[str, str]:
    from tests.conftest import TEST_SETTINGS, write_audit_system_file

    write_audit_system_file(base)
    os.environ["HOME"] = str(base)
    creds = base / "credentials.json"
    if not creds.exists():
        from alpr_lib.demo import build_demo_store

        start = time.perf_counter()
        result = build_demo_store(base / "store", n_reads=reads, settings=TEST_SETTINGS)
        print(f"demo store of {reads:,} reads built in {time.perf_counter() - start:.1f} s")
        creds.write_text(json.dumps({u.username: u.password for u in result.users}))
    return json.loads(creds.read_text())


def _dashboards(store: Path, passwords: dict[str, str]) -> None:
    from alpr_lib.viz import audit_dashboard, command_dashboard, compliance_dashboard
    from alpr_lib.viz.dashboard import Dashboard

    for name, module, user in (("command overview", command_dashboard, "command"),
                               ("audit review", audit_dashboard, "auditor"),
                               ("compliance", compliance_dashboard, "auditor")):
        def load(name: str = name, module=module, user: str = user) -> None:
            dash = Dashboard(name, module.build, store=store)
            dash.form.submit(user, passwords[user])
            assert dash.session is not None, dash.error_area.value
            dash.log_out()

        print(f"dashboard {name:17s} login + build: {_median(load):.2f} s")


def _engine(n: int) -> None:
    from alpr_lib.review.engine import run_rules
    from alpr_lib.review.model import Entry, ReviewInput
    from alpr_lib.review.rules import published_rules

    end = datetime(2026, 9, 30, tzinfo=UTC)
    entries = tuple(Entry(i, end - timedelta(seconds=13 * (n - i)), f"user{i % 40}", "reads.search",
                          purpose="stolen plates", query={"plate_pattern": f"7AB{i % 997:03d}", "note": "test"})
                    for i in range(n))
    data = ReviewInput(end - timedelta(days=30), end, ZoneInfo("America/Los_Angeles"), entries,
                       data_actions=frozenset({"reads.search"}))
    rules = published_rules()
    print(f"rules alone over a crafted log of {n:,} data accesses: {_median(lambda: run_rules(data, rules), 3):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--reads", type=int, default=300_000)
    parser.add_argument("--log", type=int, default=0)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    passwords = _store(args.dir, args.reads)
    import alpr_lib as alpr

    store = args.dir / "store"
    auditor = alpr.login("auditor", passwords["auditor"], store)
    records = auditor.audit.records().height
    print(f"audit log: {records:,} records")
    print(f"s.audit.review() (30 days): {_median(auditor.audit.review):.3f} s")
    now = datetime.now(UTC)
    period = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    print(f"s.audit.report({period}): {_median(lambda: auditor.audit.report(period, args.dir / 'r.html')):.3f} s")
    print(f"s.audit.transparency(): {_median(auditor.audit.transparency):.3f} s")
    _dashboards(store, passwords)
    if args.log:
        _engine(args.log)


if __name__ == "__main__":
    main()
