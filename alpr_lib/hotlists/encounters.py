"""Hits become alerts: one alert per encounter, inside the transaction that makes the reads live.

An encounter is one entry's plate read at one camera with gaps of at most ``alert_encounter_minutes``: a
later read of it (in the same batch or the next one) is added to the open alert (its read count and last
read) instead of raising another alert, so an operator is not asked to verify the same car ten times."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import polars as pl

from alpr_lib.hotlists import CATEGORIES, priority_of
from alpr_lib.records import Backend
from alpr_lib.records import alerts as alert_rows
from alpr_lib.timeutil import iso, parse_iso

__all__ = ["AlertPlan", "Recorded", "plan_alerts", "record_hits", "write_alerts"]


@dataclass(frozen=True)
class Recorded:
    """What a batch's hits did: the new alerts and the updated ones. ``new`` (full rows, for the notification
    hook) is built only when asked for: a busy list raises tens of thousands of alerts a batch."""

    joined: tuple[dict[str, Any], ...] = ()
    fresh: pl.DataFrame = field(default_factory=pl.DataFrame)
    updated: tuple[str, ...] = ()

    @property
    def raised(self) -> int:
        return len(self.joined) + self.fresh.height

    @cached_property
    def new(self) -> tuple[dict[str, Any], ...]:
        return (*self.joined, *self.fresh.to_dicts())

    @property
    def count(self) -> int:
        return self.raised + len(self.updated)


@dataclass(frozen=True)
class AlertPlan:
    """The alert rows a batch's hits will write, worked out before the ingest's transaction (which then only
    writes them): new alerts of hits that met an open alert's key, the open alerts they extend, the new
    encounters, and the alert of every hit."""

    joined: tuple[dict[str, Any], ...] = ()
    extends: tuple[tuple[str, str, str, int, str], ...] = ()
    updated: tuple[str, ...] = ()
    fresh: pl.DataFrame = field(default_factory=pl.DataFrame)
    links: tuple[tuple[str, str, str], ...] = ()


def _alert_id(entry_id: str, read_id: str) -> str:
    return "AL-" + hashlib.sha1(f"{entry_id}|{read_id}".encode()).hexdigest()[:16]


_KEY = ["entry_id", "plate", "camera_id"]


def record_hits(tx: Backend, hits: pl.DataFrame, *, now: datetime, window_min: int) -> Recorded:
    """Write the alerts of ``hits`` (rows of :data:`alpr_lib.hotlists.matcher.HIT_SCHEMA`)."""
    return write_alerts(tx, plan_alerts(tx, hits, now=now, window_min=window_min))


def write_alerts(tx: Backend, plan: AlertPlan) -> Recorded:
    """The planned rows, inside the transaction that makes the reads live."""
    for extend in plan.extends:
        alert_rows.extend(tx, *extend)
    alert_rows.insert(tx, list(plan.joined))
    alert_rows.insert_frame(tx, plan.fresh)
    alert_rows.add_reads(tx, list(plan.links))
    return Recorded(plan.joined, plan.fresh, plan.updated)


def plan_alerts(db: Backend, hits: pl.DataFrame, *, now: datetime, window_min: int) -> AlertPlan:
    """The alert rows of ``hits``; reads the records database only (the ingest holds the store's writer lock,
    so no other ingest adds alerts between this and the write).

    Hits whose (entry, plate, camera) has an alert still open from an earlier batch go row by row (they may
    join it); every other encounter is cut from the time-sorted hits where the key changes or the gap exceeds
    the window, in one pass over the frame (a busy list raises tens of thousands of alerts a batch)."""
    if hits.height == 0:
        return AlertPlan()
    window = timedelta(minutes=window_min)
    known = alert_rows.known_pairs(db, hits.get_column("read_id").to_list())
    if known:
        hits = hits.join(pl.DataFrame(sorted(known), schema=["entry_id", "read_id"], orient="row"),
                         on=["entry_id", "read_id"], how="anti")
    if hits.height == 0:
        return AlertPlan()
    hits = hits.sort([*_KEY, "captured_at"], maintain_order=True)
    earliest = parse_iso(hits.get_column("captured_at").min())  # type: ignore[arg-type]
    open_alerts: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for found in alert_rows.open_encounters(db, hits.get_column("plate").unique().to_list(),
                                            iso(earliest - window)):
        open_alerts.setdefault((found["entry_id"], found["plate"], found["camera_id"]), []).append(dict(found))
    stamp = iso(now)
    if open_alerts:
        keys = pl.DataFrame(list(open_alerts), schema=_KEY, orient="row")
        joining = hits.join(keys, on=_KEY, how="semi").sort([*_KEY, "captured_at"], maintain_order=True)
        hits = hits.join(keys, on=_KEY, how="anti").sort([*_KEY, "captured_at"], maintain_order=True)
        new, updated, extends, links = _join_open(joining, open_alerts, window, stamp)
    else:
        new, updated, extends, links = {}, {}, [], []
    fresh, fresh_links = _new_encounters(hits, window, stamp)
    return AlertPlan(tuple(new.values()), tuple(extends), tuple(updated), fresh, (*links, *fresh_links))


def _new_encounters(hits: pl.DataFrame, window: timedelta, stamp: str) -> tuple[pl.DataFrame, list[tuple[Any, ...]]]:
    """Encounters with no open alert (hits sorted by key and time): one new alert each, and the alert of each
    hit. An alert's last read is its latest (the first of equal times)."""
    if hits.height == 0:
        return pl.DataFrame(), []
    at = pl.col("captured_at").str.to_datetime(time_zone="UTC", time_unit="us")
    starts = pl.lit(False)
    for column in _KEY:
        starts = starts | (pl.col(column) != pl.col(column).shift(1))
    starts = starts | ((at - at.shift(1)) > window) | pl.int_range(pl.len()).eq(0)
    hits = hits.with_columns(starts.fill_null(True).cum_sum().alias("_encounter"))
    latest = pl.col("captured_at").max()
    alerts = hits.group_by("_encounter", maintain_order=True).agg(
        pl.all().exclude("captured_at", "read_id").first(), pl.col("read_id").first(),
        pl.col("captured_at").first(), pl.len().alias("reads"), latest.alias("last_captured_at"),
        pl.col("read_id").filter(pl.col("captured_at") == latest).first().alias("last_read_id"))
    ids = [_alert_id(e, r) for e, r in zip(alerts["entry_id"], alerts["read_id"], strict=True)]
    alerts = alerts.with_columns(pl.Series("alert_id", ids, pl.String),
                                 pl.col("category").replace_strict(_PRIORITY, return_dtype=pl.Int64)
                                 .alias("priority"),
                                 pl.col("stale").cast(pl.Int64), pl.lit("new").alias("status"),
                                 pl.lit(stamp).alias("created_at"), pl.lit(stamp).alias("updated_at"))
    of_hit = hits.select("_encounter", "read_id", "captured_at").join(
        alerts.select("_encounter", "alert_id"), on="_encounter", how="left", maintain_order="left")
    links = list(zip(*(of_hit.get_column(c).to_list() for c in ("alert_id", "read_id", "captured_at")), strict=True))
    return alerts.select(NEW_ALERT_COLUMNS), links


