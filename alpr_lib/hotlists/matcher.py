"""Every read against every active hotlist entry, vectorised (policy 462.2; 462.3(c) partial plates).

Full-plate entries are matched through one number per plate: the plate's characters, each replaced by the
representative of its look-alike class (the union of the groups in ``data/ocr_confusions.toml``), packed
into 64 bits (plates are at most 8 characters). One ``is_in`` of the batch's numbers against the entries'
finds every candidate read (about 20 ms for a million reads against a million entries); only the
candidates are joined to their entries and checked character by character: the same text is ``exact``, text
that differs only in characters of one confusion group is ``approximate`` (naming the differing characters).
Partial and wildcard entries (``?``, ``*``, ``[..]``) are compiled, confusion tolerant, into one regular
expression run over the batch; the few plates it matches are then tested against each pattern. A read whose
state differs from the entry's is flagged ``state mismatch``, a read without a state ``read without state``.
Expired entries never match; a list not refreshed within its refresh period is ``stale`` and its hits say so.

The compiled matcher is cached per store and rebuilt only when a list changes (its fingerprint in the records
database), so matching at ingest costs the batch, not the list.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
import polars as pl

from alpr_lib.records import Backend
from alpr_lib.records import hotlists as hotlist_rows
from alpr_lib.search.patterns import PlatePattern, confusion_groups, parse_pattern
from alpr_lib.timeutil import iso, parse_iso

__all__ = ["HIT_SCHEMA", "Matcher", "canonical", "confusable", "differing_characters", "matcher_for"]

HIT_SCHEMA: dict[str, Any] = {
    "read_id": pl.String, "plate": pl.String, "read_state": pl.String, "captured_at": pl.String,
    "camera_id": pl.String, "lat": pl.Float64, "lon": pl.Float64, "image_ref": pl.String, "entry_id": pl.String,
    "entry_plate": pl.String, "entry_state": pl.String, "category": pl.String, "entry_notes": pl.String,
    "list_id": pl.String, "list_name": pl.String, "source": pl.String, "match_kind": pl.String,
    "differing": pl.String, "state_flag": pl.String, "stale": pl.Boolean,
}
_READ_COLUMNS = ("read_id", "plate", "region", "captured_at", "camera_id", "lat", "lon", "image_ref")


@cache
def _classes() -> dict[str, str]:
    """Each confusable character -> the representative of its class (groups that share a character join)."""
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.setdefault(c, c) != c:
            c = parent[c]
        return c

    for group in confusion_groups():
        for c in group[1:]:
            a, b = find(group[0]), find(c)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {c: find(c) for c in parent if find(c) != c}


@cache
def _pairs() -> frozenset[frozenset[str]]:
    """Character pairs that one confusion group holds (the real test; classes only find candidates)."""
    return frozenset(frozenset((a, b)) for g in confusion_groups() for a in g for b in g if a != b)


@cache
def _lut() -> np.ndarray:
    table = np.arange(256, dtype=np.uint8)
    for c, rep in _classes().items():
        table[ord(c)] = ord(rep)
    return table


def canonical(plate: str) -> str:
    """The plate with each character replaced by its look-alike class (O, D, Q -> 0, ...)."""
    classes = _classes()
    return "".join(classes.get(c, c) for c in plate)


def confusable(read: str, entry: str) -> bool:
    """Whether the two plates differ only by characters of one confusion group, position by position."""
    pairs = _pairs()
    return len(read) == len(entry) and all(a == b or frozenset((a, b)) in pairs for a, b in zip(read, entry,
                                                                                                   strict=True))


def differing_characters(read: str, entry: str) -> str:
    """The characters that differ, e.g. ``position 3: 0 read for O``."""
    return "; ".join(f"position {i}: {a} read for {b}" for i, (a, b) in enumerate(zip(read, entry, strict=False), 1)
                     if a != b)


def packed(plates: pl.Series) -> np.ndarray:
    """Each plate's canonical form as one 64-bit number (8 characters, padded)."""
    if plates.len() == 0:
        return np.zeros(0, dtype=np.uint64)
    raw = plates.str.pad_end(8, " ").str.slice(0, 8).cast(pl.Binary).bin.reinterpret(dtype=pl.UInt64)
    values = raw.fill_null(0).to_numpy()
    return _lut()[values.view(np.uint8)].view(np.uint64)


@dataclass(frozen=True)
class _Wildcard:
    entry: dict[str, Any]
    pattern: PlatePattern
    regex: re.Pattern[str]


