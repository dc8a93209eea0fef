"""Stage 2: plate OCR — the project's own CTC plate recognizer (a small CRNN), run on onnxruntime.

The model (``models/plate_crnn.onnx``, trained by ``training/``) reads a plate window rectified to
128x32 pixels and returns per-time-step character probabilities. Decoding gives, for each window, the
best string with a confidence per character and the top-N alternatives from a CTC prefix beam search.
The model file's SHA-256 is pinned in ``models/plate_crnn.onnx.sha256`` and checked before loading.

Two fine-tuned members (``models/plate_crnn_ft_a.onnx``, ``_ft_b``; each pinned the same way) join the
shipped model as an ensemble: their per-step probabilities are averaged. Each member alone reads the
validation crops better but the validation scenes no better; the three together read both better
(docs/recognition.md), so the ensemble, not a replacement, is what ships.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ..errors import RecognitionError
from .formats import ALPHABET
from .onnx_session import open_session

__all__ = [
    "INPUT_H",
    "INPUT_W",
    "OcrCandidate",
    "OcrReading",
    "PlateOCR",
    "cut_window",
    "default_companion_paths",
    "default_model_path",
    "sha256_of",
    "to_input",
    "verify_model",
]

INPUT_W, INPUT_H = 128, 32
MODEL_NAME = "plate_crnn.onnx"
COMPANION_NAMES = ("plate_crnn_ft_a.onnx", "plate_crnn_ft_b.onnx")


@dataclass(frozen=True)
class OcrCandidate:
    plate: str
    logprob: float  # log-probability of the string under the CTC model

    @property
    def confidence(self) -> float:
        """0..100: per-character geometric mean probability (OpenALPR reports a 0..100 confidence)."""
        return 100.0 * math.exp(self.logprob / max(1, len(self.plate)))


@dataclass(frozen=True)
class OcrReading:
    """The OCR of one plate window: best string, its per-character confidences (0..1), alternatives."""

    plate: str
    char_confidences: tuple[float, ...]
    candidates: tuple[OcrCandidate, ...]

    @property
    def confidence(self) -> float:
        return self.candidates[0].confidence if self.candidates else 0.0


def cut_window(image: np.ndarray, quad: np.ndarray, size: tuple[int, int] = (INPUT_W, INPUT_H)) -> np.ndarray:
    """Rectify the (4, 2) quad (clockwise from top-left) of a BGR image into a ``size`` window."""
    w, h = size
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(np.asarray(quad, np.float32), dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def to_input(windows: list[np.ndarray]) -> np.ndarray:
    """Windows (BGR uint8, 32x128) -> the model's N x 3 x 32 x 128 float32 input in [-0.5, 0.5]."""
    x = np.stack(windows).astype(np.float32) / 255.0 - 0.5
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def default_model_path() -> Path:
    return Path(str(resources.files("alpr_lib.recognition").joinpath("models", MODEL_NAME)))


def default_companion_paths() -> tuple[Path, ...]:
    """The shipped ensemble members that join the default model (``PlateOCR()``)."""
    models = resources.files("alpr_lib.recognition").joinpath("models")
    return tuple(Path(str(models.joinpath(name))) for name in COMPANION_NAMES)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_model(path: Path, expected_sha256: str | None = None, what: str = "plate OCR model") -> str:
    """Check ``path`` against its pinned SHA-256 (``<path>.sha256`` unless given); return the digest."""
    path = Path(path)
    if not path.is_file():
        raise RecognitionError(f"{what} not found at {path}; reinstall alpr-workbench or pass model_path=")
    if expected_sha256 is None:
        pin = path.with_name(path.name + ".sha256")
        if not pin.is_file():
            raise RecognitionError(f"no pinned checksum {pin} for the {what} {path}; refusing to load it")
        expected_sha256 = pin.read_text(encoding="ascii").split()[0].strip().lower()
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise RecognitionError(
            f"{what} {path} failed its checksum: sha256 {actual} != pinned {expected_sha256}. "
            "The file is corrupt or was replaced; reinstall alpr-workbench "
            "(or retrain and re-pin with the script in training/)."
        )
    return actual


def _log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def greedy_decode(logp: np.ndarray) -> tuple[str, tuple[float, ...]]:
    """Best path of one T x C log-prob matrix: the string and each character's probability (its peak)."""
    best = logp.argmax(-1)
    probs = np.exp(logp.max(-1))
    chars: list[str] = []
    confs: list[float] = []
    prev = 0
    for t, k in enumerate(best):
        if k != 0 and k != prev:
            chars.append(ALPHABET[k - 1])
            confs.append(float(probs[t]))
        elif k != 0 and k == prev:
            confs[-1] = max(confs[-1], float(probs[t]))
        prev = k
    return "".join(chars), tuple(confs)


