"""Plate text in its one stored form: upper case, no spaces, dashes or dots (the guide's convention).

Used by ingest (as a polars expression over a whole batch) and by every call that takes a full plate, so a
plate typed as ``7abc-123`` finds the reads stored as ``7ABC123``.
"""

from __future__ import annotations

import re

import polars as pl

from alpr_lib.errors import ValidationError

__all__ = ["PLATE_SEPARATORS", "full_plate", "normalise_plate_expr"]

#: characters a plate is written with that are not part of it
PLATE_SEPARATORS = r"[\s\-\.·]"


def normalise_plate_expr(column: str = "plate") -> pl.Expr:
    """The stored form of a column of plates."""
    return pl.col(column).cast(pl.String).str.to_uppercase().str.replace_all(PLATE_SEPARATORS, "")


def full_plate(text: str | None, *, hint: str = "") -> str:
    """The stored form of one full plate, or ValidationError (letters and digits only, 2-10 of them)."""
    if not isinstance(text, str):
        raise ValidationError(f"a plate must be text such as '7ABC123', not {type(text).__name__}")
    normal = re.sub(PLATE_SEPARATORS, "", text).upper()
    if not (2 <= len(normal) <= 10 and normal.isascii() and normal.isalnum()):
        raise ValidationError(f"{text!r} is not a plate; give the full plate, e.g. 7ABC123"
                              + (f" ({hint})" if hint else ""))
    return normal
