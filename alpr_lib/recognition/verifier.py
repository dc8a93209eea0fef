"""Plate / not-plate: a small classifier on the detector's text-line proposals.

The text detector boxes every line of text in a photo; the pipeline has to pick the plate among them.
OCR confidence and the plate formats rule out most lines, but a fleet number, a phone number painted on a
tailgate, a DOT number or a bumper sticker can read as cleanly as a plate and even fit a plate format.
What tells them apart is what surrounds the characters: a plate is a small bright-or-coloured rectangle
of known proportions with its characters centred and small print above and below.

The classifier sees that context: the proposal's box widened to ``CONTEXT`` (the plate around its
characters), rectified to 64x32 grey, described by a HOG (OpenCV, 756 values) plus the box's log aspect
ratio, and scored by a logistic regression (``models/plate_verifier.npz``, 9 KB, SHA-256 pinned in
``models/plate_verifier.npz.sha256`` and checked at load). It is trained by ``training/train_verifier.py``
on synthetic scenes only: positives are plates (the us-crops training split and rendered plates), the
negatives every other line the detector finds there, plus painted fleet numbers, phone numbers, business
names, DOT numbers, slogans and stickers (``render.paint_distractors``). Its log-odds enter the ranking
score with a weight chosen on the validation scenes (``pipeline._VERIFIER_WEIGHT``).
"""

from __future__ import annotations

import functools
import io
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from .detector import Proposal
from .ocr import cut_window, verify_model
from .pipeline import expand_quad

__all__ = ["CONTEXT", "PlateVerifier", "context_features", "default_verifier_path"]

#: The window the classifier sees, as (width, height) scales of the proposal's box about its centre.
CONTEXT = (1.3, 2.4)
_SIZE = (64, 32)
MODEL_NAME = "plate_verifier.npz"


@functools.cache
def _hog() -> cv2.HOGDescriptor:
    return cv2.HOGDescriptor(_SIZE, (16, 16), (8, 8), (8, 8), 9)


def context_features(image: np.ndarray, proposals: list[Proposal]) -> np.ndarray:
    """N x 757 features of the proposals of a BGR image: HOG of the context window + log aspect."""
    hog = _hog()
    rows = []
    for p in proposals:
        win = cut_window(image, expand_quad(p.quad, *CONTEXT), size=_SIZE)
        grey = cv2.cvtColor(win, cv2.COLOR_BGR2GRAY)
        aspect = np.log(max(p.width, 1.0) / max(p.height, 1.0))
        rows.append(np.concatenate([hog.compute(grey).ravel(), [aspect]]))
    return np.asarray(rows, np.float32).reshape(len(rows), -1)


def default_verifier_path() -> Path:
    return Path(str(resources.files("alpr_lib.recognition").joinpath("models", MODEL_NAME)))


class PlateVerifier:
    """``log_odds(image, proposals)``: how plate-like each proposal's surroundings are (> 0: a plate)."""

    def __init__(self, model_path: Path | None = None, expected_sha256: str | None = None) -> None:
        path = Path(model_path) if model_path else default_verifier_path()
        self.sha256 = verify_model(path, expected_sha256, what="plate verifier model")
        with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as z:
            self.mean = z["mean"].astype(np.float32)
            self.scale = z["scale"].astype(np.float32)
            self.weights = z["weights"].astype(np.float32)
            self.bias = float(z["bias"])

    def log_odds(self, image: np.ndarray, proposals: list[Proposal]) -> np.ndarray:
        if not proposals:
            return np.zeros(0, np.float32)
        x = (context_features(image, proposals) - self.mean) / self.scale
        return x @ self.weights + self.bias
