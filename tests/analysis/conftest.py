"""Analysis fixtures: one demo-like store (generated sample + planted scenarios) shared by the module's tests.

Building a store costs seconds, so it is built once per session through the real API (users, training,
ingest) with its own key and checkpoint directories; each test points ALPR_KEY_DIR/ALPR_CHECKPOINT_DIR at
those again (the shared autouse fixture gives every test fresh, empty ones).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

import alpr_lib as alpr

SEED = 462
N_READS = 60_000


@dataclass(frozen=True)
class DemoKit:
    """A built demo store: where it is, its secrets directories and its users' passwords."""

    path: Path
    secrets: Path
    passwords: dict[str, str]
    credentials: Path

    def env(self) -> dict[str, str]:
        return {"ALPR_KEY_DIR": str(self.secrets / "keys"), "ALPR_CHECKPOINT_DIR": str(self.secrets / "checkpoints"),
                "ALPR_PASSWORD_HASH_TIME_COST": "1", "ALPR_PASSWORD_HASH_MEMORY_KIB": "8192"}

    def login(self, name: str) -> alpr.Session:
        return alpr.login(name, self.passwords[name], self.path)


@pytest.fixture(scope="session")
def demo_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoKit]:
    from alpr_lib.demo import build_demo_store

    base = tmp_path_factory.mktemp("analysis-demo")
    kit_env = DemoKit(base / "store", base / "secrets", {}, base / "credentials.json").env()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in kit_env.items():
            mp.setenv(key, value)
        result = build_demo_store(base / "store", n_reads=N_READS, seed=SEED)
    passwords = {u.username: u.password for u in result.users}
    creds = base / "credentials.json"
    creds.write_text(json.dumps(passwords))
    yield DemoKit(base / "store", base / "secrets", passwords, creds)


@pytest.fixture
def demo(demo_kit: DemoKit, _isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> DemoKit:
    """The shared demo store, with this test's environment pointed at its secrets."""
    for key, value in demo_kit.env().items():
        monkeypatch.setenv(key, value)
    return demo_kit


@pytest.fixture
def analyst(demo: DemoKit) -> alpr.Session:
    return demo.login("analyst")


@pytest.fixture(scope="session")
def all_reads(demo_kit: DemoKit) -> pl.DataFrame:
    """Every read the demo store holds, from the generator (the brute-force references scan this)."""
    from alpr_lib.samples import iter_reads

    return pl.concat(list(iter_reads(seed=SEED, n_reads=N_READS)))
