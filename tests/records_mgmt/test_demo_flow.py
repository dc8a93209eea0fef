"""The acceptance interface in a demo store (issue 13, part 6): operator ingests (a backfill of old reads is
accepted and counted), admin purges and records release requests, analyst holds and exports evidence for a
case, supervisor releases holds, and command (the Administration Division Commander) approves and fulfils."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from alpr_lib.demo import build_demo_store
from alpr_lib.store.store import Store
from alpr_lib.timeutil import utc_now
from tests.conftest import TEST_SETTINGS, random_reads, use_home


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("rec-demo")
    with pytest.MonkeyPatch.context() as mp:
        use_home(base, mp)
        result = build_demo_store(base / "store", n_reads=4_000, settings=TEST_SETTINGS)
    return base, {u.username: u.password for u in result.users}


def test_the_demo_roles_do_their_parts_on_the_command_line(demo, run, monkeypatch, tmp_path):
    base, passwords = demo
    use_home(base, monkeypatch)
    store = str(base / "store")

    def as_(user, *args):
        return run(*args, "--store", store, "--user", user, password=passwords[user])

    backfill = tmp_path / "backfill.csv"
    random_reads(30, seed=5, prefix="BF", start=utc_now() - timedelta(days=500), days=5,
                 plates=["4OLD999"]).write_csv(backfill)
    ingested = as_("operator", "ingest", backfill)
    assert ingested.exit_code == 0, ingested.output
    assert "30 of them already past the retention period" in ingested.output

    held = as_("analyst", "holds", "add", "--case", "26-000123", "--reason", "suspect vehicle", "--plate", "4OLD999",
               "--purpose", "criminal investigation")
    assert held.exit_code == 0, held.output
    hold_id = held.output.strip().splitlines()[-1]
    dry = as_("admin", "purge", "--dry-run")
    assert dry.exit_code == 0 and "30 kept under legal hold" in dry.output, dry.output
    released = as_("supervisor", "holds", "release", hold_id, "--reason", "not needed after all")
    assert released.exit_code == 0, released.output
    purged = as_("admin", "purge", "--no-progress")
    assert purged.exit_code == 0 and "purge certificate" in purged.output, purged.output
    gone = as_("analyst", "history", "4OLD999", "--purpose", "stolen plates")
    assert gone.exit_code == 0 and "no reads matched" in gone.output

    plate = _a_plate(base)
    exported = as_("analyst", "evidence", "export", "--case", "26-000123", "--item", "E-1", "--reason",
                   "seen near the scene", "--out", tmp_path / "pkg", "--plate", plate, "--purpose",
                   "criminal investigation")
    assert exported.exit_code == 0, exported.output
    assert as_("analyst", "evidence", "verify", tmp_path / "pkg").exit_code == 0

    added = as_("admin", "releases", "add", "--agency", "San Jose PD", "--agency-type", "law-enforcement",
                "--state", "CA", "--requester", "Det. Alvarez", "--contact", "x@sjpd.example", "--purpose",
                "robbery investigation", "--plate", plate, "--scope", "every read of the plate")
    assert added.exit_code == 0, added.output
    request_id = added.output.strip().splitlines()[-1]
    assert as_("command", "releases", "approve", request_id).exit_code == 0
    fulfilled = as_("command", "releases", "fulfil", request_id, "--out", tmp_path / "release", "--purpose",
                    "criminal investigation", "--case", "26-000123")
    assert fulfilled.exit_code == 0, fulfilled.output
    register = as_("command", "releases", "list")
    assert register.exit_code == 0 and "fulfilled" in register.output
    verified = Store.open(base / "store")
    try:
        assert verified.audit.verify().ok
    finally:
        verified.close()


def _a_plate(base) -> str:
    store = Store.open(base / "store")
    try:
        from alpr_lib.records import manifest

        files = [store.path / p for p in manifest.live_paths(store.db, "reads")]
        return pl.read_parquet(files, columns=["plate"]).group_by("plate").len().sort("len").row(-1)[0]
    finally:
        store.close()
