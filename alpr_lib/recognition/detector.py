"""Stage 1: plate-region proposals.

There are no full-scene plate photos to train a detector on, so the engine reuses the PP-OCR text detector
that ships inside the ``rapidocr`` wheel (Apache-2.0; its default model, loaded from the installed
package, never downloaded) as a *text-line proposer*, run on the photo at a reduced resolution. Each text
line becomes a :class:`Proposal`: a four-corner polygon in the original image's pixel coordinates. Lines
that sit side by side at the same height are also merged into extra proposals (a plate read as ``ABC``
and ``123``). Ranking the proposals into plates is the pipeline's job (OCR confidence + plate shape).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ..errors import RecognitionError
from .onnx_session import open_session

__all__ = ["Proposal", "TextLineDetector", "default_detector_model"]

_MEAN = _STD = np.float32(0.5)  # PP-OCR's normalisation, the same for the three channels
# (pixel / 255 - mean) / std for each of the 256 byte values, computed once in float32 exactly as the
# arithmetic would be per pixel: one table lookup per pixel instead of three float passes (~8 ms a photo).
_NORMALISE = ((np.arange(256, dtype=np.float32) / 255.0 - _MEAN) / _STD).astype(np.float32)


@dataclass(frozen=True)
class Proposal:
    """A candidate text line: ``quad`` is (4, 2) float32, clockwise from top-left, image pixels."""

    quad: np.ndarray
    score: float
    merged: bool = False

    @property
    def height(self) -> float:
        q = self.quad
        return float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2)

    @property
    def width(self) -> float:
        q = self.quad
        return float((np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2)


def default_detector_model() -> Path:
    """The PP-OCRv6 small text-detection model shipped inside the installed ``rapidocr`` wheel."""
    try:
        path = Path(str(resources.files("rapidocr").joinpath("models", "PP-OCRv6_det_small.onnx")))
    except ModuleNotFoundError as exc:  # pragma: no cover - rapidocr is a runtime dependency
        raise RecognitionError("rapidocr is not installed: pip install 'rapidocr>=3.0'") from exc
    if not path.is_file():
        raise RecognitionError(
            f"the rapidocr text-detection model is missing at {path}; "
            "reinstall rapidocr (pip install --force-reinstall rapidocr)"
        )
    return path


@functools.cache
def _postprocess():
    """DB post-processing. ``score_mode="slow"`` scores a line by the mean probability inside its own
    contour rather than inside its minimum-area rectangle: when the dilated map joins a plate's line to
    the small print just above it, the joined rectangle takes in background and fell under ``box_thresh``,
    dropping the plate (about 1 validation scene in 40; docs/recognition.md)."""
    from rapidocr.ch_ppocr_det.utils import DBPostProcess

    return DBPostProcess(
        thresh=0.3, box_thresh=0.5, max_candidates=300, unclip_ratio=1.6, score_mode="slow", use_dilation=True
    )


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Order four points clockwise from top-left."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    s = pts.sum(1)
    d = np.diff(pts, axis=1).ravel()
    out = np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)
    if len({tuple(p) for p in out.tolist()}) < 4:  # degenerate ordering: fall back to the min-area rect
        out = cv2.boxPoints(cv2.minAreaRect(pts)).astype(np.float32)
        return order_quad_by_angle(out)
    return out


def order_quad_by_angle(pts: np.ndarray) -> np.ndarray:
    c = pts.mean(0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coordinates, starting anywhere
    start = int(np.argmin(pts.sum(1)))
    return np.roll(pts, -start, axis=0).astype(np.float32)


class TextLineDetector:
    """PP-OCR DB text detector on onnxruntime, run at ``max_side`` pixels on the longer side."""

    def __init__(self, model_path: Path | None = None, max_side: int = 960, threads: int = 1) -> None:
        self.model_path = Path(model_path) if model_path else default_detector_model()
        self.max_side = int(max_side)
        self._session, self._input = open_session(self.model_path, threads=threads, what="text-detection")
        self._lock = threading.Lock()

    def _prepare(self, image: np.ndarray, max_side: int) -> np.ndarray:
        h, w = image.shape[:2]
        ratio = min(1.0, max_side / max(h, w))
        rh = max(32, int(round(h * ratio / 32) * 32))
        rw = max(32, int(round(w * ratio / 32) * 32))
        resized = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR)
        return np.ascontiguousarray(cv2.LUT(resized, _NORMALISE).transpose(2, 0, 1))[None]

    def __call__(self, image: np.ndarray, max_side: int | None = None) -> list[Proposal]:
        """Text lines in a BGR uint8 image (not modified), detected at ``max_side`` (default: the instance's)."""
        if image.ndim != 3 or image.shape[2] != 3:
            raise RecognitionError(f"the detector needs an HxWx3 BGR image, got shape {image.shape}")
        x = self._prepare(image, int(max_side or self.max_side))
        with self._lock:
            pred = self._session.run(None, {self._input: x})[0]
        boxes, scores = _postprocess()(pred, image.shape[:2])
        props = [Proposal(order_quad(b), float(s)) for b, s in zip(boxes, scores, strict=False)]
        return props + merge_neighbours(props)


def merge_neighbours(props: list[Proposal]) -> list[Proposal]:
    """Extra proposals: pairs (and triples) of lines side by side at the same height and size."""
    out: list[Proposal] = []
    boxes = [cv2.boundingRect(p.quad.astype(np.int32)) for p in props]
    order = sorted(range(len(props)), key=lambda i: boxes[i][0])
    for a_i, a in enumerate(order):
        group = [a]
        for b in order[a_i + 1 :]:
            xb, yb, _wb, hb = boxes[b]
            xl, yl, wl, hl = boxes[group[-1]]
            if not (0.7 < hb / max(hl, 1) < 1.4):
                continue
            if abs((yb + hb / 2) - (yl + hl / 2)) > 0.35 * hl:
                continue
            gap = xb - (xl + wl)
            if -0.3 * hl <= gap <= 1.6 * hl:
                group.append(b)
                pts = np.concatenate([props[i].quad for i in group])
                rect = cv2.boxPoints(cv2.minAreaRect(pts)).astype(np.float32)
                score = float(np.mean([props[i].score for i in group]))
                out.append(Proposal(order_quad_by_angle(rect), score, merged=True))
                if len(group) >= 3:
                    break
    return out
