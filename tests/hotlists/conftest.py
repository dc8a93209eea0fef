"""A small store with an operator, source grants and a hotlist, for the hotlist and alert tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import ORG, StoreKit

OPERATOR_PASSWORD = "Patrol-pass-0007"
HEADER = "plate,state,category,entered_at,expires_at,notes\n"


def add_operator(kit: StoreKit, *, grant: tuple[str, ...] = ("department", "state", "federal")) -> None:
    """An operator (certified) and source grants for the supervisor and the operator."""
    admin = kit.login("admin")
    admin.add_user("operator", full_name="Sam Nguyen", title="Patrol Officer", organisation=ORG, roles=["operator"],
                   password=OPERATOR_PASSWORD, must_change_password=False)
    kit.passwords["operator"] = OPERATOR_PASSWORD
    kit.login("trainer").certify("operator")
    for user in ("supervisor", "operator") if grant else ():
        admin.hotlists.grant(user, list(grant))


def sleep_past(moment: datetime, margin_s: float = 0.5) -> None:
    """Sleep until ``moment`` (UTC) has passed by ``margin_s``: an entry's expiry, however long the set-up took."""
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + margin_s)


def write_list(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def reads(rows: list[tuple[str, str | None, str, datetime]], *, prefix: str = "R") -> pl.DataFrame:
    """Reads of (plate, state, camera, time)."""
    return pl.DataFrame({
        "read_id": [f"{prefix}{i:05d}" for i in range(len(rows))],
        "plate": [r[0] for r in rows], "plate_confidence": [90.0] * len(rows),
        "region": [r[1] for r in rows], "captured_at": [r[3] for r in rows],
        "camera_id": [r[2] for r in rows], "unit": ["U1"] * len(rows), "source": ["TEST"] * len(rows),
        "lat": [37.43] * len(rows), "lon": [-121.9] * len(rows), "heading": [90.0] * len(rows),
    }, schema_overrides={"region": pl.String}).with_columns(pl.col("captured_at").dt.cast_time_unit("us"))


def recent(minutes: float = 0) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1) + timedelta(minutes=minutes)


@pytest.fixture
def hot(kit: StoreKit, tmp_path: Path) -> StoreKit:
    """``kit`` with an operator, grants, and a department list 'stolen' holding 7ABC123 (CA), 8DPR224 (CA),
    AMBER 5SAM781 (NV) and a partial plate 6TR?98* (wanted person)."""
    add_operator(kit)
    listed = write_list(tmp_path / "stolen.csv", [
        "7ABC123,CA,stolen vehicle,2026-01-05,,grey Honda Civic",
        "8DPR224,CA,stolen plate,2026-02-01,,",
        "5SAM781,NV,AMBER,2026-03-01,,child abduction: white van",
        "6TR?98*,,wanted person,2026-03-02,,partial plate from a witness (26-001871)",
    ])
    kit.login("supervisor").hotlists.import_list(listed, "stolen", "department")
    return kit
