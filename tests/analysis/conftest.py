"""Analysis fixtures: one store (generated sample with planted scenarios, plus dense traffic around the
day-boundary and DST scenes) shared by the analysis tests, and the exact reads it holds for brute force.

The store is built once per session through the real API with its own key and checkpoint directories; each
test runs with HOME at that account's home again (the shared autouse fixture gives every test a fresh one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.store.schema import READ_SCHEMA

SEED = 462
N_READS = 40_000
START = date(2025, 12, 1)
PURPOSE = "criminal investigation"

#: Dense synthetic traffic: (centre lat, centre lon, centre time UTC) around the planted edge-case scenes.
HOTSPOTS = (
    (37.4276, -121.8935, datetime(2026, 3, 8, 10, 0, tzinfo=UTC)),    # spring-forward night, Calaveras & I-680
    (37.4158, -121.9045, datetime(2026, 11, 1, 8, 45, tzinfo=UTC)),   # fall-back night, Great Mall Pkwy & Main
    (37.4088, -121.8925, datetime(2026, 4, 15, 0, 0, tzinfo=UTC)),    # midnight UTC, Montague & Capitol
    (37.4320, -121.9150, datetime(2026, 5, 16, 5, 40, tzinfo=UTC)),   # the shooting at Calaveras & Abel
)


def dense_reads(n_per_spot: int = 1500, seed: int = 7) -> pl.DataFrame:
    """Reads scattered ±1.5 km and ±3 h around each hotspot, with repeated plates (so scenes share vehicles)."""
    rng = np.random.default_rng(seed)
    plates = np.array([f"Z{i:05d}X" for i in range(400)])
    parts = []
    for k, (lat, lon, when) in enumerate(HOTSPOTS):
        n = n_per_spot
        secs = rng.uniform(-3 * 3600, 3 * 3600, n)
        parts.append(pl.DataFrame({
            "read_id": [f"DENSE{k}-{i:06d}" for i in range(n)],
            "plate": rng.choice(plates, n),
            "plate_raw": None, "plate_confidence": rng.uniform(60, 99, n).astype(np.float32),
            "region": "CA",
            "captured_at": [when + timedelta(seconds=float(s)) for s in secs],
            "camera_id": rng.choice([f"DENSE-C{j}" for j in range(12)], n),
            "unit": "Dense test unit", "source": "TEST",
            "lat": lat + rng.normal(0, 0.006, n), "lon": lon + rng.normal(0, 0.007, n),
            "heading": rng.uniform(0, 360, n).astype(np.float32), "image_ref": None,
        }, schema_overrides={"plate_raw": pl.String, "image_ref": pl.String}))
    return pl.concat(parts).cast(READ_SCHEMA).select(list(READ_SCHEMA))


@dataclass(frozen=True)
class DemoKit:
    """A built store: where it is, its secrets directories, its users' passwords and every read it holds."""

    path: Path
    secrets: Path
    passwords: dict[str, str]
    reads: pl.DataFrame

    def env(self) -> dict[str, str]:
        """The environment of the account that owns the store (its home holds the audit system file)."""
        return {"HOME": str(self.secrets)}

    def login(self, name: str) -> alpr.Session:
        return alpr.login(name, self.passwords[name], self.path)


@pytest.fixture(scope="session")
def demo_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoKit]:
    """Generated sample reads (planted scenarios included) plus dense traffic, ingested through the API."""
    from alpr_lib.samples import iter_reads
    from tests.conftest import PASSWORDS, make_kit, use_home

    base = tmp_path_factory.mktemp("analysis-demo")
    days = (datetime.now(UTC).date() - START).days - 1  # reads in the future are (rightly) refused at ingest
    reads = pl.concat([*iter_reads(seed=SEED, n_reads=N_READS, start=START, days=days), dense_reads()])
    kit = DemoKit(base / "store", base / "secrets", dict(PASSWORDS), reads)
    with pytest.MonkeyPatch.context() as mp:
        kit.secrets.mkdir()
        use_home(kit.secrets, mp)
        make_kit(kit.path)
        report = kit.login("ingest").ingest_reads(reads, source_name="analysis test reads", progress=False)
        assert report.ingested == reads.height, report.summary()
    yield kit


@pytest.fixture
def demo(demo_kit: DemoKit, _isolated_env: None, monkeypatch: pytest.MonkeyPatch) -> DemoKit:
    """The shared store, with this test's environment pointed at its secrets."""
    for key, value in demo_kit.env().items():
        monkeypatch.setenv(key, value)
    return demo_kit


@pytest.fixture
def analyst(demo: DemoKit) -> alpr.Session:
    return demo.login("analyst")


@pytest.fixture
def supervisor(demo: DemoKit) -> alpr.Session:
    return demo.login("supervisor")


@pytest.fixture(scope="session")
def all_reads(demo_kit: DemoKit) -> pl.DataFrame:
    """Every read the store holds (the brute-force references scan this)."""
    return demo_kit.reads


@pytest.fixture(scope="session")
def key() -> dict:
    from alpr_lib.samples import planted_scenarios

    return planted_scenarios(SEED)


def incident_args(key: dict, case_number: str) -> dict:
    """Keyword arguments for ``create_incident`` from the answer key's incident of that case."""
    i = next(x for x in key["incidents"] if x["case_number"] == case_number)
    return {"case_number": i["case_number"], "offense_type": i["offense_type"], "occurred_at": i["occurred_start"],
            "occurred_end": i["occurred_end"], "lat": i["lat"], "lon": i["lon"], "location_name": i["location_name"],
            "exist_ok": True}