class Matcher:
    """The active entries of every list, compiled (see the module docstring)."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        full = [e for e in entries if not e["is_pattern"]]
        columns = ("entry_id", "plate", "state", "category", "notes", "list_id", "list_name", "source",
                   "entered_at", "expires_at", "refreshed_at", "refresh_days")
        self.exact = pl.DataFrame({c: [e[c] for e in full] for c in columns},
                                  schema={c: (pl.Int64 if c == "refresh_days" else pl.String) for c in columns})
        self.exact = self.exact.rename({"plate": "entry_plate", "state": "entry_state", "notes": "entry_notes"})
        self.exact = self.exact.with_columns(pl.Series("_canon", packed(self.exact["entry_plate"]), pl.UInt64))
        self._canon = pl.Series(np.unique(self.exact["_canon"].to_numpy()), dtype=pl.UInt64).implode()
        self.wildcards = []
        for e in entries:
            if e["is_pattern"]:
                pattern = parse_pattern(e["plate"])
                self.wildcards.append(_Wildcard(e, pattern, re.compile(pattern.regex(confusions=True))))
        self._combined = ("^(?:" + "|".join(w.pattern.regex(confusions=True)[1:-1] for w in self.wildcards) + ")$"
                          if self.wildcards else None)

    @property
    def size(self) -> int:
        return self.exact.height + len(self.wildcards)

    def match(self, reads: pl.DataFrame, now: datetime, *, live: bool = True) -> pl.DataFrame:
        """The hits of ``reads`` (stored read columns): one row per (read, entry) that match. ``live``: only
        reads captured after the entry was entered hit it (at ingest); a re-run over history takes every read."""
        if reads.height == 0 or self.size == 0:
            return pl.DataFrame(schema=HIT_SCHEMA)
        batch = reads.select([pl.col(c) if c in reads.columns else pl.lit(None).alias(c) for c in _READ_COLUMNS])
        found: list[dict[str, Any]] = []
        if self.exact.height:
            canon = pl.Series("_canon", packed(batch["plate"]), pl.UInt64)
            candidates = batch.with_columns(canon).filter(canon.is_in(self._canon))
            if candidates.height:
                pairs = candidates.join(self.exact, on="_canon")
                for row in pairs.iter_rows(named=True):
                    if row["plate"] == row["entry_plate"]:
                        found.append({**row, "match_kind": "exact", "differing": None})
                    elif confusable(row["plate"], row["entry_plate"]):
                        found.append({**row, "match_kind": "approximate",
                                      "differing": differing_characters(row["plate"], row["entry_plate"])})
        if self._combined is not None:
            matched = batch.filter(pl.col("plate").str.contains(self._combined))
            for w, row in self._wildcard_pairs(matched):
                subs = w.pattern.substitutions(row["plate"])
                e = w.entry
                found.append({**row, "entry_id": e["entry_id"], "entry_plate": e["plate"],
                              "entry_state": e["state"], "category": e["category"],
                              "entry_notes": e["notes"], "list_id": e["list_id"],
                              "list_name": e["list_name"], "source": e["source"],
                              "entered_at": e["entered_at"], "expires_at": e["expires_at"],
                              "refreshed_at": e["refreshed_at"],
                              "refresh_days": e["refresh_days"], "match_kind": "wildcard",
                              "differing": (f"{subs} look-alike character{'s' if subs > 1 else ''}"
                                            if subs else None)})
        return _finish(found, now, live)

    def _wildcard_pairs(self, matched: pl.DataFrame) -> list[tuple[_Wildcard, dict[str, Any]]]:
        """Which partial entries each plate the combined expression matched belongs to: Python's ``re`` over a
        few plates, one vectorised filter per entry over many (a busy pattern must not cost per plate)."""
        if matched.height * len(self.wildcards) <= 50_000:
            rows = list(matched.iter_rows(named=True))
            return [(w, row) for row in rows for w in self.wildcards if w.regex.match(row["plate"])]
        out = []
        for w in self.wildcards:
            part = matched.filter(pl.col("plate").str.contains(w.regex.pattern))
            out += [(w, row) for row in part.iter_rows(named=True)]
        return out


def _finish(found: list[dict[str, Any]], now: datetime, live: bool) -> pl.DataFrame:
    """Drop expired entries (and, live, entries entered after the read); flag the state and stale lists; one
    frame in :data:`HIT_SCHEMA`."""
    stamp = iso(now)
    out = []
    for row in found:
        if row["expires_at"] is not None and row["expires_at"] <= stamp:
            continue
        captured = row["captured_at"]
        captured_text = iso(captured) if isinstance(captured, datetime) else captured
        if live and row["entered_at"] is not None and captured_text < row["entered_at"]:
            continue
        region, state = row["region"], row["entry_state"]
        flag = None
        if region is None or not str(region).strip():
            flag = "read without state"
        elif state is not None and region != state:
            flag = "state mismatch"
        stale = parse_iso(row["refreshed_at"]) + timedelta(days=int(row["refresh_days"])) < now
        out.append({**{k: row.get(k) for k in HIT_SCHEMA}, "read_state": region, "state_flag": flag,
                    "stale": stale, "captured_at": captured_text})
    return pl.DataFrame(out, schema=HIT_SCHEMA, orient="row") if out else pl.DataFrame(schema=HIT_SCHEMA)


_CACHE: dict[str, tuple[Any, Matcher]] = {}
_LOCK = threading.Lock()


def matcher_for(db: Backend, key: str) -> Matcher | None:
    """The compiled matcher of a store's lists (``key`` names the store), None when it has no entries.

    Rebuilt only when a list changed since the last call (any process may have imported it)."""
    stamp = hotlist_rows.fingerprint(db)
    if not stamp:
        return None
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    built = Matcher(hotlist_rows.matchable_entries(db))
    with _LOCK:
        _CACHE[key] = (stamp, built)
    return built
