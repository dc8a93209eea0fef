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
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import polars as pl

from alpr_lib.hotlists import is_stale
from alpr_lib.records import Backend
from alpr_lib.records import hotlists as hotlist_rows
from alpr_lib.search.patterns import PlatePattern, confusion_classes, confusion_groups, confusion_key, parse_pattern
from alpr_lib.timeutil import iso

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
def _pairs() -> frozenset[frozenset[str]]:
    """Character pairs that one confusion group holds (the real test; classes only find candidates)."""
    return frozenset(frozenset((a, b)) for g in confusion_groups() for a in g for b in g if a != b)


@cache
def _lut() -> np.ndarray:
    table = np.arange(256, dtype=np.uint8)
    for c, rep in confusion_classes().items():
        table[ord(c)] = ord(rep)
    return table


def canonical(plate: str) -> str:
    """The plate with each character replaced by its look-alike class (O, D, Q -> 0, ...)."""
    return confusion_key(plate)


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


@cache
def _pair_table() -> np.ndarray:
    """``table[a, b]``: byte ``a`` read where ``b`` is listed is allowed (the same, or one confusion group)."""
    table = np.eye(256, dtype=bool)
    for pair in _pairs():
        a, b = (ord(c) for c in pair)
        table[a, b] = table[b, a] = True
    return table


def _raw_bytes(plates: pl.Series) -> np.ndarray:
    """The plates as an ``(n, 8)`` byte matrix, padded with spaces (a longer plate never gets here)."""
    raw = plates.str.pad_end(8, " ").str.slice(0, 8).cast(pl.Binary).bin.reinterpret(dtype=pl.UInt64)
    return raw.fill_null(0).to_numpy().view(np.uint8).reshape(-1, 8)


def _differing(read: str, entry: str) -> pl.Expr:
    """:func:`differing_characters` as an expression over two plate columns of equal length."""
    parts = [pl.when(pl.col(read).str.slice(i, 1) != pl.col(entry).str.slice(i, 1))
             .then(pl.format(f"position {i + 1}: {{}} read for {{}}", pl.col(read).str.slice(i, 1),
                             pl.col(entry).str.slice(i, 1)))
             for i in range(8)]
    return pl.concat_list(parts).list.drop_nulls().list.join("; ")


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
        self.exact = self.exact.sort("_canon")  # the entries of one class are a run: found by binary search
        self._sorted_canon = self.exact["_canon"].to_numpy()
        self._canon = pl.Series(np.unique(self._sorted_canon), dtype=pl.UInt64).implode()
        self.exact = self.exact.drop("_canon")
        self.wildcards = []
        for e in entries:
            if e["is_pattern"]:
                pattern = parse_pattern(e["plate"])
                self.wildcards.append(_Wildcard(e, pattern, re.compile(pattern.regex(confusions=True))))
        self._combined = ("^(?:" + "|".join(w.pattern.regex(confusions=True)[1:-1] for w in self.wildcards) + ")$"
                          if self.wildcards else None)
        # partial entries by the literal prefixes a matching plate can start with, so that each plate the
        # combined expression matched is tested against a handful of entries, not all of them
        self._by_prefix: dict[int, dict[str, list[_Wildcard]]] = {}
        self._unprefixed: list[_Wildcard] = []
        for w in self.wildcards:
            prefixes = w.pattern.prefixes(confusions=True)
            if prefixes is None:
                self._unprefixed.append(w)
                continue
            for prefix in prefixes:
                self._by_prefix.setdefault(len(prefix), {}).setdefault(prefix, []).append(w)

    @property
    def size(self) -> int:
        return self.exact.height + len(self.wildcards)

    def match(self, reads: pl.DataFrame, now: datetime, *, live: bool = True) -> pl.DataFrame:
        """The hits of ``reads`` (stored read columns): one row per (read, entry) that match. ``live``: only
        reads captured after the entry was entered hit it (at ingest); a re-run over history takes every read.

        The entries are matched against the batch's distinct plates (a million reads hold ~130,000), and the
        plates that hit are joined back to their reads."""
        if reads.height == 0 or self.size == 0:
            return pl.DataFrame(schema=HIT_SCHEMA)
        batch = reads.select([pl.col(c) if c in reads.columns else pl.lit(None).alias(c) for c in _READ_COLUMNS])
        batch = batch.with_columns(pl.col("plate").cast(pl.String))
        plates = batch.select("plate").unique().drop_nulls()
        parts = [p for p in (self._full_hits(plates), self._wildcard_hits(plates)) if p is not None]
        if not parts:
            return pl.DataFrame(schema=HIT_SCHEMA)
        by_plate = pl.concat(parts, how="diagonal_relaxed")
        hit = batch.filter(pl.col("plate").is_in(by_plate.get_column("plate").unique().implode()))
        return _finish(_as_text(hit).join(by_plate, on="plate"), now, live)

    def _full_hits(self, plates: pl.DataFrame) -> pl.DataFrame | None:
        """Full-plate entries of distinct plates: the candidates by look-alike class, then the pairwise
        confusion test."""
        if not self.exact.height:
            return None
        canon = pl.Series("_canon", packed(plates["plate"]), pl.UInt64)
        candidates = plates.with_columns(canon).filter(canon.is_in(self._canon))
        if not candidates.height:
            return None
        values = candidates["_canon"].to_numpy()
        lo = np.searchsorted(self._sorted_canon, values, "left")
        counts = np.searchsorted(self._sorted_canon, values, "right") - lo
        read_at = np.repeat(np.arange(candidates.height), counts)
        entry_at = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        pairs = pl.concat([candidates.drop("_canon")[read_at], self.exact[entry_at]], how="horizontal")
        ok = _pair_table()[_raw_bytes(pairs["plate"]), _raw_bytes(pairs["entry_plate"])].all(axis=1)
        pairs = pairs.filter(pl.Series(ok))
        same = pairs.filter(pl.col("plate") == pl.col("entry_plate"))
        other = pairs.filter(pl.col("plate") != pl.col("entry_plate"))
        return pl.concat([same.with_columns(pl.lit("exact").alias("match_kind"),
                                            pl.lit(None, pl.String).alias("differing")),
                          other.with_columns(pl.lit("approximate").alias("match_kind"),
                                             _differing("plate", "entry_plate").alias("differing"))])

    def _wildcard_hits(self, plates: pl.DataFrame) -> pl.DataFrame | None:
        """Partial entries of distinct plates: one combined expression, then each matched plate against the
        entries its prefixes allow (Python's ``re`` over a few plates; an entry without a literal prefix that
        meets many plates is one vectorised filter, so a busy pattern never costs per plate)."""
        if self._combined is None:
            return None
        matched = plates.filter(pl.col("plate").str.contains(self._combined)).get_column("plate").to_list()
        if not matched:
            return None
        pairs: list[tuple[_Wildcard, str]] = []
        for plate in matched:
            for length, table in self._by_prefix.items():
                for w in table.get(plate[:length], ()):
                    if w.regex.match(plate):
                        pairs.append((w, plate))
        if len(matched) * len(self._unprefixed) <= 50_000:
            pairs += [(w, plate) for plate in matched for w in self._unprefixed if w.regex.match(plate)]
        else:
            frame = pl.DataFrame({"plate": matched}, schema={"plate": pl.String})
            for w in self._unprefixed:
                pairs += [(w, plate) for plate in frame.filter(pl.col("plate").str.contains(w.regex.pattern))
                          .get_column("plate").to_list()]
        if not pairs:
            return None
        out = []
        for w, plate in pairs:
            subs = w.pattern.substitutions(plate)
            e = w.entry
            out.append({"plate": plate, "entry_id": e["entry_id"], "entry_plate": e["plate"],
                        "entry_state": e["state"], "category": e["category"], "entry_notes": e["notes"],
                        "list_id": e["list_id"], "list_name": e["list_name"], "source": e["source"],
                        "entered_at": e["entered_at"], "expires_at": e["expires_at"],
                        "refreshed_at": e["refreshed_at"], "refresh_days": e["refresh_days"],
                        "match_kind": "wildcard",
                        "differing": f"{subs} look-alike character{'s' if subs > 1 else ''}" if subs else None})
        schema = {"plate": pl.String, **self.exact.schema, "match_kind": pl.String, "differing": pl.String}
        return pl.DataFrame(out, schema=schema, orient="row")


