"""Validation and normalisation of incoming reads, vectorised, with a row-numbered rejection report.

Every row is checked (plate charset and length, coordinates, timestamps, confidence range, ids, text); good
rows come back typed and normalised to :data:`READ_SCHEMA`, bad rows come back as ``(row, column, value,
reason)`` so the person ingesting can fix the source. Row numbers count data rows from 1 (in a CSV file the
line number is one more, for the header).

Text is refused rather than repaired:

* plates are A-Z/0-9 after removing separators; non-ASCII letters are never case-folded into ASCII ones
  (``ß`` is not ``SS``, the ligature ``ﬁ`` is not ``FI``, full-width ``Ａ`` is not ``A``): see
  :mod:`alpr_lib.normalise`;
* no text column may hold a control character (C0, DEL, C1), a format character (bidirectional controls
  U+200E/F, U+202A-U+202E, U+2066-U+2069, zero-width U+200B-U+200D, U+2060, U+FEFF, soft hyphen, ...) or a
  line/paragraph separator (U+2028/9): they hide or reorder what a reader of a report sees;
* text columns have maximum lengths, in characters (:data:`TEXT_MAX_CHARS`): ``read_id`` 128, ``camera_id``
  64, ``unit`` and ``source`` 256, ``plate_raw`` and the plate as written 64, ``image_ref`` 1,024. A
  multi-megabyte value is refused for its row, not stored.

In the report, a refused value is cut to :data:`REPORT_VALUE_MAX_CHARS` characters (with its length) and its
invisible characters are written as ``\\uXXXX`` escapes, so the report itself cannot be spoofed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from alpr_lib.errors import IngestError
from alpr_lib.normalise import normalise_plate_expr
from alpr_lib.store.schema import PLATE_MAX_LEN, PLATE_MIN_LEN, READ_REQUIRED, READ_SCHEMA
from alpr_lib.timeutil import utc_now

__all__ = ["FORBIDDEN_CHARS", "REPORT_SCHEMA", "REPORT_VALUE_MAX_CHARS", "TEXT_MAX_CHARS", "Validated",
           "normalise_plate_expr", "printable", "validate_reads"]

_EARLIEST = pl.datetime(2000, 1, 1, time_zone="UTC")
_ISO_OFFSET = r"(Z|z|[+-]\d{2}:?\d{2})$"

#: Maximum length, in characters, of each free-text column (``plate`` is the plate as written, separators
#: included; the stored plate is 2-8 characters). Ids are keys that reports and URLs repeat; unit and source
#: are names; an image reference is a path or URL.
TEXT_MAX_CHARS: dict[str, int] = {
    "read_id": 128,
    "camera_id": 64,
    "unit": 256,
    "source": 256,
    "plate": 64,
    "plate_raw": 64,
    "image_ref": 1_024,
}

#: Unicode categories refused in every text column: controls (Cc: C0, DEL, C1), format characters (Cf:
#: bidirectional controls, zero-width characters, BOM, soft hyphen...), line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
#: The same as a regular expression (Rust regex syntax, as polars uses).
FORBIDDEN_CHARS = r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]"

#: Longest value shown in the rejection report (a refused multi-megabyte value is not copied into it).
REPORT_VALUE_MAX_CHARS = 80

REPORT_SCHEMA: dict[str, pl.DataType] = {"row": pl.Int64(), "column": pl.String(), "value": pl.String(),
                                         "reason": pl.String()}
_REPORT_SCHEMA = REPORT_SCHEMA  # the name earlier code used


@dataclass(frozen=True)
class Validated:
    good: pl.DataFrame  # READ_SCHEMA columns plus "_row"
    rejected: pl.DataFrame  # row, column, value, reason
    ignored_columns: tuple[str, ...]


def _parse_times(col: pl.Expr) -> pl.Expr:
    text = col.cast(pl.String).str.strip_chars().str.replace(" ", "T").str.replace(r"[Zz]$", "+00:00")
    text = text.str.replace(r"([+-]\d{2})(\d{2})$", "$1:$2")
    return text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", strict=False)


def _parsed_times(text: pl.Series) -> pl.Series:
    """ISO-8601 times with an offset, parsed to UTC; unparseable ones become null.

    The usual forms (``...T20:30:00Z``, ``+00:00``, ``+0000``) parse in one pass (0.2 s for 2M); only if some
    value needs it (a space instead of ``T``, a lower-case ``z``) do all go through the slower normalising
    parse (0.4 s)."""
    fast = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", time_zone="UTC", strict=False)
    if fast.null_count() == text.null_count():
        return fast
    return pl.select(pl.coalesce(pl.lit(fast), _parse_times(pl.lit(text)))).to_series()


def _typed(frame: pl.DataFrame, *, ascii_plates: bool = False) -> pl.DataFrame:
    """Cast every known column to its stored type; the untouched source stays as ``_orig_<name>``.

    Typed input (Parquet, frames from the generator or the recogniser) passes through without parsing;
    text input (CSV) is parsed with ``strict=False`` so that a bad value becomes null and is reported.
    ``ascii_plates`` (no plate has a non-ASCII byte) lets the plates skip the per-row non-ASCII test.
    """
    exprs: list[pl.Expr] = [pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row")]
    for name, dtype in READ_SCHEMA.items():
        if name not in frame.columns:
            exprs += [pl.lit(None, dtype=dtype).alias(name), pl.lit(None, dtype=pl.String).alias(f"_orig_{name}")]
            continue
        src = frame.schema[name]
        col = pl.col(name)
        if name == "captured_at":
            if isinstance(src, pl.Datetime):
                typed = (pl.lit(None, dtype=dtype) if src.time_zone is None  # naive: rejected below
                         else col.dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
            else:
                typed = pl.lit(_parsed_times(frame.get_column(name).cast(pl.String)))
        elif name == "plate":
            typed = normalise_plate_expr(name, ascii_input=ascii_plates)
        elif src == dtype:
            typed = col
        elif dtype == pl.String():
            typed = col.cast(pl.String).str.strip_chars()
        else:
            typed = (col.str.strip_chars() if src == pl.String else col).cast(dtype, strict=False)
        exprs += [typed.alias(name), col.alias(f"_orig_{name}")]
    return frame.select(exprs)


@dataclass(frozen=True)
class _TextScan:
    """One text column as a whole: its smallest and largest byte (None when too large to join) and the most
    bytes in one value."""

    low: int | None
    high: int | None
    longest: int

    @property
    def printable_ascii(self) -> bool:
        return self.low is not None and self.high is not None and self.low >= 0x20 and self.high < 0x7F

    @property
    def ascii(self) -> bool:
        return self.high is not None and self.high < 0x80


#: A column of more text than this (bytes) is not joined by :func:`_scan_text`; it is searched row by row.
_SCAN_MAX_BYTES = 1 << 30


def _scan_text(frame: pl.DataFrame) -> dict[str, _TextScan]:
    """:class:`_TextScan` of each free-text column given as text (a number or a date holds no text).

    Why: a per-row search for control and format characters costs ~15 ms per column of 2M values (~0.1 s a
    batch), where joining a column and taking the minimum and maximum of its bytes costs ~7 ms; a column of
    printable ASCII (bytes 0x20-0x7E, the usual case) cannot hold such a character, so only the others are
    searched row by row. Byte lengths are free (polars keeps them), so characters are counted only in a
    column with a value longer in bytes than the limit."""
    names = [n for n in TEXT_MAX_CHARS if frame.schema.get(n) == pl.String]
    if not names or not frame.height:
        return {n: _TextScan(0x20, 0x20, 0) for n in names}
    most = frame.select(pl.col(n).str.len_bytes().max() for n in names).row(0)
    longest = {n: int(m or 0) for n, m in zip(names, most, strict=True)}
    small = [n for n in names if frame.get_column(n).estimated_size() <= _SCAN_MAX_BYTES]
    joined = frame.select(pl.col(n).str.join("") for n in small) if small else pl.DataFrame()
    out = {n: _TextScan(None, None, longest[n]) for n in names}
    for name in small:
        arr = joined.get_column(name).to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.cast(pa.large_string())
        offsets = np.frombuffer(arr.buffers()[1], np.int64)
        start, end = int(offsets[arr.offset]), int(offsets[arr.offset + 1])
        data = arr.buffers()[2]
        if data is None or end <= start:  # no text at all (empty or null values)
            out[name] = _TextScan(0x20, 0x20, longest[name])
            continue
        raw = np.frombuffer(data, np.uint8)[start:end]
        out[name] = _TextScan(int(raw.min()), int(raw.max()), longest[name])
    return out


def _text_checks(scan: dict[str, _TextScan]) -> list[tuple[str, pl.Expr, str]]:
    """Invisible characters and lengths of the free-text columns, on the values as given, where ``scan``
    (:func:`_scan_text`) says a row could fail. ``region`` needs neither (it must be 2-3 ASCII letters); a
    control character in a plate is refused by the A-Z/0-9 check (the separators exclude them)."""
    checks = []
    for name, found in scan.items():
        orig = pl.col(f"_orig_{name}")
        if name != "plate" and not found.printable_ascii:
            checks.append((name, orig.str.contains(FORBIDDEN_CHARS),
                           f"{name} holds a control, bidirectional or zero-width character (shown as \\u....)"))
        limit = TEXT_MAX_CHARS[name]
        if found.longest > limit:
            checks.append((name, orig.str.len_chars() > limit, f"{name} is longer than {limit:,} characters"))
    return checks


def _checks(schema: pl.Schema, now_plus_day: object, scan: dict[str, _TextScan] | None = None
            ) -> list[tuple[str, pl.Expr, str]]:
    """(column, failing-condition, reason) triples; a row failing any is rejected. ``scan`` (see
    :func:`_scan_text`) leaves out the text tests that no row can fail."""
    scan = scan or {}
    plate = pl.col("plate")
    ascii_plates = "plate" in scan and scan["plate"].ascii
    plate_ascii = pl.lit(True) if ascii_plates else plate.str.len_bytes() == plate.str.len_chars()
    lat, lon = pl.col("lat"), pl.col("lon")
    orig_time = pl.col("_orig_captured_at")
    time_text = schema.get("_orig_captured_at") == pl.String
    no_offset = orig_time.str.contains(_ISO_OFFSET).not_() if time_text else pl.lit(True)
    unparsed_time = orig_time.is_not_null() & pl.col("captured_at").is_null()
    heading_text = schema.get("_orig_heading") == pl.String
    checks = [
        ("plate", plate.is_null() | (plate == ""), "plate is missing"),
        ("plate", ~plate_ascii, "plate has non-ASCII characters (letters such as ß, ﬁ or full-width Ａ are not "
                                "folded into A-Z; invisible ones are refused): write the plate in A-Z and 0-9"),
        ("plate", plate_ascii & ~plate.str.contains(r"^[A-Z0-9]*$"), "plate has characters other than A-Z and 0-9"),
        ("plate", (plate.str.len_chars() < PLATE_MIN_LEN) | (plate.str.len_chars() > PLATE_MAX_LEN),
         f"plate must be {PLATE_MIN_LEN}-{PLATE_MAX_LEN} characters"),
        ("plate_confidence", pl.col("plate_confidence").is_null(), "confidence is missing or not a number"),
        ("plate_confidence", ~pl.col("plate_confidence").is_between(0, 100), "confidence must be 0-100"),
        ("captured_at", orig_time.is_null(), "capture time is missing"),
        ("captured_at", unparsed_time & no_offset,
         "capture time has no UTC offset (write e.g. 2026-06-01T20:30:00Z or 2026-06-01T13:30:00-07:00)"),
        ("captured_at", unparsed_time & ~no_offset, "capture time is not a valid ISO-8601 time"),
        ("captured_at", pl.col("captured_at") < _EARLIEST, "capture time is before 2000"),
        ("captured_at", pl.col("captured_at") > pl.lit(now_plus_day), "capture time is in the future"),
        ("camera_id", pl.col("camera_id").is_null() | (pl.col("camera_id") == ""), "camera_id is missing"),
        ("lat", lat.is_null(), "latitude is missing or not a number"),
        ("lat", ~lat.is_between(-90, 90) | lat.is_nan(), "latitude must be between -90 and 90"),
        ("lon", lon.is_null(), "longitude is missing or not a number"),
        ("lon", ~lon.is_between(-180, 180) | lon.is_nan(), "longitude must be between -180 and 180"),
        ("lat", (lat == 0) & (lon == 0), "position 0,0 means the GPS had no fix"),
        ("heading", pl.col("heading").is_not_null() & ~pl.col("heading").is_between(0, 360),
         "heading must be between 0 and 360 degrees"),
        ("region", pl.col("region").is_not_null() & ~pl.col("region").str.contains(r"^[A-Za-z]{2,3}$"),
         "region must be a 2-3 letter state or province code"),
        *_text_checks(scan),
    ]
    if heading_text:
        checks.append(("heading", pl.col("_orig_heading").is_not_null() & (pl.col("_orig_heading") != "")
                       & pl.col("heading").is_null(), "heading is not a number"))
    return checks


def printable(value: str) -> str:
    """``value`` with its control, format and separator characters written as ``\\uXXXX`` (for reports)."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _FORBIDDEN_CATEGORIES else c for c in value)


