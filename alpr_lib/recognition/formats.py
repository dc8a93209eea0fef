"""US plate formats and state names, kept as data files in ``recognition/data/``.

A pattern uses OpenALPR's notation: ``@`` a letter, ``#`` a digit, ``?`` either. Each (region, pattern)
row has a weight (how common it is); the renderer samples from them and post-processing scores OCR
output against them.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "ALPHABET",
    "PlateFormat",
    "matches",
    "plate_formats",
    "regions",
    "shape_of",
    "state_names",
]

#: The characters the plate recognizer reads (index 0 of its output is the CTC blank).
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = set("0123456789")


@dataclass(frozen=True)
class PlateFormat:
    region: str
    pattern: str
    weight: float


def _data_lines(name: str) -> list[str]:
    text = resources.files("alpr_lib.recognition").joinpath("data", name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.cache
def plate_formats() -> tuple[PlateFormat, ...]:
    """Every (region, pattern, weight) row of ``data/us_plate_formats.csv``."""
    rows = csv.DictReader(_data_lines("us_plate_formats.csv"))
    return tuple(PlateFormat(r["region"], r["pattern"], float(r["weight"])) for r in rows)


@functools.cache
def state_names() -> dict[str, tuple[str, str]]:
    """Region code -> (name as printed on plates, slogan)."""
    rows = csv.DictReader(_data_lines("us_states.csv"))
    return {r["region"]: (r["name"], r["slogan"]) for r in rows}


def regions() -> tuple[str, ...]:
    return tuple(sorted({f.region for f in plate_formats()}))


def shape_of(plate: str) -> str:
    """``"7ABC123"`` -> ``"#@@@###"``."""
    return re.sub("[A-Z]", "@", re.sub("[0-9]", "#", plate))


def matches(plate: str, pattern: str) -> bool:
    if len(plate) != len(pattern):
        return False
    for ch, p in zip(plate, pattern, strict=True):
        if (p == "@" and ch not in _LETTERS) or (p == "#" and ch not in _DIGITS):
            return False
    return True
