"""Partial-plate patterns (policy 462.3(c)): ``?`` one unknown character, ``*`` any run, ``[..]`` a set.

A pattern compiles to an anchored regular expression over stored (normalised) plates, exact or
OCR-confusion tolerant (each character widened to its confusion group from ``data/ocr_confusions.toml``).
:func:`substitutions` counts how many characters of a plate matched only through a confusion, to rank
exact-character matches first.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from alpr_lib.errors import ValidationError
from alpr_lib.store.schema import PLATE_CHARSET, PLATE_MAX_LEN

__all__ = ["MIN_FIXED_CHARS", "PlatePattern", "confusion_classes", "confusion_groups", "confusion_key",
           "parse_pattern"]

MIN_FIXED_CHARS = 3


@cache
def confusion_groups() -> tuple[str, ...]:
    """The documented confusion table, loaded once."""
    text = resources.files("alpr_lib").joinpath("data/ocr_confusions.toml").read_text(encoding="utf-8")
    groups = tuple(g.upper() for g in tomllib.loads(text)["groups"])
    for group in groups:
        if set(group) - set(PLATE_CHARSET):
            raise ValidationError(f"confusion group {group!r} has characters outside A-Z/0-9")
    return groups


@cache
def confusion_classes() -> dict[str, str]:
    """Each character of a confusion group -> the smallest character of its class (groups that share a
    character merge, e.g. ``7T`` and ``1ILT``): misreads of one plate map to one text (:func:`confusion_key`)."""
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
    return {c: find(c) for c in parent}


def confusion_key(plate: str) -> str:
    """The plate with every character replaced by its confusion class: misreads of one plate share it."""
    table = confusion_classes()
    return "".join(table.get(c, c) for c in plate)


@cache
def _confusable(char: str) -> frozenset[str]:
    out = {char}
    for group in confusion_groups():
        if char in group:
            out |= set(group)
    return frozenset(out)


@dataclass(frozen=True)
class _Token:
    kind: str  # "char" | "set" | "one" | "any"
    chars: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PlatePattern:
    """A parsed pattern: its text, tokens and regexes."""

    text: str
    tokens: tuple[_Token, ...]

    @classmethod
    def exact(cls, plate: str) -> PlatePattern:
        """A pattern matching exactly one (already normalised) plate: used for plate history."""
        return cls(plate, tuple(_Token("char", frozenset(c)) for c in plate))

    @property
    def fixed_chars(self) -> int:
        return sum(1 for t in self.tokens if t.kind == "char")

    @property
    def has_wildcards(self) -> bool:
        return any(t.kind != "char" for t in self.tokens)

    def regex(self, *, confusions: bool) -> str:
        parts = []
        for token in self.tokens:
            if token.kind == "any":
                parts.append(".*")
            elif token.kind == "one":
                parts.append(".")
            else:
                chars = set(token.chars)
                if confusions:
                    for c in token.chars:
                        chars |= _confusable(c)
                parts.append(re.escape(next(iter(chars))) if len(chars) == 1 else f"[{''.join(sorted(chars))}]")
        return "^" + "".join(parts) + "$"

    def prefixes(self, *, confusions: bool, limit: int = 64) -> list[str] | None:
        """Every literal prefix a matching plate can start with (longest run of fixed tokens), or None
        when the pattern starts with a wildcard or the prefixes would exceed ``limit``. Lets a search jump
        straight to the right slices of the sorted plate dictionary instead of testing every plate."""
        return self._affixes(self.tokens, confusions=confusions, limit=limit, max_len=PLATE_MAX_LEN)

    def suffixes(self, *, confusions: bool, limit: int = 8, max_len: int = 2) -> list[str] | None:
        """The last ``max_len`` fixed characters a matching plate can end with (``*K123`` gives ``["23"]``),
        for a cheap ends-with filter before the regular expression; None when the pattern ends with a
        wildcard."""
        found = self._affixes(tuple(reversed(self.tokens)), confusions=confusions, limit=limit, max_len=max_len)
        return None if found is None else [s[::-1] for s in found]

    @staticmethod
    def _affixes(tokens: tuple[_Token, ...], *, confusions: bool, limit: int, max_len: int) -> list[str] | None:
        out = [""]
        for token in tokens[:max_len]:
            if token.kind not in ("char", "set"):
                break
            chars = set(token.chars)
            if confusions:
                for c in token.chars:
                    chars |= _confusable(c)
            if len(out) * len(chars) > limit:
                break
            out = [p + c for p in out for c in sorted(chars)]
        return out if out != [""] else None

    def substitutions(self, plate: str) -> int:
        """Fewest characters of ``plate`` that match only through a confusion (0 = exact match).

        A small dynamic programme over (token, character) so that ``*`` is handled exactly; returns a
        large number when the plate does not match even with confusions.
        """
        inf = 10**6
        n = len(plate)
        best = [0] + [inf] * n  # best[j]: min substitutions matching plate[:j] with the tokens so far
        for token in self.tokens:
            nxt = [inf] * (n + 1)
            if token.kind == "any":
                running = inf
                for j in range(n + 1):
                    running = min(running, best[j])
                    nxt[j] = running
            else:
                for j in range(n):
                    if best[j] >= inf:
                        continue
                    c = plate[j]
                    if token.kind == "one" or c in token.chars:
                        cost = 0
                    elif any(c in _confusable(x) for x in token.chars):
                        cost = 1
                    else:
                        continue
                    nxt[j + 1] = min(nxt[j + 1], best[j] + cost)
            best = nxt
        return best[n]


def parse_pattern(text: str) -> PlatePattern:
    """Parse and check a pattern; the error message says what to type instead."""
    if not isinstance(text, str):
        raise ValidationError(f"a plate pattern must be text, not {type(text).__name__}")
    raw = re.sub(r"-(?![^\[]*\])", "", re.sub(r"[\s\.]", "", text.upper()))  # keep dashes of [A-F] ranges
    if not raw:
        raise ValidationError("empty plate pattern; type the characters you know, ? for one unknown, * for any")
    tokens: list[_Token] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "?":
            tokens.append(_Token("one"))
        elif c == "*":
            if not tokens or tokens[-1].kind != "any":
                tokens.append(_Token("any"))
        elif c == "[":
            close = raw.find("]", i)
            if close == -1:
                raise ValidationError(f"pattern {text!r}: '[' without a closing ']'")
            body = raw[i + 1:close]
            chars: set[str] = set()
            j = 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    lo, hi = body[j], body[j + 2]
                    if lo > hi or not (lo.isdigit() == hi.isdigit()):
                        raise ValidationError(f"pattern {text!r}: bad range {lo}-{hi} in [{body}]")
                    chars |= {chr(k) for k in range(ord(lo), ord(hi) + 1)}
                    j += 3
                else:
                    chars.add(body[j])
                    j += 1
            bad = chars - set(PLATE_CHARSET)
            if not chars or bad:
                raise ValidationError(f"pattern {text!r}: the set [{body}] must hold letters or digits only")
            tokens.append(_Token("set", frozenset(chars)))
            i = close
        elif c == "]":
            raise ValidationError(f"pattern {text!r}: ']' without an opening '['")
        elif c in PLATE_CHARSET:
            tokens.append(_Token("char", frozenset(c)))
        else:
            raise ValidationError(
                f"pattern {text!r}: {c!r} is not allowed; use letters, digits, ? (one character), "
                "* (any run) and [..] (a set such as [B8])"
            )
        i += 1
    pattern = PlatePattern(raw, tuple(tokens))
    if pattern.fixed_chars < MIN_FIXED_CHARS:
        raise ValidationError(
            f"pattern {text!r} has {pattern.fixed_chars} known character(s); give at least {MIN_FIXED_CHARS} "
            "so the search stays specific to a vehicle"
        )
    if sum(1 for t in tokens if t.kind != "any") > PLATE_MAX_LEN:
        raise ValidationError(f"pattern {text!r} is longer than a plate ({PLATE_MAX_LEN} characters at most)")
    return pattern