def _report_values(report: pl.DataFrame) -> pl.DataFrame:
    """Shorten long refused values and make invisible characters visible, so the report is safe to show."""
    value = pl.col("value")
    cut = REPORT_VALUE_MAX_CHARS
    report = report.with_columns(
        pl.when(value.str.len_chars() > cut)
        .then(pl.format("{}… ({} characters)", value.str.slice(0, cut), value.str.len_chars()))
        .otherwise(value).alias("value"))
    hidden = report.get_column("value").str.contains(FORBIDDEN_CHARS).fill_null(False)
    if not hidden.any():
        return report
    shown = [printable(v) if h else v for v, h in zip(report.get_column("value"), hidden, strict=True)]
    return report.with_columns(pl.Series("value", shown, dtype=pl.String))


def validate_reads(frame: pl.DataFrame) -> Validated:
    """Split ``frame`` into normalised good rows and a rejection report."""
    missing = [c for c in READ_REQUIRED if c not in frame.columns]
    if missing:
        raise IngestError(
            f"the batch lacks required column(s) {missing}; required: {list(READ_REQUIRED)}; "
            f"optional: {[c for c in READ_SCHEMA if c not in READ_REQUIRED]}"
        )
    ignored = tuple(c for c in frame.columns if c not in READ_SCHEMA)
    scan = _scan_text(frame)
    typed = _typed(frame, ascii_plates="plate" in scan and scan["plate"].ascii)
    checks = _checks(typed.schema, utc_now() + timedelta(days=1), scan)
    flags = typed.select(*[cond.fill_null(False).alias(f"_bad{i}") for i, (_, cond, _) in enumerate(checks)])
    counts = flags.sum().row(0)
    problems = []
    for i, (column, _, reason) in enumerate(checks):
        if counts[i]:
            problems.append(
                typed.filter(flags.get_column(f"_bad{i}"))
                .select(pl.col("_row").alias("row"), pl.lit(column).alias("column"),
                        pl.col(f"_orig_{column}").cast(pl.String).alias("value"), pl.lit(reason).alias("reason"))
            )
    rejected = (_report_values(pl.concat(problems).sort("row", "column", maintain_order=True)) if problems
                else pl.DataFrame(schema=REPORT_SCHEMA))
    good = typed if not problems else typed.filter(~flags.select(pl.any_horizontal(pl.all())).to_series())
    good = good.with_columns(
        pl.col("region").str.to_uppercase(),
        pl.coalesce(pl.col("plate_raw"), pl.col("_orig_plate").cast(pl.String)).alias("plate_raw"),
    ).select("_row", *[pl.col(n).cast(t) for n, t in READ_SCHEMA.items()])
    return Validated(good, rejected, ignored)
