"""Benchmark: building the training sandbox, grading a submitted answer, the roster, the training gate.

    python bench/bench_training.py [--reads 20000] [--members 200]

A fresh operational store (SQLite records) with ``--members`` trainees, each of whom answers every exercise of
the course; then the sandbox build, one ``training.submit`` (grade + attempt + audit record), the trainer's
roster over every member, and a search that passes the training gate. Results are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=200)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="alpr-bench-training-"))
    from tests.conftest import make_kit, write_audit_system_file

    write_audit_system_file(base)
    os.environ["HOME"] = str(base)
    from alpr_lib.records import training as attempt_rows
    from alpr_lib.store.store import Store
    from alpr_lib.timeutil import iso, utc_now
    from alpr_lib.training import expected_answer, load_course, sandbox_login

    kit = make_kit(base / "store")
    course = load_course()
    store = Store.open(kit.path)
    now = iso(utc_now())
    from alpr_lib.auth import users

    for k in range(args.members):  # members and their attempts written directly: the set-up is not measured
        name = f"member{k:04d}"
        users.create_user(store.db, store.config, username=name, full_name=f"Member {k}", title="Officer",
                          organisation="MPD", roles=["analyst"], password="Bench-pass-00001", created_by="bench",
                          must_change_password=False)
        for module in course.modules:
            for ex in module.exercises:
                attempt_rows.insert_attempt(store.db, {
                    "username": name, "course_version": course.version, "module_id": module.id,
                    "exercise_id": ex.id, "answer": json.dumps(str(expected_answer(ex, course))), "correct": 1,
                    "feedback": "", "attempted_at": now, "store_kind": "training", "session_id": None})
    store.close()
    trainer = kit.login("trainer")
    out: dict[str, float | int] = {"reads": args.reads, "members": args.members,
                                   "exercises": course.exercise_count}
    t = time.perf_counter()
    trainer.training.build_sandbox(n_reads=args.reads)
    out["sandbox_build_s"] = round(time.perf_counter() - t, 2)
    trainee = sandbox_login(kit.path, "trainee", kit.passwords["trainee"], client="script")
    times = []
    for _ in range(20):
        t = time.perf_counter()
        trainee.training.submit("canvass", "suspect", "8MKT417")
        times.append(time.perf_counter() - t)
    out["submit_ms_median"] = round(sorted(times)[len(times) // 2] * 1000, 1)
    t = time.perf_counter()
    roster = trainer.training.roster()
    out["roster_s"] = round(time.perf_counter() - t, 3)
    out["roster_rows"] = roster.height
    analyst = kit.login("analyst")
    times = []
    for _ in range(20):
        t = time.perf_counter()
        analyst.search_plates("7ABK123", purpose="stolen plates")  # behind the training gate (462.3(d))
        times.append(time.perf_counter() - t)
    out["gated_call_ms_median"] = round(sorted(times)[len(times) // 2] * 1000, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
