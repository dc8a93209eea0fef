"""The CSV layouts a hotlist may come in, and the row checks that turn one into entries with a report.

Accepted layouts (told apart by their header; see ``docs/hotlists.md``):

- ``standard`` — ``plate,state,category,entered_at,expires_at,notes`` (ISO dates, two-letter states), always;
- ``sample`` — ``list_name,plate,region,reason,added_at,source`` (``data_samples/hotlists.csv``): the category
  is read from the reason text, which becomes the notes with the list name and source;
- ``ncic`` — close to a state stolen-vehicle extract: ``LIC`` (plate), ``LIS`` (state), optional ``DOT``
  (date of theft, YYYYMMDD or ISO), ``EXP`` (expiry), ``CAT`` (category; default stolen vehicle), ``VMA``,
  ``VMO``, ``VCO``, ``VYR`` (make, model, colour, year), ``OCA``, ``NIC`` (case and NCIC numbers) into the notes.

Every row is checked (plate, state, category, dates); a refused row is reported with its row number (1 is
the first row under the header), the column, the value and the reason, and the others are imported. A
repeated plate and state is a duplicate of its first row; a plate that differs from an earlier one of the
same state only by look-alike characters (O/0, B/8, ...) is reported as a look-alike duplicate naming the
characters: confusion-tolerant matching already catches a read of either text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from alpr_lib.errors import ValidationError
from alpr_lib.hotlists import CATEGORIES, PATTERN_CATEGORIES
from alpr_lib.hotlists.matcher import canonical, confusable, differing_characters
from alpr_lib.normalise import PLATE_SEPARATORS
from alpr_lib.search.patterns import MIN_FIXED_CHARS, parse_pattern
from alpr_lib.store.schema import PLATE_MAX_LEN
from alpr_lib.timeutil import iso, parse_instant

__all__ = ["LAYOUTS", "REPORT_COLUMNS", "ParsedList", "parse_list", "read_rows"]

LAYOUTS = {
    "standard": ("plate", "state", "category", "entered_at", "expires_at", "notes"),
    "sample": ("list_name", "plate", "region", "reason", "added_at", "source"),
    "ncic": ("LIC", "LIS"),
}
REPORT_COLUMNS = {"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}
#: the most rows one list may hold
MAX_ROWS = 5_000_000
_WILDCARDS = re.compile(r"[?*\[\]]")
_SYNONYMS = {
    "amber": "AMBER", "amber alert": "AMBER", "wanted": "wanted person", "wanted person": "wanted person",
    "wanted persons": "wanted person", "missing": "missing person", "missing person": "missing person",
    "missing persons": "missing person", "warrant": "warrant", "warrants": "warrant", "felony warrant": "warrant",
    "stolen vehicle": "stolen vehicle", "stolen vehicles": "stolen vehicle", "sv": "stolen vehicle",
    "stolen plate": "stolen plate", "stolen plates": "stolen plate", "bolo": "BOLO",
}
#: keywords that name the category in free text (the sample layout's reason), first match wins
_KEYWORDS = (("amber", "AMBER"), ("missing", "missing person"), ("warrant", "warrant"), ("wanted", "wanted person"),
             ("stolen plate", "stolen plate"), ("stolen vehicle", "stolen vehicle"), ("bolo", "BOLO"))


@cache
def us_states() -> frozenset[str]:
    text = resources.files("alpr_lib").joinpath("recognition/data/us_states.csv").read_text(encoding="utf-8")
    return frozenset(row["region"] for row in csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class ParsedList:
    """A checked list: its entries (one frame), the row report, its layout and how many rows it had."""

    entries: pl.DataFrame
    report: pl.DataFrame
    layout: str
    rows_in: int
    duplicates: int
    lookalikes: int

    @property
    def content_sha256(self) -> str:
        """What the list holds, whatever its file looked like (the same list imported again is unchanged)."""
        digest = hashlib.sha256()
        for row in self.entries.select("plate", "state", "category", "entered_at", "expires_at", "notes").rows():
            digest.update(repr(row).encode())
        return digest.hexdigest()


def read_rows(source: str | Path | pl.DataFrame) -> pl.DataFrame:
    """A CSV file (every column as text) or a frame, refused with a clear message when it cannot be read."""
    if isinstance(source, pl.DataFrame):
        return source.select(pl.all().cast(pl.String, strict=False))
    path = Path(source)
    if not path.is_file():
        raise ValidationError(f"{str(path)[:200]}: no such file; give the hotlist's CSV file")
    try:
        return pl.read_csv(path, infer_schema=False, truncate_ragged_lines=False, encoding="utf8-lossy")
    except Exception as exc:  # polars raises several types for malformed files
        raise ValidationError(f"{str(path)[:200]}: cannot read it as CSV ({str(exc)[:200]}); the header must be "
                              f"{','.join(LAYOUTS['standard'])}") from None


def _layout(columns: list[str]) -> str:
    names = set(columns)
    for layout in ("standard", "sample", "ncic"):
        if set(LAYOUTS[layout]) <= names:
            return layout
    if {"plate", "state", "category"} <= names:
        return "standard"  # dates and notes are optional
    raise ValidationError(f"unknown hotlist layout (columns {columns[:12]}); the header "
                          f"{','.join(LAYOUTS['standard'])} is always accepted (see docs/hotlists.md for the "
                          "other layouts)")


def _category(text: str | None, *, free_text: bool = False) -> str | None:
    if text is None:
        return None
    key = re.sub(r"[\s_-]+", " ", text.strip().lower())
    if key in _SYNONYMS:
        return _SYNONYMS[key]
    if free_text:
        return next((cat for word, cat in _KEYWORDS if word in key), None)
    return None


def _columns(frame: pl.DataFrame, layout: str) -> pl.DataFrame:
    """The layout's columns renamed to the standard ones (notes composed where a layout spreads them)."""
    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in frame.columns else pl.lit(None, dtype=pl.String)

    if layout == "standard":
        return frame.select(col("plate"), col("state"), col("category"), col("entered_at"), col("expires_at"),
                            col("notes"), pl.lit(False).alias("free_text"))
    if layout == "sample":
        notes = pl.concat_str([col("reason"), pl.lit(" (list "), col("list_name"), pl.lit(", "), col("source"),
                               pl.lit(")")], ignore_nulls=True)
        return frame.select(col("plate"), col("region").alias("state"), col("reason").alias("category"),
                            col("added_at").alias("entered_at"), pl.lit(None, dtype=pl.String).alias("expires_at"),
                            notes.alias("notes"), pl.lit(True).alias("free_text"))
    described = pl.concat_str([col(c) for c in ("VYR", "VCO", "VMA", "VMO")], separator=" ", ignore_nulls=True)
    notes = pl.concat_str([described, pl.lit("OCA ") + col("OCA"), pl.lit("NIC ") + col("NIC")], separator="; ",
                          ignore_nulls=True)
    category = col("CAT").fill_null("stolen vehicle") if "CAT" in frame.columns else pl.lit("stolen vehicle")
    dot = col("DOT").str.replace(r"^(\d{4})(\d{2})(\d{2})$", "$1-$2-$3")
    exp = col("EXP").str.replace(r"^(\d{4})(\d{2})(\d{2})$", "$1-$2-$3")
    return frame.select(col("LIC").alias("plate"), col("LIS").alias("state"), category.alias("category"),
                        dot.alias("entered_at"), exp.alias("expires_at"), notes.alias("notes"),
                        pl.lit(False).alias("free_text"))


