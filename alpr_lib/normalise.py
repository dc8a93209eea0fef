"""Plate text in its one stored form: upper case, no spaces, dashes or dots (the guide's convention).

Used by ingest (as a polars expression over a whole batch) and by every call that takes a full plate, so a
plate typed as ``7abc-123`` finds the reads stored as ``7ABC123``.

Only ASCII letters are upper-cased. Unicode case mapping would turn ``ß`` into ``SS`` and the ligature ``ﬁ``
into ``FI``, silently making a plate that was never read; text with any other non-ASCII character than the
separators below is left as it is, so the A-Z/0-9 checks refuse it.
"""

from __future__ import annotations

import re

import polars as pl

from alpr_lib.errors import ValidationError

__all__ = ["PLATE_SEPARATORS", "full_plate", "normalise_plate_expr"]

#: characters a plate is written with that are not part of it: space, no-break and narrow no-break space,
#: dash, dot, middle dot. Not ``\s``: that also matches tabs, line breaks and C1 controls (U+0085), which
#: would vanish from a plate instead of getting it refused.
PLATE_SEPARATORS = "[ \u00a0\u202f.\u00b7-]"


def normalise_plate_expr(column: str = "plate", *, ascii_input: bool = False) -> pl.Expr:
    """The stored form of a column of plates; a plate with non-ASCII characters keeps them (and is refused).

    ``ascii_input=True`` says the caller knows every plate is ASCII text, which skips the per-plate test
    (half the cost of the expression)."""
    text = pl.col(column).cast(pl.String).str.replace_all(PLATE_SEPARATORS, "")
    if ascii_input:
        return text.str.to_uppercase()
    return pl.when(text.str.len_bytes() == text.str.len_chars()).then(text.str.to_uppercase()).otherwise(text)


def full_plate(text: str | None, *, hint: str = "") -> str:
    """The stored form of one full plate, or ValidationError (letters and digits only, 2-10 of them)."""
    if not isinstance(text, str):
        raise ValidationError(f"a plate must be text such as '7ABC123', not {type(text).__name__}")
    normal = re.sub(PLATE_SEPARATORS, "", text)
    if not (2 <= len(normal) <= 10 and normal.isascii() and normal.isalnum()):  # before upper(): ß is not SS
        raise ValidationError(f"{text!r} is not a plate; give the full plate in A-Z and 0-9, e.g. 7ABC123"
                              + (f" ({hint})" if hint else ""))
    return normal.upper()