def _as_text(reads: pl.DataFrame) -> pl.DataFrame:
    """The few reads that hit, with ``captured_at`` as the records database's ISO text (:func:`iso`)."""
    captured = reads.schema["captured_at"]
    if isinstance(captured, pl.Datetime):
        utc = pl.col("captured_at").dt.replace_time_zone("UTC") if captured.time_zone is None else (
            pl.col("captured_at").dt.convert_time_zone("UTC"))
        text = utc.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00")
    else:
        text = pl.col("captured_at").cast(pl.String)
    return reads.with_columns(text.alias("captured_at"), pl.col("region").cast(pl.String))


def _finish(found: pl.DataFrame | None, now: datetime, live: bool) -> pl.DataFrame:
    """Drop expired entries (and, live, entries entered after the read); flag the state and stale lists; one
    frame in :data:`HIT_SCHEMA`."""
    if found is None or found.height == 0:
        return pl.DataFrame(schema=HIT_SCHEMA)
    stamp = iso(now)
    keep = pl.col("expires_at").is_null() | (pl.col("expires_at") > stamp)
    if live:
        keep &= pl.col("entered_at").is_null() | (pl.col("captured_at") >= pl.col("entered_at"))
    found = found.filter(keep)
    lists = found.select("list_id", "refreshed_at", "refresh_days").unique("list_id")
    stale = {r["list_id"]: is_stale(r, now) for r in lists.iter_rows(named=True)}
    region = pl.col("region")
    return found.with_columns(
        region.alias("read_state"),
        pl.when(region.is_null() | (region.str.strip_chars() == "")).then(pl.lit("read without state"))
        .when(pl.col("entry_state").is_not_null() & (region != pl.col("entry_state"))).then(pl.lit("state mismatch"))
        .otherwise(None).alias("state_flag"),
        pl.col("list_id").replace_strict(stale, return_dtype=pl.Boolean).alias("stale"),
    ).select([pl.col(c).cast(t) for c, t in HIT_SCHEMA.items()])


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
