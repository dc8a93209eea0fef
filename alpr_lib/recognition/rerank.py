"""A second, independent reader whose votes re-rank the plate recognizer's top-N candidates.

The plate CRNN (``ocr.py``) usually has the right string among its candidates when it ranks the wrong one
first (a misread character: A/4, D/0, E/F, V/U, ...). rapidocr's PP-OCRv6 *general* text recognizer,
already loaded for the plate's state (``region.TextLineReader``; shipped in the rapidocr wheel, SHA-256
checked, never downloaded), was trained on different data with a different architecture, so its errors
are largely independent of the CRNN's. It reads the plate's box once and scores every candidate by its
CTC likelihood under that reading (:func:`ctc_log_likelihood`), after its 18,000-character output has
been folded onto the plate alphabet (upper and lower case together; every other symbol, spaces and
dashes included, counts as a CTC blank).

A candidate's ranking score then moves by ``WEIGHT * max(ll - best_ll, -CAP)``: the second reader's
favourite keeps its score, the others lose at most ``WEIGHT * CAP`` log units, so the reader can settle a
close call between candidates but cannot overrule a confident CRNN reading on its own. Window, weight and
cap were chosen on the us-crops validation plates pasted into synthetic scenes (two scene seeds, 700
scenes; ``bench/bench_rerank.py``), never on the end-to-end photos.

The reader's own best path (``ocr.greedy_decode`` of its folded output) is sometimes right when no CRNN
candidate is; the recognizer then adds it as one more candidate, ranked fourth and never first
(``pipeline.py``), since as a first choice it would replace many right CRNN readings.
"""

from __future__ import annotations

import math

import numpy as np

from .formats import ALPHABET
from .region import TextLineReader

__all__ = ["CAP", "WEIGHT", "SecondReader", "adjustments", "ctc_log_likelihood"]

#: Log units per unit of second-reader log-likelihood difference, and the largest difference counted.
WEIGHT = 0.5
CAP = 2.0
_MIN_LL = -1e4


def ctc_log_likelihood(logp: np.ndarray, label: str) -> float:
    """log P(label | per-step log-probabilities ``logp`` (T x 37, class 0 the blank)) by the CTC forward
    algorithm; ``-inf``-like (``_MIN_LL``) when the label cannot fit in T steps."""
    ids = [ALPHABET.index(c) + 1 for c in label]
    if not ids:
        return float(logp[:, 0].sum())
    ext = np.zeros(2 * len(ids) + 1, np.int64)
    ext[1::2] = ids
    s_len, t_len = len(ext), logp.shape[0]
    # a step may skip the blank between two different characters
    skip = np.zeros(s_len, bool)
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    alpha = np.full(s_len, -np.inf)
    alpha[0], alpha[1] = logp[0, 0], logp[0, ext[1]]
    for t in range(1, t_len):
        prev1 = np.concatenate(([-np.inf], alpha[:-1]))
        prev2 = np.where(skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, prev1), prev2) + logp[t, ext]
    ll = float(np.logaddexp(alpha[-1], alpha[-2]))
    return ll if math.isfinite(ll) else _MIN_LL


class SecondReader:
    """``log_likelihoods(image, quad, plates)``: how well each plate string explains the box, read by the
    PP-OCRv6 general recognizer."""

    def __init__(self, reader: TextLineReader | None = None) -> None:
        self.reader = reader or TextLineReader()
        src, dst = [], []
        for k, ch in enumerate(self.reader.characters):
            if ch and ch.isascii() and ch.upper() in ALPHABET:
                src.append(k)
                dst.append(ALPHABET.index(ch.upper()) + 1)
        self._src = np.asarray(src)
        self._fold = np.zeros((len(src), len(ALPHABET) + 1), np.float32)
        self._fold[np.arange(len(src)), dst] = 1.0

    def step_log_probs(self, image: np.ndarray, quad: np.ndarray) -> np.ndarray:
        """T x 37 log-probabilities of the box ``quad`` (the detector's box as it is) of a BGR image."""
        probs = self.reader.box_step_probs(image, quad)
        folded = probs[:, self._src] @ self._fold
        folded[:, 0] = 1.0 - folded[:, 1:].sum(1)
        return np.log(np.clip(folded, 1e-8, None))

    def log_likelihoods(self, image: np.ndarray, quad: np.ndarray, plates: list[str]) -> dict[str, float]:
        logp = self.step_log_probs(image, quad)
        return {p: ctc_log_likelihood(logp, p) for p in plates}


def adjustments(log_likelihoods: dict[str, float]) -> dict[str, float]:
    """Score change per candidate: 0 for the second reader's favourite, down to ``-WEIGHT * CAP``."""
    if not log_likelihoods:
        return {}
    best = max(log_likelihoods.values())
    return {p: WEIGHT * max(ll - best, -CAP) for p, ll in log_likelihoods.items()}
