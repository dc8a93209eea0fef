"""Hits become alerts: one alert per encounter, inside the transaction that makes the reads live.

An encounter is one entry's plate read at one camera with gaps of at most ``alert_encounter_minutes``: a
later read of it (in the same batch or the next one) is added to the open alert (its read count and last
read) instead of raising another alert, so an operator is not asked to verify the same car ten times."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from alpr_lib.hotlists import priority_of
from alpr_lib.records import Backend
from alpr_lib.records import alerts as alert_rows
from alpr_lib.timeutil import iso, parse_iso

__all__ = ["Recorded", "record_hits"]


@dataclass(frozen=True)
class Recorded:
    """What a batch's hits did: the new alerts (full rows, for the notification hook) and the updated ones."""

    new: tuple[dict[str, Any], ...] = ()
    updated: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.new) + len(self.updated)


def _alert_id(entry_id: str, read_id: str) -> str:
    return "AL-" + hashlib.sha1(f"{entry_id}|{read_id}".encode()).hexdigest()[:16]


def record_hits(tx: Backend, hits: pl.DataFrame, *, now: datetime, window_min: int) -> Recorded:
    """Write the alerts of ``hits`` (rows of :data:`alpr_lib.hotlists.matcher.HIT_SCHEMA`)."""
    if hits.height == 0:
        return Recorded()
    window = timedelta(minutes=window_min)
    known = alert_rows.known_pairs(tx, hits.get_column("read_id").to_list())
    fresh = [r for r in hits.iter_rows(named=True) if (r["entry_id"], r["read_id"]) not in known]
    rows = sorted(fresh, key=lambda r: (r["entry_id"], r["plate"], r["camera_id"], r["captured_at"]))
    if not rows:
        return Recorded()
    earliest = min(parse_iso(r["captured_at"]) for r in rows)
    open_alerts: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for found in alert_rows.open_encounters(tx, {r["plate"] for r in rows}, iso(earliest - window)):
        open_alerts.setdefault((found["entry_id"], found["plate"], found["camera_id"]), []).append(dict(found))
    stamp = iso(now)
    new: dict[str, dict[str, Any]] = {}
    updated: dict[str, int] = {}
    links: list[tuple[str, str, str]] = []
    for row in rows:
        key = (row["entry_id"], row["plate"], row["camera_id"])
        at = parse_iso(row["captured_at"])
        target = None
        for alert in open_alerts.get(key, []):
            lo, hi = parse_iso(alert["captured_at"]), parse_iso(alert["last_captured_at"])
            if lo - window <= at <= hi + window:
                target = alert
                break
        if target is None:
            alert = _new_alert(row, stamp)
            new[alert["alert_id"]] = alert
            open_alerts.setdefault(key, []).append(alert)
            links.append((alert["alert_id"], row["read_id"], row["captured_at"]))
            continue
        links.append((target["alert_id"], row["read_id"], row["captured_at"]))
        if target["alert_id"] in new:  # a later read in the same batch
            target["reads"] += 1
            if row["captured_at"] > target["last_captured_at"]:
                target["last_captured_at"], target["last_read_id"] = row["captured_at"], row["read_id"]
        else:
            updated[target["alert_id"]] = updated.get(target["alert_id"], 0) + 1
            alert_rows.extend(tx, target["alert_id"], row["read_id"], row["captured_at"], 1, stamp)
            if row["captured_at"] > target["last_captured_at"]:
                target["last_captured_at"] = row["captured_at"]
    alert_rows.insert(tx, list(new.values()))
    alert_rows.add_reads(tx, links)
    return Recorded(tuple(new.values()), tuple(updated))


def _new_alert(row: dict[str, Any], stamp: str) -> dict[str, Any]:
    return {
        "alert_id": _alert_id(row["entry_id"], row["read_id"]), "read_id": row["read_id"],
        "entry_id": row["entry_id"], "list_id": row["list_id"], "list_name": row["list_name"],
        "source": row["source"], "plate": row["plate"], "entry_plate": row["entry_plate"],
        "entry_state": row["entry_state"], "read_state": row["read_state"], "state_flag": row["state_flag"],
        "category": row["category"], "priority": priority_of(row["category"]), "match_kind": row["match_kind"],
        "differing": row["differing"], "stale": int(bool(row["stale"])), "entry_notes": row["entry_notes"],
        "camera_id": row["camera_id"], "captured_at": row["captured_at"], "last_read_id": row["read_id"],
        "last_captured_at": row["captured_at"], "reads": 1, "lat": row["lat"], "lon": row["lon"],
        "image_ref": row["image_ref"], "status": "new", "created_at": stamp, "updated_at": stamp,
    }
