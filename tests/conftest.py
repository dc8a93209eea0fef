"""Shared fixtures: isolated key/checkpoint directories and small stores built through the real API."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.bootstrap import init_store
from tests.pgserver import PostgresServer

ORG = "Milpitas Police Department"
PASSWORDS = {
    "admin": "Chief-pass-0001",
    "analyst": "Crime-pass-0002",
    "trainee": "Rookie-pass-0003",
    "auditor": "Review-pass-0004",
    "trainer": "Teach-pass-0005",
    "ingest": "Feeder-pass-0006",
    "supervisor": "Boss-pass-00007",
}


#: A department's first settings for the test stores, given the way a department gives them (``alpr init
#: --setting``, into the records database): argon2id at its minimum cost keeps the suite fast; production
#: keeps the RFC 9106 defaults.
TEST_SETTINGS = {"password_hash_time_cost": 1, "password_hash_memory_kib": 8192}


def write_audit_system_file(home: Path) -> Path:
    """The department way to place audit keys and checkpoints: the audit system file of the account that
    runs the store (``~/.config/alpr/audit.toml``, owner-only), naming directories outside every store."""
    config = home / ".config" / "alpr"
    config.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config / "audit.toml"
    path.write_text(f'key_dir = "{home / "keys"}"\ncheckpoint_dir = "{home / "checkpoints"}"\n')
    path.chmod(0o600)
    return path


def use_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as an account whose home is ``home`` (its audit system file names the keys and checkpoints)."""
    if not (home / ".config" / "alpr" / "audit.toml").exists():
        write_audit_system_file(home)
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh home (keys and checkpoints outside any store); no credentials leaking in from the environment."""
    use_home(tmp_path_factory.mktemp("alpr-home"), monkeypatch)
    for name in ("ALPR_USER", "ALPR_PASSWORD_FILE", "ALPR_STORE", "ALPR_CLIENT", "ALPR_FAULT_INJECT",
                 "ALPR_RECORDS_URL"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class StoreKit:
    """A store with one user per role; ``login(name)`` returns a Session."""

    path: Path
    passwords: dict[str, str] = field(default_factory=lambda: dict(PASSWORDS))
    #: the PostgreSQL records database, or None for SQLite inside the store
    records_url: str | None = None

    @property
    def backend(self) -> str:
        return "postgresql" if self.records_url else "sqlite"

    def login(self, name: str, **kwargs: object) -> alpr.Session:
        return alpr.login(name, self.passwords[name], self.path, **kwargs)


def make_kit(path: Path, *, kind: str = "operational", records_url: str | None = None) -> StoreKit:
    store = init_store(path, admin_username="admin", admin_password=PASSWORDS["admin"], full_name="Alex Morgan",
                       title="ALPR Administrator", organisation=ORG, kind=kind, synthetic=True,
                       records_url=records_url, settings=TEST_SETTINGS)
    store.close()
    kit = StoreKit(path, records_url=records_url)
    admin = kit.login("admin")
    for name, roles, member in (("analyst", ["analyst"], "member"), ("trainee", ["analyst"], "member"),
                                ("auditor", ["auditor"], "member"), ("trainer", ["trainer"], "member"),
                                ("supervisor", ["supervisor"], "member"), ("ingest", ["service"], "service")):
        admin.add_user(name, full_name=f"{name.title()} User", title=name.title(), organisation=ORG, roles=roles,
                       password=PASSWORDS[name], member_type=member, must_change_password=False)
    admin.certify("trainer")
    trainer = kit.login("trainer")
    for name in ("analyst", "auditor", "supervisor", "admin"):
        trainer.certify(name)
    return kit


@pytest.fixture
def kit(tmp_path: Path) -> StoreKit:
    return make_kit(tmp_path / "store")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server on 127.0.0.1 for this test process (stopped at the end, or at exit)."""
    if not PostgresServer.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs Debian's postgresql package")
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql)")
    server = PostgresServer.start(tmp_path_factory.mktemp("pg"))
    yield server
    server.stop()


