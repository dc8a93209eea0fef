"""Stage 3: post-processing of OCR candidates with the per-state plate formats (``data/us_plate_formats.csv``).

- ``format_bonus``: how plausible a string is as a US plate (length, and whether it fits a known format).
- ``corrections``: confusion-aware alternatives (O/0, I/1, B/8, Z/2, S/5, G/6, ...), proposed **only** where
  the OCR string fits no format of the region and swapping confusable characters makes it fit one.
- ``guess_region``: the state whose formats best explain the plate's shape (a weak guess: the engine
  does not read the state name, which is a few pixels tall at ALPR resolutions).
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict

from .formats import ALPHABET, plate_formats, shape_of

__all__ = ["corrections", "format_bonus", "guess_region", "matches_template", "normalise_plate"]

#: letter -> digit it is mistaken for, and back
_TO_DIGIT = {
    "O": "0",
    "D": "0",
    "Q": "0",
    "U": "0",
    "I": "1",
    "L": "1",
    "T": "1",
    "Z": "2",
    "S": "5",
    "B": "8",
    "G": "6",
    "A": "4",
    "J": "3",
    "Y": "7",
}
_TO_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G", "4": "A", "3": "J", "7": "T"}
# log-prob units charged for each character a correction changes. Without a known region a correction
# ranks below the OCR's own reading (vanity plates fit no format; on the us-crops validation plates the
# reading was right more often than its correction) and stays among the top-N; with the region known
# (set_default_region) a format mismatch is real evidence and a one-character correction wins.
_CORRECTION_PENALTY = 1.5
_CORRECTION_PENALTY_REGION = 0.6


def normalise_plate(text: str) -> str:
    """Upper-case A-Z/0-9 only (the store's convention)."""
    return "".join(ch for ch in text.upper() if ch.isascii() and ch.isalnum())


@functools.cache
def _patterns(region: str | None) -> dict[str, float]:
    """pattern -> weight for one region (or the whole country when ``region`` is None)."""
    out: dict[str, float] = defaultdict(float)
    for f in plate_formats():
        if region is None or f.region == region.upper():
            out[f.pattern] += f.weight
    return dict(out)


# A-Z -> "@", 0-9 -> "#": a plate's shape in the formats' notation; any other character stays itself
# and so fits no pattern (patterns hold only "@" and "#").
_SHAPE = str.maketrans({**{c: "@" for c in ALPHABET if c.isalpha()}, **{c: "#" for c in ALPHABET if c.isdigit()}})


@functools.cache
def _shapes(region: str | None) -> frozenset[str]:
    """The patterns of ``region`` (all US ones when it has none) as a set: one lookup per plate."""
    return frozenset(_patterns(region) or _patterns(None))


@functools.cache
def _shapes_of_length(region: str | None, n: int) -> tuple[str, ...]:
    """The patterns of ``region`` (as :func:`_shapes`) with ``n`` characters, in the data file's order."""
    return tuple(p for p in (_patterns(region) or _patterns(None)) if len(p) == n)


def matches_template(plate: str, region: str | None = None) -> bool:
    """True when ``plate`` fits one of the formats of ``region`` (any US format when None)."""
    return plate.translate(_SHAPE) in _shapes(region)


def format_bonus(plate: str, region: str | None = None) -> float:
    """A log-scale plausibility bonus for a plate string (0 = neutral; negative = implausible)."""
    n = len(plate)
    if n == 0:
        return -20.0
    if n <= 1 or n > 8:
        return -8.0
    length = {2: -4.0, 3: -2.5, 4: -1.2, 5: -0.3, 8: -1.0}.get(n, 0.0)
    # 8% of the US training crops have no digit (vanity plates); state names, slogans and badges have none
    no_digit = 0.0 if any(ch.isdigit() for ch in plate) else -1.5
    return length + no_digit + (1.0 if matches_template(plate, region) else 0.0)


def corrections(plate: str, region: str | None = None, max_changes: int = 2) -> list[tuple[str, float]]:
    """Format-driven corrections of an OCR string: [(corrected, penalty)], empty when it already fits."""
    if not plate or matches_template(plate, region):
        return []
    out: dict[str, float] = {}
    for pattern in _shapes_of_length(region, len(plate)):
        fixed, changes = [], 0
        for ch, p in zip(plate, pattern, strict=True):
            if p == "#" and not ch.isdigit():
                if ch not in _TO_DIGIT:
                    break
                fixed.append(_TO_DIGIT[ch])
                changes += 1
            elif p == "@" and ch.isdigit():
                if ch not in _TO_LETTER:
                    break
                fixed.append(_TO_LETTER[ch])
                changes += 1
            else:
                fixed.append(ch)
        else:
            if 0 < changes <= max_changes:
                cand = "".join(fixed)
                per_change = _CORRECTION_PENALTY_REGION if region else _CORRECTION_PENALTY
                out[cand] = min(out.get(cand, math.inf), changes * per_change)
    return sorted(out.items(), key=lambda kv: (kv[1], kv[0]))


@functools.cache
def _shape_index() -> dict[str, dict[str, float]]:
    idx: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for f in plate_formats():
        idx[f.pattern][f.region] += f.weight
    return {k: dict(v) for k, v in idx.items()}


def guess_region(plate: str) -> tuple[str, float]:
    """(region code, confidence 0..100) from the plate's shape; ("", 0) when no format fits."""
    by_region = _shape_index().get(shape_of(plate))
    if not by_region:
        return "", 0.0
    total = sum(by_region.values())
    region, w = max(by_region.items(), key=lambda kv: kv[1])
    return region.lower(), round(100.0 * w / total, 1)