def parse_list(source: str | Path | pl.DataFrame, *, zone: ZoneInfo, now: datetime) -> ParsedList:
    """Check every row of a hotlist; see the module docstring."""
    frame = read_rows(source)
    if frame.height > MAX_ROWS:
        raise ValidationError(f"the list has {frame.height:,} rows; at most {MAX_ROWS:,} are accepted per list")
    layout = _layout(frame.columns)
    rows = _columns(frame, layout).rows()
    report: list[tuple[int, str, str | None, str]] = []
    kept: list[tuple] = []
    first_exact: dict[tuple[str, str | None], int] = {}
    first_canon: dict[tuple[str, str | None], list[tuple[int, str]]] = {}
    duplicates = lookalikes = 0
    times: dict[tuple[str, bool], str] = {}

    def when(text: str | None, row: int, column: str, *, end: bool) -> tuple[bool, str | None]:
        if text is None or not text.strip():
            return True, None
        key = (text, end)
        if key not in times:
            try:
                times[key] = iso(parse_instant(text.strip(), zone, end=end))  # type: ignore[arg-type]
            except ValidationError:
                report.append((row, column, text[:80], "not an ISO date or time (e.g. 2026-06-01 or "
                               "2026-06-01T13:30:00Z)"))
                return False, None
        return True, times[key]

    for number, (plate_text, state_text, category_text, entered, expires, notes, free_text) in enumerate(rows, 1):
        plate = re.sub(PLATE_SEPARATORS, "", plate_text or "")
        if not plate:
            report.append((number, "plate", plate_text, "empty plate"))
            continue
        if not plate.isascii():
            report.append((number, "plate", plate_text[:80], "characters outside A-Z, 0-9 and the wildcards ? * [..]"))
            continue
        plate = plate.upper()
        is_pattern = bool(_WILDCARDS.search(plate))
        category = _category(category_text, free_text=bool(free_text))
        if category is None:
            report.append((number, "category", (category_text or "")[:80],
                           f"unknown category; use one of {', '.join(CATEGORIES)}"))
            continue
        if is_pattern:
            try:
                pattern = parse_pattern(plate)
            except ValidationError as exc:
                report.append((number, "plate", plate[:80], str(exc)[:300]))
                continue
            if pattern.fixed_chars < MIN_FIXED_CHARS:
                report.append((number, "plate", plate[:80], f"a partial plate needs at least {MIN_FIXED_CHARS} known "
                               "characters"))
                continue
            if category not in PATTERN_CATEGORIES:
                report.append((number, "plate", plate[:80], f"partial plates are for major crimes only "
                               f"({', '.join(sorted(PATTERN_CATEGORIES))}), not {category}"))
                continue
        elif not plate.isalnum() or not 2 <= len(plate) <= PLATE_MAX_LEN:
            report.append((number, "plate", plate[:80], f"a plate is 2 to {PLATE_MAX_LEN} letters and digits"))
            continue
        state = (state_text or "").strip().upper() or None
        if state is None and not is_pattern:
            report.append((number, "state", state_text, "a full plate needs its two-letter state (a plate without "
                           "its state causes wrong stops)"))
            continue
        if state is not None and state not in us_states():
            report.append((number, "state", state[:80], "not a two-letter US state code (e.g. CA, NV)"))
            continue
        ok_in, entered_at = when(entered, number, "entered_at", end=False)
        ok_out, expires_at = when(expires, number, "expires_at", end=True)
        if not (ok_in and ok_out):
            continue
        if entered_at is not None and entered_at > iso(now):
            report.append((number, "entered_at", entered, "entered in the future"))
            continue
        if expires_at is not None and expires_at <= iso(now):
            report.append((number, "expires_at", expires, "already expired"))
            continue
        if expires_at is not None and entered_at is not None and expires_at <= entered_at:
            report.append((number, "expires_at", expires, "expires before it was entered"))
            continue
        key = (plate, state)
        if key in first_exact:
            duplicates += 1
            report.append((number, "plate", plate, f"duplicate of row {first_exact[key]} ({plate} {state or ''})"
                           .rstrip()))
            continue
        first_exact[key] = number
        if not is_pattern:
            ckey = (canonical(plate), state)  # candidates only: classes join groups that share a character
            match = next(((row, other) for row, other in first_canon.get(ckey, ()) if confusable(plate, other)),
                         None)
            if match is not None:
                row, other = match
                lookalikes += 1
                report.append((number, "plate", plate, f"look-alike duplicate of row {row} ({other}: "
                               f"{differing_characters(plate, other)}); confusion-tolerant matching already "
                               "catches a read of either text"))
                continue
            first_canon.setdefault(ckey, []).append((number, plate))
        kept.append((plate, is_pattern, state, category, entered_at, expires_at, (notes or None), number))
    entries = pl.DataFrame(kept, schema={"plate": pl.String, "is_pattern": pl.Boolean, "state": pl.String,
                                         "category": pl.String, "entered_at": pl.String, "expires_at": pl.String,
                                         "notes": pl.String, "row_number": pl.Int64}, orient="row")
    return ParsedList(entries, pl.DataFrame(report, schema=REPORT_COLUMNS, orient="row"), layout, frame.height,
                      duplicates, lookalikes)