def new_database(server: PostgresServer) -> str:
    """A fresh, empty database on the test server: one per store, as a department gives each store its own."""
    return server.create_database(f"alpr_{uuid.uuid4().hex[:16]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_kit(request: pytest.FixtureRequest, tmp_path: Path) -> StoreKit:
    """The ``kit`` store on each records backend in turn (modules that test both say ``kit = any_kit``)."""
    url = new_database(request.getfixturevalue("pg_server")) if request.param == "postgresql" else None
    return make_kit(tmp_path / "store", records_url=url)


PLATE_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def bucket_files_by_tier(store) -> dict[tuple[str, str], list[int]]:
    """Rows of each live plate-bucket file by (bucket, tier: purge or live, see ``plate_index.purge_edge``):
    compaction leaves one file per pair, and none straddles the edge."""
    from alpr_lib.store import plate_index
    from alpr_lib.timeutil import utc_now

    edge = plate_index.purge_edge(utc_now(), int(store.config.retention_days))
    out: dict[tuple[str, str], list[int]] = {}
    for row in store.db.query("SELECT path, partition, rows FROM store_files WHERE kind='by_plate' AND live=1"):
        out.setdefault((row["partition"], plate_index.tier(row["path"], edge)), []).append(row["rows"])
    return out


def random_reads(n: int, *, seed: int = 1, start: datetime = datetime(2026, 5, 25, tzinfo=UTC), days: int = 20,
                 plates: list[str] | None = None, prefix: str = "T") -> pl.DataFrame:
    """Small reads with plenty of near-duplicate plates, for brute-force comparisons."""
    rng = random.Random(seed)
    if plates is None:
        base = ["".join(rng.choice(PLATE_CHARS) for _ in range(rng.choice([6, 7, 7, 7]))) for _ in range(n // 4)]
        base += ["7ABK123", "7A8K123", "7ABK12", "7ABX129", "ZABK123", "7OBK123", "1ABC234", "IABC234"]
        plates = base
    rows = []
    for i in range(n):
        rows.append({
            "read_id": f"{prefix}{i:07d}",
            "plate": rng.choice(plates),
            "plate_confidence": round(rng.uniform(50, 99), 1),
            "region": rng.choice(["CA", "CA", "CA", "NV", "AZ"]),
            "captured_at": start + timedelta(seconds=rng.uniform(0, days * 86400)),
            "camera_id": f"CAM{rng.randint(1, 6)}",
            "unit": "U1",
            "source": "TEST",
            "lat": 37.43 + rng.uniform(-0.02, 0.02),
            "lon": -121.9 + rng.uniform(-0.02, 0.02),
            "heading": rng.uniform(0, 359),
        })
    return pl.DataFrame(rows).with_columns(pl.col("captured_at").dt.cast_time_unit("us"))


@dataclass(frozen=True)
class DemoStore:
    """A small demo store built once per test run by the real ``build_demo_store``."""

    path: Path
    passwords: dict[str, str]
    home: Path


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:

    from alpr_lib.demo import build_demo_store

    base = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        use_home(base, mp)
        result = build_demo_store(base / "store", n_reads=30_000, settings=TEST_SETTINGS)
    return DemoStore(base / "store", {u.username: u.password for u in result.users}, base)


@pytest.fixture
def demo_env(demo_store: DemoStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point ALPR_* at the demo store and log in headless as ``user`` (analyst by default)."""

    def use(user: str = "analyst") -> dict[str, str]:
        secret = tmp_path / f"{user}.pw"
        secret.write_text(demo_store.passwords[user] + "\n")
        secret.chmod(0o600)
        values = {"ALPR_STORE": str(demo_store.path), "ALPR_USER": user, "ALPR_PASSWORD_FILE": str(secret),
                  "HOME": str(demo_store.home)}
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        return values

    return use


def run_notebook(path: Path, *, timeout: int = 300) -> object:
    """Execute a copy of a notebook headless with nbclient; any failing cell fails the test."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook
