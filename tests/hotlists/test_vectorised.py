"""The vectorised matcher and encounter grouping against plain row-by-row references (issue 12: a busy list
raises tens of thousands of alerts a batch, so neither may cost Python work per hit, and neither may differ
from the rules written out one row at a time)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alpr_lib.hotlists.encounters import _join_open, _new_encounters
from alpr_lib.hotlists.matcher import HIT_SCHEMA, Matcher, confusable, differing_characters
from alpr_lib.search.patterns import parse_pattern
from alpr_lib.timeutil import iso, parse_iso

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
#: characters with look-alikes and without, so that exact, approximate and no match all occur
ALPHABET = "0ODQ8B1I7TSZ25AKX"
PLATES = st.text(ALPHABET, min_size=5, max_size=7)
PATTERNS = st.sampled_from(["7AB?12*", "0D?Q8", "*8B1I", "IT?S[25]Z", "Q8B*"])


def _entry(i: int, plate: str, expired: bool, entered_days: int, state: str | None,
           stale: bool) -> dict:
    is_pattern = any(c in plate for c in "?*[")
    return {"entry_id": f"E{i}", "plate": plate, "is_pattern": int(is_pattern), "state": state,
            "category": "wanted person" if is_pattern else "stolen vehicle", "notes": None,
            "list_id": "STALE" if stale else "FRESH", "list_name": "l", "source": "state",
            "entered_at": iso(NOW - timedelta(days=entered_days)),
            "expires_at": iso(NOW - timedelta(days=1)) if expired else None,
            "refreshed_at": iso(NOW - timedelta(days=30 if stale else 1)), "refresh_days": 7}


ENTRIES = st.lists(st.tuples(st.one_of(PLATES, PATTERNS), st.booleans(), st.integers(0, 20),
                             st.sampled_from(["CA", "NV", None]), st.booleans()), min_size=1, max_size=12)
READS = st.lists(st.tuples(PLATES, st.integers(0, 15), st.sampled_from(["CA", "NV", "", None])),
                 min_size=1, max_size=40)


def _reference(entries: list[dict], reads: pl.DataFrame, live: bool) -> set[tuple]:
    """Every (read, entry) pair the rules match, one pair at a time."""
    out = set()
    for read in reads.iter_rows(named=True):
        captured = iso(read["captured_at"])
        for e in entries:
            if e["is_pattern"]:
                pattern = parse_pattern(e["plate"])
                if not re.match(pattern.regex(confusions=True), read["plate"]):
                    continue
                subs = pattern.substitutions(read["plate"])
                kind, differing = "wildcard", (f"{subs} look-alike character{'s' if subs > 1 else ''}"
                                               if subs else None)
            elif confusable(read["plate"], e["plate"]):
                same = read["plate"] == e["plate"]
                kind = "exact" if same else "approximate"
                differing = None if same else differing_characters(read["plate"], e["plate"])
            else:
                continue
            if e["expires_at"] is not None and e["expires_at"] <= iso(NOW):
                continue
            if live and captured < e["entered_at"]:
                continue
            region = read["region"]
            flag = ("read without state" if region is None or not region.strip()
                    else "state mismatch" if e["state"] is not None and region != e["state"] else None)
            stale = parse_iso(e["refreshed_at"]) + timedelta(days=e["refresh_days"]) < NOW
            out.add((read["read_id"], e["entry_id"], captured, kind, differing, flag, stale, region))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ENTRIES, READS, st.booleans())
def test_vectorised_matcher_agrees_with_the_rules_row_by_row(entry_specs, read_specs, live):
    entries = [_entry(i, *spec) for i, spec in enumerate(entry_specs)]
    n = len(read_specs)
    reads = pl.DataFrame({
        "read_id": [f"R{i}" for i in range(n)], "plate": [p for p, _, _ in read_specs],
        "region": [r for _, _, r in read_specs],
        "captured_at": [NOW - timedelta(days=d, seconds=i) for i, (_, d, _) in enumerate(read_specs)],
        "camera_id": ["C"] * n, "lat": [37.0] * n, "lon": [-121.0] * n, "image_ref": [None] * n,
    }, schema_overrides={"captured_at": pl.Datetime("us", "UTC"), "image_ref": pl.String})
    hits = Matcher(entries).match(reads, NOW, live=live)
    assert hits.schema == pl.Schema(HIT_SCHEMA)
    got = {(r["read_id"], r["entry_id"], r["captured_at"], r["match_kind"], r["differing"], r["state_flag"],
            r["stale"], r["read_state"]) for r in hits.iter_rows(named=True)}
    assert got == _reference(entries, reads, live)
    assert hits.height == len(got)  # one row per pair


HIT = st.tuples(st.sampled_from(["E1", "E2"]), st.sampled_from(["7ABC123", "8XYZ999"]),
                st.sampled_from(["CAM1", "CAM2"]), st.integers(0, 40))


@settings(max_examples=200, deadline=None)
@given(st.lists(HIT, min_size=1, max_size=40), st.integers(1, 10))
@example([("E1", "7ABC123", "CAM1", 0), ("E1", "7ABC123", "CAM1", 5), ("E1", "7ABC123", "CAM1", 20),
          ("E1", "7ABC123", "CAM1", 20)], 5)  # a gap of exactly the window joins; equal times keep the first
def test_encounters_in_one_pass_agree_with_the_row_by_row_rule(specs, window_min):
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    rows = [{**{c: None for c in HIT_SCHEMA}, "entry_id": e, "plate": p, "camera_id": c, "read_id": f"R{i:03d}",
             "captured_at": iso(start + timedelta(minutes=m)), "list_id": "L", "list_name": "l", "source": "state",
             "entry_plate": p, "category": "stolen vehicle", "match_kind": "exact", "stale": False}
            for i, (e, p, c, m) in enumerate(specs)]
    hits = pl.DataFrame(rows, schema=HIT_SCHEMA).sort(["entry_id", "plate", "camera_id", "captured_at"],
                                                      maintain_order=True)
    window = timedelta(minutes=window_min)
    fresh, links = _new_encounters(hits, window, "stamp")
    new, updated, extends, ref_links = _join_open(hits, {}, window, "stamp")
    assert not updated and not extends
    want = {a["alert_id"]: (a["read_id"], a["reads"], a["last_captured_at"], a["last_read_id"], a["priority"])
            for a in new.values()}
    got = {a["alert_id"]: (a["read_id"], a["reads"], a["last_captured_at"], a["last_read_id"], a["priority"])
           for a in fresh.iter_rows(named=True)}
    assert got == want
    assert sorted(links) == sorted(ref_links)