def _join_open(rows_frame: pl.DataFrame, open_alerts: dict[tuple[str, str, str], list[dict[str, Any]]],
               window: timedelta, stamp: str) -> tuple[dict[str, dict[str, Any]], dict[str, int],
                                                       list[tuple[str, str, str, int, str]],
                                                       list[tuple[str, str, str]]]:
    """Hits whose key has an open alert, row by row: each joins the alert whose window it falls in (its last
    read moves on), or starts a new one that later hits of the batch may join."""
    new: dict[str, dict[str, Any]] = {}
    updated: dict[str, int] = {}
    links: list[tuple[str, str, str]] = []
    extends: list[tuple[str, str, str, int, str]] = []
    for row in rows_frame.iter_rows(named=True):
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
            extends.append((target["alert_id"], row["read_id"], row["captured_at"], 1, stamp))
            if row["captured_at"] > target["last_captured_at"]:
                target["last_captured_at"] = row["captured_at"]
    return new, updated, extends, links


_PRIORITY = {c: priority_of(c) for c in CATEGORIES}

#: the columns a new alert is written with (the rest, verification and disposition, start empty)
NEW_ALERT_COLUMNS = (
    "alert_id", "read_id", "entry_id", "list_id", "list_name", "source", "plate", "entry_plate", "entry_state",
    "read_state", "state_flag", "category", "priority", "match_kind", "differing", "stale", "entry_notes",
    "camera_id", "captured_at", "last_read_id", "last_captured_at", "reads", "lat", "lon", "image_ref", "status",
    "created_at", "updated_at")


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
