"""Video: one read per vehicle, its text fused across the frames it was seen in (OpenALPR's plate grouping).

A plate seen in consecutive sampled frames yields one read per frame. :func:`group_reads` chains them into
groups: a read joins an open group when it comes at most ``max_gap_s`` seconds after the group's last
read, its plate is near where the group's plate was (or where it is heading: constant-velocity
prediction from the last two reads), within ``max_shift`` plate widths, its size is within a factor
``max_scale`` and its text is within ``max_text_distance`` edits; a group takes at most one read per
frame. :func:`fuse_group` then fuses the text by a position-wise vote weighted by confidence: the length
is the length with the most confidence behind it, every read is aligned to the best read of that length
(edit-distance alignment, so a read that dropped or added a character still votes where it aligns) and
each position takes the character with the most weight (per-character confidences where the read has
them). The fused read keeps the best member (highest confidence among the members that read the fused
text, else overall): its crop, time and position; the region is the members' confidence-weighted vote
(a plate-format guess, the same in every frame, counts once; a state read on the plate counts per frame).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FrameRead", "FusedRead", "fuse_group", "group_and_fuse", "group_reads"]


@dataclass(frozen=True)
class FrameRead:
    """One plate read in one video frame."""

    t: float  # seconds from the start of the video
    plate: str
    confidence: float  # 0..100
    quad: np.ndarray  # (4, 2) source-frame pixels
    char_confidences: tuple[float, ...] = ()  # 0..1, one per character of ``plate`` when known
    region: str = ""
    region_confidence: float = 0.0
    frame: int | None = None  # frame index (defaults to ``t``: one read per frame and group)
    payload: Any = field(default=None, compare=False)  # the caller's object (an ImageRead, a crop, ...)


@dataclass(frozen=True)
class FusedRead:
    plate: str
    confidence: float  # 0..100: the mean vote share of the fused characters x the members' mean confidence
    region: str
    region_confidence: float
    best: FrameRead  # the member whose crop, time and position the fused read keeps
    members: tuple[FrameRead, ...]

    @property
    def frames(self) -> int:
        return len(self.members)


def _centre_width(q: np.ndarray) -> tuple[np.ndarray, float]:
    q = np.asarray(q, np.float32).reshape(4, 2)
    w = float((np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2)
    return q.mean(0), max(w, 1.0)


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j - 1] + (ca != cb), prev[j] + 1, cur[j - 1] + 1))
        prev = cur
    return prev[-1]


def _align(ref: str, s: str) -> list[int | None]:
    """For each character of ``s``, the position of ``ref`` it aligns to (match or substitution), else None."""
    n, m = len(ref), len(s)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j - 1] + (ref[i - 1] != s[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
    out: list[int | None] = [None] * m
    i, j = n, m
    while i > 0 and j > 0:
        if d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != s[j - 1]):
            out[j - 1] = i - 1
            i, j = i - 1, j - 1
        elif d[i][j] == d[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return out


def group_reads(
    reads: Sequence[FrameRead],
    *,
    max_gap_s: float = 2.0,
    max_shift: float = 3.0,
    max_scale: float = 2.0,
    max_text_distance: int | None = None,
) -> list[list[int]]:
    """Indices of ``reads`` grouped by vehicle, each group in time order; groups ordered by first read.

    ``max_text_distance`` defaults to a third of the plate's length (at least 2 edits)."""
    order = sorted(range(len(reads)), key=lambda i: (reads[i].t, i))
    groups: list[list[int]] = []
    for i in order:
        r = reads[i]
        if not r.plate:
            continue
        c, w = _centre_width(r.quad)
        frame = r.frame if r.frame is not None else r.t
        best, best_cost = None, math.inf
        for g in groups:
            last = reads[g[-1]]
            if r.t - last.t > max_gap_s or r.t < last.t:
                continue
            if any((reads[k].frame if reads[k].frame is not None else reads[k].t) == frame for k in g):
                continue
            lc, lw = _centre_width(last.quad)
            if not (1 / max_scale <= w / lw <= max_scale):
                continue
            shift = float(np.linalg.norm(c - lc))
            if len(g) >= 2:  # where the plate is heading
                prev = reads[g[-2]]
                pc, _pw = _centre_width(prev.quad)
                dt0, dt1 = last.t - prev.t, r.t - last.t
                if dt0 > 0:
                    shift = min(shift, float(np.linalg.norm(c - (lc + (lc - pc) * dt1 / dt0))))
            shift /= max(w, lw)
            if shift > max_shift:
                continue
            limit = max_text_distance if max_text_distance is not None else max(2, len(last.plate) // 3)
            dist = min(_levenshtein(r.plate, reads[k].plate) for k in g[-3:])
            if dist > limit:
                continue
            cost = dist + shift
            if cost < best_cost:
                best, best_cost = g, cost
        if best is None:
            groups.append([i])
        else:
            best.append(i)
    return groups


def _weights(r: FrameRead) -> list[float]:
    if len(r.char_confidences) == len(r.plate) and r.plate:
        return [max(1e-3, float(c)) * r.confidence / 100 for c in r.char_confidences]
    return [max(1e-3, r.confidence / 100)] * len(r.plate)


def fuse_group(members: Sequence[FrameRead]) -> FusedRead:
    """One read from the reads of one vehicle (see the module docstring)."""
    members = [m for m in members if m.plate]
    if not members:
        raise ValueError("fuse_group needs at least one read with a plate")
    by_len: dict[int, float] = defaultdict(float)
    for m in members:
        by_len[len(m.plate)] += m.confidence
    length = max(by_len.items(), key=lambda kv: (kv[1], kv[0]))[0]
    ref = max((m for m in members if len(m.plate) == length), key=lambda m: (m.confidence, -m.t))
    votes: list[dict[str, float]] = [defaultdict(float) for _ in range(length)]
    for m in members:
        weights = _weights(m)
        positions = range(length) if len(m.plate) == length else _align(ref.plate, m.plate)
        for ch, w, pos in zip(m.plate, weights, positions, strict=True):
            if pos is not None:
                votes[pos][ch] += w
    chars, shares = [], []
    for v in votes:
        ch, w = max(v.items(), key=lambda kv: (kv[1], kv[0]))
        chars.append(ch)
        shares.append(w / sum(v.values()))
    plate = "".join(chars)
    mean_conf = sum(m.confidence for m in members) / len(members)
    confidence = round(float(np.mean(shares)) * mean_conf, 2)
    agreeing = [m for m in members if m.plate == plate]
    best = max(agreeing or members, key=lambda m: (m.confidence, -m.t))
    region, region_conf = _fuse_region(members)
    return FusedRead(plate, confidence, region, region_conf, best, tuple(members))


def _fuse_region(members: Sequence[FrameRead]) -> tuple[str, float]:
    """The members' regions, a vote weighted by confidence. A region that is just the plate-format prior
    of the member's text (``postprocess.guess_region``: the same guess in every frame that read the same
    text) votes once per text, not once per frame; a region read on the plate votes in every frame."""
    from .postprocess import guess_region

    votes: dict[str, float] = defaultdict(float)
    prior: dict[tuple[str, str], float] = {}
    backing: dict[str, list[float]] = defaultdict(list)
    for m in members:
        if not m.region:
            continue
        if (m.region, round(m.region_confidence, 1)) == guess_region(m.plate):
            prior[(m.plate, m.region)] = m.region_confidence
        else:
            votes[m.region] += m.region_confidence
            backing[m.region].append(m.region_confidence)
    for (_plate, region), conf in prior.items():
        votes[region] += conf
        backing[region].append(conf)
    if not votes:
        return "", 0.0
    region, total = max(votes.items(), key=lambda kv: (kv[1], kv[0]))
    # the winner's mean confidence, scaled by its share of all the region votes
    return region, round(float(np.mean(backing[region])) * total / sum(votes.values()), 1)


def group_and_fuse(reads: Sequence[FrameRead], **kwargs: Any) -> list[FusedRead]:
    """:func:`group_reads` then :func:`fuse_group` on each group, in the order the vehicles appeared."""
    return [fuse_group([reads[i] for i in g]) for g in group_reads(reads, **kwargs)]
