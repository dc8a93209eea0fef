"""What the action fuzz (tests/access/test_fuzz_actions.py) needs for the hotlist and alert actions: a list,
alerts in separate pools (so verifying some leaves others to reject), and valid values for their fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import strategies as st

from alpr_lib.hotlists import DISPOSITIONS, REJECT_REASONS, SOURCES
from alpr_lib.records import alerts as alert_rows
from alpr_lib.store.store import Store

LIST = "fuzz-list"
#: plates of the list: alerts of the first three are verified (then disposed), of the last three rejected
PLATES = ("1FZA001", "1FZA002", "1FZA003", "1FZB001", "1FZB002", "1FZB003")


def hotlist_store(kit: Any, base: Path) -> None:
    """Grant the supervisor every source, import the list (with 7ABK123 and a partial plate) and read its
    plates once each, raising six alerts."""
    kit.login("admin").hotlists.grant("supervisor", list(SOURCES))
    listed = base / "fuzz-hotlist.csv"
    listed.write_text("plate,state,category,entered_at,expires_at,notes\n"
                      + "".join(f"{p},CA,stolen vehicle,2026-01-01,,\n" for p in PLATES)
                      + "7ABK123,CA,stolen plate,2026-01-01,,\n7AB?12*,,wanted person,2026-01-01,,\n")
    kit.login("supervisor").hotlists.import_list(listed, LIST, "department")
    now = datetime.now(UTC) - timedelta(hours=1)
    frame = pl.DataFrame({
        "read_id": [f"FZ{i}" for i in range(len(PLATES))], "plate": list(PLATES),
        "plate_confidence": [90.0] * len(PLATES), "region": ["CA"] * len(PLATES),
        "captured_at": [now + timedelta(minutes=i) for i in range(len(PLATES))],
        "camera_id": [f"CAM{i}" for i in range(len(PLATES))], "unit": ["U1"] * len(PLATES),
        "source": ["FUZZ"] * len(PLATES), "lat": [37.43] * len(PLATES), "lon": [-121.9] * len(PLATES),
        "heading": [0.0] * len(PLATES)}).with_columns(pl.col("captured_at").dt.cast_time_unit("us"))
    kit.login("ingest").ingest_reads(frame, progress=False)


def _alert_ids(path: Path) -> dict[str, str]:
    store = Store.open(path)
    try:
        return {r["plate"]: r["alert_id"] for r in alert_rows.rows(store.db)}
    finally:
        store.close()


def hotlist_values(path: Path, spec: Any) -> dict[str, st.SearchStrategy[Any]]:
    """Valid values by field name for the hotlist and alert actions (nothing for other actions)."""
    if spec.namespace not in ("hotlists", "alerts"):
        return {}
    ids = _alert_ids(path)
    pool = PLATES[3:] if spec.name == "alerts.reject" else PLATES[:3]
    out: dict[str, st.SearchStrategy[Any]] = {
        "sources": st.sampled_from([("department",), ["state", "federal"], ("state",)]),
        "source": st.sampled_from(list(SOURCES)) if spec.name == "hotlists.import" else st.just("department"),
        "file": st.just(path.parent / "fuzz-hotlist.csv"),
        "name": st.sampled_from([LIST, "fuzz-other"]) if spec.name == "hotlists.import" else st.just(LIST),
        "plate": st.sampled_from(["7ABK123", "7AB?12*", "7abk-123"]),
        "alert_id": st.sampled_from([ids[p] for p in pool if p in ids] or ["AL-none"]),
        "clets_ref": st.sampled_from(["CLETS-0001", "C-42"]), "vehicle_matches": st.sampled_from([None, True]),
        "vehicle_description": st.sampled_from([None, "grey sedan"]), "note": st.sampled_from([None, "checked"]),
        "reason": st.sampled_from(REJECT_REASONS[:-1]), "disposition": st.sampled_from(DISPOSITIONS),
        "status": st.sampled_from([None, "new", "verified", "rejected"]),
        "owner": st.sampled_from([None, "supervisor"]),
        "refresh_days": st.sampled_from([None, 1, 30]), "limit": st.sampled_from([None, 5, 100]),
    }
    if spec.name in ("hotlists.grant", "hotlists.revoke"):  # never the supervisor the other actions run as
        out["username"] = st.sampled_from(["victim1", "victim2", "analyst"])
    if spec.name == "alerts.list":
        out["limit"] = st.sampled_from([5, 100])
    return out