def _lae(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) on Python floats (much faster than numpy scalars in the beam loop)."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def beam_decode(logp: np.ndarray, beam: int = 10, top_n: int = 10, prune: float = 2e-3) -> list[OcrCandidate]:
    """CTC prefix beam search over one T x C log-prob matrix; top ``top_n`` strings by probability.

    Pure Python floats in the loop (numpy scalars are several times slower there). A step where only
    the blank passes ``prune`` (most steps of a plate: the gaps between characters) moves every prefix's
    probability to "ends in blank" without creating or merging prefixes, so it is done in one pass."""
    neg_inf = -math.inf
    rows = logp.tolist()
    kept = [np.flatnonzero(m).tolist() for m in logp > math.log(prune)]
    # prefix -> (log p ending in blank, log p ending in a character, log p in total)
    beams: dict[str, tuple[float, float, float]] = {"": (0.0, neg_inf, 0.0)}
    for row, ks in zip(rows, kept, strict=True):
        if len(ks) == 1 and ks[0] == 0:
            p = row[0]
            ranked = sorted(((-(v[2] + p), k) for k, v in beams.items()))
            beams = {k: (-s, neg_inf, -s) for s, k in ranked}
            continue
        nxt: dict[str, list[float]] = {}
        for prefix, (pb, pnb, total) in beams.items():
            last = prefix[-1] if prefix else ""
            for k in ks:
                p = row[k]
                if k == 0:
                    cur = nxt.setdefault(prefix, [neg_inf, neg_inf])
                    cur[0] = _lae(cur[0], total + p)
                    continue
                ch = ALPHABET[k - 1]
                if ch == last:
                    if pb > neg_inf:  # a repeated character needs a blank in between
                        cur = nxt.setdefault(prefix + ch, [neg_inf, neg_inf])
                        cur[1] = _lae(cur[1], pb + p)
                    if pnb > neg_inf:  # or it continues the same character
                        same = nxt.setdefault(prefix, [neg_inf, neg_inf])
                        same[1] = _lae(same[1], pnb + p)
                else:
                    cur = nxt.setdefault(prefix + ch, [neg_inf, neg_inf])
                    cur[1] = _lae(cur[1], total + p)
        scored = sorted((-_lae(v[0], v[1]), k, v) for k, v in nxt.items())[:beam]
        beams = {k: (v[0], v[1], -s) for s, k, v in scored}
    out = [OcrCandidate(k, v[2]) for k, v in beams.items() if k and v[2] > neg_inf]
    out.sort(key=lambda c: (-c.logprob, c.plate))
    return out[:top_n]


class PlateOCR:
    """The plate recognizer. ``read(windows)`` -> one :class:`OcrReading` per 32x128 BGR window.

    ``companions``: further models of the same shape whose probabilities are averaged with the main
    one's (default: the shipped members when the main model is the shipped one, none when the caller
    names a model, so that a candidate model is measured alone). Every file is checked against its pin.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        expected_sha256: str | None = None,
        threads: int = 1,
        companions: list[Path] | tuple[Path, ...] | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        if companions is None:
            companions = default_companion_paths() if model_path is None else ()
        self.companion_paths = tuple(Path(p) for p in companions)
        self.sha256 = verify_model(self.model_path, expected_sha256)
        for path in self.companion_paths:
            verify_model(path, what="plate OCR ensemble member")
        self._sessions = [
            open_session(path, threads=threads, what="plate OCR")
            for path in (self.model_path, *self.companion_paths)
        ]
        self._lock = threading.Lock()

    @property
    def members(self) -> int:
        """How many models read each window: the main one and its ensemble members."""
        return len(self._sessions)

    def model_log_probs(self, windows: list[np.ndarray], first: int = 0, last: int | None = None) -> np.ndarray:
        """M x N x T x C log-probabilities of models ``first`` .. ``last`` - 1 (0 is the main model, then
        the members) for N windows; the pipeline runs the members only where the main model is unsure."""
        sessions = self._sessions[first:last]
        if not windows or not sessions:
            return np.zeros((len(sessions), len(windows), INPUT_W // 4, len(ALPHABET) + 1), np.float32)
        x = to_input(windows)
        with self._lock:
            return np.stack([_log_softmax(s.run(None, {name: x})[0].astype(np.float32)) for s, name in sessions])

    @staticmethod
    def average(per_model: np.ndarray) -> np.ndarray:
        """The models' probabilities averaged (M x ... -> ...), in log space."""
        if len(per_model) == 1:
            return per_model[0]
        return (np.logaddexp.reduce(per_model, axis=0) - math.log(len(per_model))).astype(np.float32)

    def log_probs(self, windows: list[np.ndarray], ensemble: bool = True) -> np.ndarray:
        """N x T x C log-probabilities for N windows: the members' probabilities averaged (``ensemble``)
        or the main model's alone."""
        return self.average(self.model_log_probs(windows, 0, None if ensemble else 1))

    @staticmethod
    def decode(log_probs: np.ndarray, top_n: int = 10, beam: bool = True) -> list[OcrReading]:
        """One reading per window's T x C log-probabilities: greedy string + per-character confidences,
        and (``beam``) the top-N."""
        readings = []
        for lp in log_probs:
            text, confs = greedy_decode(lp)
            if beam:
                cands = beam_decode(lp, top_n=top_n)
            else:
                cands = [OcrCandidate(text, float(sum(math.log(max(c, 1e-9)) for c in confs)))] if text else []
            readings.append(OcrReading(text, confs, tuple(cands)))
        return readings

    def read(
        self, windows: list[np.ndarray], top_n: int = 10, beam: bool = True, ensemble: bool = True
    ) -> list[OcrReading]:
        """Decode each window: greedy string + per-character confidences, and (``beam``) the top-N."""
        return self.decode(self.log_probs(windows, ensemble=ensemble), top_n=top_n, beam=beam)
