"""Numbered migrations, a store of release 0.1.0 brought up to date, stores bound to their records database,
and concurrent writers on PostgreSQL behaving as on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.records import open_records
from alpr_lib.records.migrations import LATEST, MIGRATIONS, migrate, schema_version
from alpr_lib.store.store import Store
from alpr_lib.stores import upgrade_store
from tests.conftest import PASSWORDS, make_kit, new_database, random_reads, use_home

FIXTURE = Path(__file__).parents[1] / "fixtures" / "store-release-0.1.tar.gz"


@pytest.fixture
def old_store(tmp_path, monkeypatch) -> Path:
    """The store written by release 0.1.0 (tests/fixtures/README.md), with its own key and checkpoints."""
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path, filter="data")
    use_home(tmp_path, monkeypatch)
    return tmp_path / "store"


def test_migrations_are_numbered_in_order():
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))
    assert all(m.sqlite.strip() and m.postgresql.strip() and m.description for m in MIGRATIONS)


def test_a_store_of_release_0_1_is_upgraded_by_the_migrations(old_store):
    db = open_records(None, old_store)
    assert schema_version(db) == 0  # 0.1.0 had tables but no schema_migrations
    audit_before = db.query("SELECT count(*) AS n FROM audit_log")[0]["n"]
    users_before = db.query("SELECT count(*) AS n FROM users")[0]["n"]
    db.close()
    with pytest.raises(alpr.StoreError, match="alpr upgrade --store"):  # its plate copy predates layout 3
        alpr.login("analyst", PASSWORDS["analyst"], old_store)
    assert upgrade_store(old_store) is True  # splits its bucket files at the purge edge
    analyst = alpr.login("analyst", PASSWORDS["analyst"], old_store)  # opening applies the migrations
    assert analyst.search_plates("7AB*", purpose="stolen plates").height == 24  # as release 0.1.0 found
    assert analyst.incidents().height == 1
    store = Store.open(old_store)
    assert schema_version(store.db) == LATEST and migrate(store.db) == []
    assert store.db.query("SELECT count(*) AS n FROM users")[0]["n"] == users_before
    assert store.db.query("SELECT count(*) AS n FROM audit_log")[0]["n"] > audit_before
    result = store.audit.verify()
    assert result.ok, str(result)  # the old chain and the records written after the upgrade
    admin = alpr.login("admin", PASSWORDS["admin"], old_store)
    admin.admin.set_setting("session_idle_minutes", 20)  # a table migration 2 added
    assert Store.open(old_store).config.session_idle_minutes == 20


def test_migrate_applies_each_version_once_on_both_backends(pg_server, tmp_path):
    for db in (open_records(None, tmp_path), open_records(new_database(pg_server), tmp_path)):
        assert migrate(db) == list(range(1, LATEST + 1))
        assert migrate(db) == [] and schema_version(db) == LATEST
        db.close()


def test_a_store_is_refused_with_another_stores_records_database(pg_server, tmp_path, monkeypatch):
    url = new_database(pg_server)
    first = make_kit(tmp_path / "first", records_url=url)
    first.login("ingest").ingest_reads(random_reads(50), progress=False)
    with pytest.raises(alpr.StoreError, match="belong together"):
        make_kit(tmp_path / "second", records_url=url)
    other = make_kit(tmp_path / "third", records_url=new_database(pg_server))
    monkeypatch.setenv("ALPR_RECORDS_URL", other.records_url)  # the first store pointed at the third's database
    with pytest.raises(alpr.StoreError, match="belong together"):
        first.login("analyst")
    monkeypatch.setenv("ALPR_RECORDS_URL", new_database(pg_server))  # ... or at an empty one
    with pytest.raises(alpr.StoreError, match="not this store's records database"):
        first.login("analyst")


def test_demo_and_init_keep_the_records_in_postgresql(pg_server, tmp_path):
    from click.testing import CliRunner

    from alpr_lib.cli.main import cli

    url = new_database(pg_server)
    out = CliRunner().invoke(cli, ["demo", "--store", str(tmp_path / "demo"), "--reads", "2000",
                                   "--records-url", url])
    assert out.exit_code == 0, out.output
    assert not (tmp_path / "demo" / "records.db").exists()
    assert f'records_url = "{url}"' in (tmp_path / "demo" / "store.toml").read_text()
    store = Store.open(tmp_path / "demo")
    assert store.db.dialect == "postgresql" and store.audit.verify().ok


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_ingests_and_searches_keep_the_manifest_whole(backend, request, tmp_path):
    """Three processes ingest while this one searches: every batch lands once, atomically, on both backends."""
    url = new_database(request.getfixturevalue("pg_server")) if backend == "postgresql" else None
    kit = make_kit(tmp_path / "store", records_url=url)
    batches = []
    for i in range(3):
        path = tmp_path / f"batch{i}.parquet"
        random_reads(3000, seed=70 + i, prefix=f"P{i}-").write_parquet(path)
        batches.append(path)
    script = textwrap.dedent(f"""
        import sys
        import alpr_lib as alpr
        s = alpr.login("ingest", {kit.passwords['ingest']!r}, {str(kit.path)!r})
        print(s.ingest_reads(sys.argv[1], progress=False).ingested)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(b)], env=dict(os.environ), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for b in batches]
    analyst = kit.login("analyst")
    seen = []
    while any(p.poll() is None for p in procs):
        seen.append(analyst.search_plates("7AB*", purpose="stolen plates").height)
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    assert sorted(int(out) for out, _ in results) == [3000, 3000, 3000]
    assert analyst.store_summary()["reads"] == 9000
    everything = pl.concat([pl.read_parquet(b) for b in batches])
    expected = everything.filter(pl.col("plate").str.starts_with("7AB")).height
    final = analyst.search_plates("7AB*", purpose="stolen plates", exact=True).height
    assert final == expected
    assert seen == sorted(seen)  # a reader never sees a batch vanish again
    store = Store.open(kit.path)
    assert store.audit.verify().ok
