"""Plate strings for the generator: state formats, OCR misreads, and fast numpy -> polars string building.

Plates are handled as ``(n, 8)`` uint8 matrices plus a length vector so that millions of plates and misreads
are made with array operations; :func:`strings_from_matrix` turns them into a polars String column in one go.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

WIDTH = 8
LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)
# Current-era plates avoid I, O and Q (as the DMV does), which also keeps misreads meaningful.
PLATE_LETTERS = np.frombuffer(b"ABCDEFGHJKLMNPRSTUVWXYZ", np.uint8)
DIGITS = np.frombuffer(b"0123456789", np.uint8)

#: OCR confusion groups, mirroring the search's documented confusion table.
CONFUSION_GROUPS: tuple[str, ...] = ("0ODQ", "1ILT", "8B", "5S", "2Z", "6G")

#: (region, template, share). ``D`` digit, ``L`` letter, ``N`` digit 1-9. Shares are of all vehicles.
FORMATS: tuple[tuple[str, str, float], ...] = (
    ("CA", "NLLLDDD", 0.80),  # 1ABC234, current California passenger
    ("CA", "NLDDDDD", 0.04),  # 1A23456, California commercial
    ("CA", "DDDLLL", 0.025),  # 123ABC, 1970s California
    ("CA", "LLLDDD", 0.025),  # ABC123, 1956-69 California (still on classics)
    ("NV", "DDDLDD", 0.03),  # 123A45 Nevada
    ("AZ", "LLLDDDD", 0.025),  # ABC1234 Arizona
    ("OR", "DDDLLL", 0.02),  # 123ABC Oregon
    ("TX", "LLLDDDD", 0.025),  # ABC1234 Texas
)


def _confusion_tables() -> tuple[np.ndarray, np.ndarray]:
    """``alts[c]`` lists the characters ``c`` may be misread as (padded with 0); ``n_alts[c]`` counts them."""
    alts = np.zeros((256, 3), np.uint8)
    n_alts = np.zeros(256, np.int64)
    for group in CONFUSION_GROUPS:
        for ch in group:
            others = [ord(o) for o in group if o != ch]
            alts[ord(ch), : len(others)] = others
            n_alts[ord(ch)] = len(others)
    return alts, n_alts


_ALTS, _N_ALTS = _confusion_tables()
CANON = np.arange(256, dtype=np.uint8)
for _g in CONFUSION_GROUPS:
    for _ch in _g:
        CANON[ord(_ch)] = ord(_g[0])


def canonical(plate: str) -> str:
    """Map each confusable character to its group's first member ("7A8K123" and "7ABK123" agree)."""
    return bytes(CANON[np.frombuffer(plate.encode(), np.uint8)]).decode()


def strings_from_matrix(mat: np.ndarray, lens: np.ndarray, name: str = "") -> pl.Series:
    """Build a String Series from an ``(n, w)`` uint8 matrix whose row ``i`` holds ``lens[i]`` characters."""
    n, w = mat.shape
    lens = lens.astype(np.int64, copy=False)
    if n and (lens == w).all():
        data = np.ascontiguousarray(mat).reshape(-1)
    else:
        data = mat[np.arange(w)[None, :] < lens[:, None]]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    arr = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    return pl.Series(name, arr)


def matrix_from_strings(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`strings_from_matrix` for a short list (planted plates)."""
    mat = np.zeros((len(values), WIDTH), np.uint8)
    lens = np.zeros(len(values), np.int64)
    for i, v in enumerate(values):
        b = v.encode()
        mat[i, : len(b)] = np.frombuffer(b, np.uint8)
        lens[i] = len(b)
    return mat, lens


def random_plates(rng: np.random.Generator, n: int,
                  shares: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random plates as (matrix, lengths, format index into :data:`FORMATS`).

    ``shares`` overrides the format mix (commercial fleets use commercial plates; through traffic has more
    out-of-state plates).
    """
    if shares is None:
        shares = np.array([f[2] for f in FORMATS])
    fmt = rng.choice(len(FORMATS), size=n, p=shares / shares.sum())
    mat = np.zeros((n, WIDTH), np.uint8)
    lens = np.zeros(n, np.int64)
    for k, (_region, template, _share) in enumerate(FORMATS):
        rows = np.flatnonzero(fmt == k)
        lens[rows] = len(template)
        for pos, kind in enumerate(template):
            if kind == "L":
                pool = PLATE_LETTERS
            elif kind == "N":
                # California sequential plates: most cars on the road today are 5xxx-9xxx.
                pool = np.frombuffer(b"123456789", np.uint8)
                mat[rows, pos] = pool[
                    np.minimum(rng.choice(9, size=rows.size, p=_FIRST_DIGIT_P), 8)
                ]
                continue
            else:
                pool = DIGITS
            mat[rows, pos] = pool[rng.integers(0, pool.size, rows.size)]
    return mat, lens, fmt


_FIRST_DIGIT_P = np.array([0.01, 0.02, 0.03, 0.05, 0.10, 0.16, 0.22, 0.24, 0.17])


#: Characters an OCR engine adds to a plate (a bolt, a frame edge or a sticker read as a stroke).
_ADDED = b"1I7L"


def misread(rng: np.random.Generator, mat: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply one realistic OCR error per row: confusable substitution (~65%), dropped (~20%) or added (~15%).

    Returns new (matrix, lengths); the inputs are not modified.
    """
    m = mat.shape[0]
    out = mat.copy()
    new_lens = lens.copy()
    if m == 0:
        return out, new_lens
    cols = np.arange(WIDTH)[None, :]
    valid = cols < lens[:, None]
    kind = rng.choice(3, size=m, p=[0.65, 0.20, 0.15])
    confusable = (_N_ALTS[out] > 0) & valid
    # rows without a confusable character, or too short to lose one, fall back to another error kind
    kind[(kind == 0) & ~confusable.any(axis=1)] = 2
    kind[(kind == 1) & (lens <= 3)] = 2
    kind[(kind == 2) & (lens >= WIDTH)] = 1

    sub = np.flatnonzero(kind == 0)
    if sub.size:
        keys = rng.random((sub.size, WIDTH)) + 1.0
        pos = np.argmax(keys * confusable[sub], axis=1)
        c = out[sub, pos]
        pick = (rng.random(sub.size) * _N_ALTS[c]).astype(np.int64)
        out[sub, pos] = _ALTS[c, pick]

    drop = np.flatnonzero(kind == 1)
    if drop.size:
        pos = (rng.random(drop.size) * lens[drop]).astype(np.int64)
        shifted = np.concatenate([mat[drop, 1:], np.zeros((drop.size, 1), np.uint8)], axis=1)
        out[drop] = np.where(cols >= pos[:, None], shifted, mat[drop])
        new_lens[drop] -= 1
        out[drop] = np.where(cols < new_lens[drop][:, None], out[drop], 0)

    add = np.flatnonzero(kind == 2)
    if add.size:
        pos = (rng.random(add.size) * (lens[add] + 1)).astype(np.int64)
        shifted = np.concatenate([np.zeros((add.size, 1), np.uint8), mat[add, :-1]], axis=1)
        block = np.where(cols > pos[:, None], shifted, mat[add])
        # a spurious character: a bolt or frame edge read as I/1, or a doubled neighbour
        extra = np.frombuffer(_ADDED, np.uint8)[rng.integers(0, len(_ADDED), add.size)]
        block[np.arange(add.size), pos] = extra
        out[add] = block
        new_lens[add] += 1
    return out, new_lens
