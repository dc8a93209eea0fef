"""The plate's state (OpenALPR's ``region``) from the text printed on the plate itself.

A US plate names its state in small print: the state name, often a slogan or a web address
(``data/us_region_text.csv``: written from general public knowledge of the plate designs, never fitted to
any benchmark). This module reads those lines with the PP-OCRv6 *general* text recognizer that ships
inside the installed ``rapidocr`` wheel (``PP-OCRv6_rec_small.onnx``, run on onnxruntime, its file checked
against the SHA-256 that rapidocr 3.10.0 itself pins for it in ``default_models.yaml``; never downloaded)
and fuzzy-matches them against that lexicon:

- a line's text is upper-cased and reduced to A-Z/0-9; an entry matches anywhere inside a line
  (approximate substring match: edit distance where a substring of the line may align with the entry,
  visually confusable characters O/0/D/Q, I/1/L/J, S/5, B/8, Z/2, U/V, ... cost half an edit);
- an entry's score is ``explained * similarity`` with ``explained = len(entry) - distance`` (so that
  ``WEST VIRGINIA`` beats ``VIRGINIA`` and ``ARKANSAS`` beats ``KANSAS`` when the longer one is printed);
  two-letter codes count only as a whole word, exactly;
- a line that plate-frame and dealer words (``data/plate_frame_text.csv``: car makes, MOTORS, SALES,
  STORE, ...) explain better than any state entry is ignored, unless a state entry matches it almost
  exactly ("THE HYUNDAI STORE" on a dealer frame is not "THE NATURAL STATE"; "CITY AUTO SALES TEXAS"
  still says TEXAS);
- a state's score is its best entry plus half of its best entry on another line (name *and* slogan read);
- the confidence (0..100) is a softmax of the states' scores against a "none" score of 4 characters,
  so that it falls both with weak matches and with close competitors.

The plate number line itself is excluded (the tallest line on the crop, and any line reading like the
plate). Below :data:`REGION_THRESHOLD` (the only value tuned, on one half of the us-crops; see
``bench/bench_region.py`` and ``docs/recognition.md``) the region stays empty.

Two ways of finding the lines on a crop (both measured in ``docs/recognition.md``):
``"lines"`` runs the engine's own text detector on the crop and reads every line but the plate's;
``"strips"`` skips the detector and reads one strip above and one below the plate characters.
"""

from __future__ import annotations

import csv
import functools
import math
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from ..errors import RecognitionError
from .ocr import cut_window, sha256_of
from .onnx_session import open_session

__all__ = [
    "REC_MODEL_SHA256",
    "REGION_THRESHOLD",
    "RegionClassifier",
    "RegionGuess",
    "TextLineReader",
    "combine_with_format",
    "default_rec_model",
    "frame_words",
    "guess_from_lines",
    "lexicon",
    "plate_crop",
    "score_lines",
]

#: SHA-256 of ``rapidocr/models/PP-OCRv6_rec_small.onnx`` as rapidocr 3.10.0 pins it in its own
#: ``default_models.yaml`` (``multi_PP-OCRv6_rec_small``); the file is checked against it before loading.
REC_MODEL_SHA256 = "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"
REC_MODEL_NAME = "PP-OCRv6_rec_small.onnx"
#: Confidence (0..100) below which the classifier gives no region. Chosen on the "tune" half of the
#: us-crops (crc32(name) % 2 == 0; bench/bench_region.py), reported on the other half.
REGION_THRESHOLD = 17.5
_NONE_SCORE = 4.0  # characters of evidence a state needs before it is as likely as "no state read"
_TEMPERATURE = 1.0
_MIN_SIMILARITY = 0.5
_FRAME_KEEP_SIMILARITY = 0.9  # a state entry this close is kept even on a line with dealer words
_FRAME_MIN_SIMILARITY = 0.8  # a dealer word counts only when read this clearly
_REC_H = 48
_REC_MAX_W = 640
_CROP_W, _CROP_H = 320, 160  # the size of the us-crops: the pipeline cuts its plates to it

# visually confusable characters (either direction) cost half an edit
_CONFUSABLE = [
    "O0DQCUG",
    "I1LJT",
    "S5",
    "B8",
    "Z2",
    "UV",
    "MN",
    "EF",
    "G6",
    "A4",
    "HN",
    "PR",
    "KX",
    "WV",
    "Y7",
]
_HALF: set[tuple[str, str]] = set()
for _group in _CONFUSABLE:
    for _a in _group:
        for _b in _group:
            if _a != _b:
                _HALF.add((_a, _b))


def _norm(text: str) -> str:
    """Upper-case A-Z/0-9 only."""
    return "".join(ch for ch in text.upper() if ("A" <= ch <= "Z") or ("0" <= ch <= "9"))


def _words(text: str) -> set[str]:
    out, cur = set(), []
    for ch in text.upper() + " ":
        if ("A" <= ch <= "Z") or ("0" <= ch <= "9"):
            cur.append(ch)
        elif cur:
            out.add("".join(cur))
            cur = []
    return out


@dataclass(frozen=True)
class _Entry:
    region: str
    kind: str
    text: str  # as printed
    key: str  # normalised


def _data_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("alpr_lib.recognition").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#")))


@functools.cache
def lexicon() -> tuple[_Entry, ...]:
    """The state entries of ``data/us_region_text.csv``."""
    out = []
    for r in _data_rows("us_region_text.csv"):
        key = _norm(r["text"])
        if key:
            out.append(_Entry(r["region"].upper(), r["kind"], r["text"], key))
    return tuple(out)


@functools.cache
def frame_words() -> tuple[_Entry, ...]:
    """Plate-frame and dealer words (``data/plate_frame_text.csv``): evidence that a line is not the state's."""
    out = []
    for r in _data_rows("plate_frame_text.csv"):
        key = _norm(r["text"])
        if key:
            out.append(_Entry("", "code" if len(key) <= 3 else "frame", r["text"], key))
    return tuple(out)


@functools.cache
def _cost_table() -> np.ndarray:
    cost = np.ones((128, 128), np.float32)
    np.fill_diagonal(cost, 0.0)
    for a, b in _HALF:
        cost[ord(a), ord(b)] = 0.5
    return cost


@functools.cache
def _lexicon_arrays() -> tuple[tuple[_Entry, ...], np.ndarray, np.ndarray]:
    """The fuzzy-matched entries (codes excluded) as an E x M array of character codes and their lengths."""
    entries = tuple(e for e in lexicon() + frame_words() if e.kind != "code")
    m = max(len(e.key) for e in entries)
    codes = np.zeros((len(entries), m), np.int64)
    for k, e in enumerate(entries):
        codes[k, : len(e.key)] = [ord(c) for c in e.key]
    return entries, codes, np.array([len(e.key) for e in entries])


def _substring_distances(text: str) -> np.ndarray:
    """:func:`_substring_distance` of every fuzzy-matched entry against ``text`` at once (numpy): row by
    row of the entries' characters, the insertion chain along the text is a running minimum."""
    entries, codes, lens = _lexicon_arrays()
    t = np.array([ord(c) for c in text], np.int64)
    n = len(t)
    sub = _cost_table()[codes[:, :, None], t[None, None, :]]  # E x M x n
    idx = np.arange(n + 1, dtype=np.float32)
    prev = np.zeros((len(entries), n + 1), np.float32)  # an alignment may start anywhere in the text
    best = np.full(len(entries), np.inf, np.float32)
    for i in range(codes.shape[1]):
        step = np.empty_like(prev)
        step[:, 0] = i + 1
        step[:, 1:] = np.minimum(prev[:, :-1] + sub[:, i, :], prev[:, 1:] + 1.0)
        prev = np.minimum.accumulate(step - idx, axis=1) + idx
        done = lens == i + 1
        if done.any():
            best[done] = prev[done].min(1)
    return best


def _substring_distance(entry: str, text: str) -> float:
    """Smallest edit distance between ``entry`` and any substring of ``text`` (Sellers' algorithm),
    confusable substitutions at half cost."""
    n = len(text)
    prev = [0.0] * (n + 1)  # an alignment may start anywhere in the text
    for i, e in enumerate(entry, 1):
        cur = [float(i)] + [0.0] * n
        for j in range(1, n + 1):
            t = text[j - 1]
            sub = 0.0 if e == t else (0.5 if (e, t) in _HALF else 1.0)
            cur[j] = min(prev[j - 1] + sub, prev[j] + 1.0, cur[j - 1] + 1.0)
        prev = cur
    return min(prev)


def _entry_scores(key: str, words: set[str]) -> list[tuple[_Entry, float]]:
    """(entry, score) for the entries that match a normalised line ``key`` (``words``: its raw words)."""
    entries, _codes, lens = _lexicon_arrays()
    explained = lens - _substring_distances(key)
    sim = explained / lens
    score = np.where(sim >= _MIN_SIMILARITY, explained * sim, 0.0)
    out = [(entries[k], float(score[k])) for k in np.nonzero(score > 0)[0]]
    out += [(e, float(len(e.key))) for e in lexicon() + frame_words() if e.kind == "code" and e.key in words]
    return out


def score_lines(lines: list[str]) -> dict[str, tuple[float, str]]:
    """Region code -> (score in characters of evidence, the entry that matched best) for text lines."""
    per_line: list[dict[str, tuple[float, str]]] = []
    for line in lines:
        key = _norm(line)
        if len(key) < 2:
            continue
        best: dict[str, tuple[float, str]] = {}
        frame, top_sim, top = 0.0, 0.0, 0.0
        for entry, s in _entry_scores(key, _words(line)):
            if not entry.region:  # a plate-frame / dealer word, when read clearly
                if s >= _FRAME_MIN_SIMILARITY**2 * len(entry.key):
                    frame += s
                continue
            if s > top:
                top, top_sim = s, math.sqrt(s / len(entry.key))  # score = similarity^2 x length
            if s > best.get(entry.region, (0.0, ""))[0]:
                best[entry.region] = (s, entry.text)
        if frame > top and top_sim < _FRAME_KEEP_SIMILARITY:
            continue  # dealer-frame text that happens to look like a slogan
        per_line.append(best)
    out: dict[str, tuple[float, str]] = {}
    for region in {r for b in per_line for r in b}:
        scores = sorted(((b[region][0], b[region][1]) for b in per_line if region in b), reverse=True)
        total = scores[0][0] + (0.5 * scores[1][0] if len(scores) > 1 else 0.0)
        out[region] = (total, scores[0][1])
    return out


@dataclass(frozen=True)
class RegionGuess:
    """The state read on a plate: ``region`` lower-case ("ca"), or "" below the threshold."""

    region: str
    confidence: float  # 0..100
    best: str  # the best state whatever the threshold (upper-case), "" when nothing matched
    best_confidence: float
    matched: str  # the lexicon entry behind ``best``
    lines: tuple[str, ...]  # the text lines read (plate line excluded)
    ms: float = 0.0


def guess_from_lines(lines: list[str], threshold: float = REGION_THRESHOLD, ms: float = 0.0) -> RegionGuess:
    scores = score_lines(lines)
    if not scores:
        return RegionGuess("", 0.0, "", 0.0, "", tuple(lines), ms)
    best, (s1, matched) = max(scores.items(), key=lambda kv: (kv[1][0], kv[0]))
    z = math.exp(_NONE_SCORE / _TEMPERATURE) + sum(math.exp(s / _TEMPERATURE) for s, _m in scores.values())
    conf = round(100.0 * math.exp(s1 / _TEMPERATURE) / z, 1)
    region = best.lower() if conf >= threshold else ""
    return RegionGuess(region, conf if region else 0.0, best, conf, matched, tuple(lines), ms)


def default_rec_model() -> Path:
    """The PP-OCRv6 small text-recognition model shipped inside the installed ``rapidocr`` wheel."""
    try:
        path = Path(str(resources.files("rapidocr").joinpath("models", REC_MODEL_NAME)))
    except ModuleNotFoundError as exc:  # pragma: no cover - rapidocr is a runtime dependency
        raise RecognitionError("rapidocr is not installed: pip install 'rapidocr>=3.0,<4'") from exc
    return path


class TextLineReader:
    """PP-OCRv6 general text recognizer (CTC, 48 px tall input) on onnxruntime: ``read(lines)``."""

    def __init__(
        self, model_path: Path | None = None, expected_sha256: str | None = REC_MODEL_SHA256, threads: int = 1
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_rec_model()
        if not self.model_path.is_file():
            raise RecognitionError(
                f"the rapidocr text-recognition model is missing at {self.model_path}; "
                "reinstall rapidocr (pip install --force-reinstall 'rapidocr>=3.0,<4')"
            )
        self.sha256 = sha256_of(self.model_path)
        if expected_sha256 is not None and self.sha256 != expected_sha256:
            raise RecognitionError(
                f"text-recognition model {self.model_path} failed its checksum: sha256 {self.sha256} != pinned "
                f"{expected_sha256} (rapidocr 3.10.0's own pin). Reinstall rapidocr or pass expected_sha256="
            )
        self._session, self._input = open_session(self.model_path, threads=threads, what="text-recognition")
        meta = self._session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise RecognitionError(f"{self.model_path} carries no character list; not a PP-OCR rec model")
        self._chars = ["", *meta["character"].splitlines(), " "]
        self._lock = threading.Lock()

    @property
    def characters(self) -> list[str]:
        """The model's output classes: index 0 the CTC blank, then its character list, then a space."""
        return list(self._chars)

    def step_probs(self, line: np.ndarray) -> np.ndarray:
        """The per-step class probabilities (T x classes) of one BGR line image, resized to 48 px tall."""
        return self._probs([line], [_input_width(line)])[0]

    def box_step_probs(self, image: np.ndarray, quad: np.ndarray) -> np.ndarray:
        """``step_probs`` of the box ``quad`` of a BGR image, rectified straight to the input size."""
        q = np.asarray(quad, np.float32)
        w = float(np.linalg.norm(q[1] - q[0]))
        h = float(np.linalg.norm(q[3] - q[0]))
        width = _width_for(w, h)
        return self._probs([cut_window(image, q, size=(width, _REC_H))], [width])[0]

    def read(self, lines: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, mean character probability) for each BGR line image (any size)."""
        out: list[tuple[str, float]] = [("", 0.0)] * len(lines)
        widths = [_input_width(im) for im in lines]
        order = sorted(range(len(lines)), key=lambda i: widths[i])
        batch: list[int] = []
        for k, i in enumerate(order):  # batches of similar widths: little padding
            batch.append(i)
            nxt = order[k + 1] if k + 1 < len(order) else None
            if nxt is None or widths[nxt] > 1.4 * widths[batch[0]] or len(batch) == 6:
                for j, res in zip(batch, self._run([lines[j] for j in batch], [widths[j] for j in batch]),
                                  strict=True):
                    out[j] = res
                batch = []
        return out

    def _probs(self, images: list[np.ndarray], widths: list[int]) -> np.ndarray:
        """N x T x classes probabilities of line images resized to 48 px x ``widths`` (zero-padded)."""
        x = np.zeros((len(images), 3, _REC_H, max(widths)), np.float32)
        for k, (im, w) in enumerate(zip(images, widths, strict=True)):
            if im.shape[:2] != (_REC_H, w):
                im = cv2.resize(im, (w, _REC_H), interpolation=cv2.INTER_LINEAR)
            r = im.astype(np.float32)
            x[k, :, :, :w] = (r / 127.5 - 1.0).transpose(2, 0, 1)
        with self._lock:
            return self._session.run(None, {self._input: x})[0]

    def _run(self, images: list[np.ndarray], widths: list[int]) -> list[tuple[str, float]]:
        res = []
        for p in self._probs(images, widths):
            idx = p.argmax(-1)
            top = p.max(-1)
            chars, confs, prev = [], [], 0
            for k, c in zip(idx.tolist(), top.tolist(), strict=True):
                if k != 0 and k != prev and k < len(self._chars):
                    chars.append(self._chars[k])
                    confs.append(c)
                prev = k
            res.append(("".join(chars), float(np.mean(confs)) if confs else 0.0))
        return res


def _input_width(line: np.ndarray) -> int:
    """The recognizer's input width for a line image scaled to 48 px tall (aspect kept, bounded)."""
    return _width_for(line.shape[1], line.shape[0])


def _width_for(width: float, height: float) -> int:
    """The recognizer's input width for a line ``width`` x ``height`` scaled to 48 px tall (bounded)."""
    return max(16, min(_REC_MAX_W, round(_REC_H * width / max(1.0, height))))


def plate_crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """A 320x160 crop of the whole plate around a plate quad found in a photo (the us-crops' framing).

    At photo scale the engine's quad spans the plate's width (its height varies with what the detector
    boxed), so the crop is centred on the quad, 1.1x its width and half as tall as wide, along the quad's
    own axes."""
    q = np.asarray(quad, np.float32).reshape(4, 2)
    c = q.mean(0)
    u = ((q[1] - q[0]) + (q[2] - q[3])) / 2
    v = ((q[3] - q[0]) + (q[2] - q[1])) / 2
    w = float(np.linalg.norm(u))
    if w < 1:
        return np.zeros((_CROP_H, _CROP_W, 3), np.uint8)
    ux = u / w
    vn = float(np.linalg.norm(v))
    vy = v / vn if vn >= 1 else np.float32([-ux[1], ux[0]])
    hw, hh = 0.55 * w, 0.275 * w
    box = np.float32([c - hw * ux - hh * vy, c + hw * ux - hh * vy, c + hw * ux + hh * vy, c - hw * ux + hh * vy])
    return cut_window(image, box, (_CROP_W, _CROP_H))


class RegionClassifier:
    """``classify_crop(crop)`` / ``classify_plate(image, quad)`` -> :class:`RegionGuess`."""

    def __init__(
        self,
        reader: TextLineReader | None = None,
        detector=None,
        threshold: float = REGION_THRESHOLD,
        mode: str = "strips",
        threads: int = 1,
    ) -> None:
        if mode not in ("lines", "strips"):
            raise ValueError(f"mode must be 'lines' or 'strips', not {mode!r}")
        self.reader = reader or TextLineReader(threads=threads)
        self._detector = detector
        self._threads = threads
        self.threshold = float(threshold)
        self.mode = mode

    @property
    def detector(self):
        if self._detector is None:
            from .detector import TextLineDetector

            self._detector = TextLineDetector(threads=self._threads)
        return self._detector

    def read_lines(self, crop: np.ndarray, plate_text: str | None = None, mode: str | None = None) -> list[str]:
        """The text lines on a plate crop, the plate number line excluded."""
        mode = mode or self.mode
        h = crop.shape[0]
        if mode == "strips":
            strips = [crop[: int(0.3 * h)], crop[int(0.75 * h) :]]
            images = [s for s in strips if s.shape[0] >= 4 and s.shape[1] >= 8]
        else:
            props = [p for p in self.detector(crop) if not p.merged and p.height >= 5 and p.width >= p.height]
            if not props:
                return []
            tallest = max(props, key=lambda p: p.height)
            props = [p for p in props if p is not tallest][:8]
            images = [
                cut_window(crop, p.quad, (max(8, round(p.width * 48 / max(p.height, 1))), 48)) for p in props
            ]
        texts = [t for t, c in self.reader.read(images) if t and c >= 0.3]
        plate = _norm(plate_text or "")
        if plate:
            texts = [t for t in texts if not _is_plate_line(_norm(t), plate)]
        return texts

    def classify_crop(self, crop: np.ndarray, plate_text: str | None = None, mode: str | None = None) -> RegionGuess:
        t0 = time.perf_counter()
        lines = self.read_lines(crop, plate_text, mode)
        return guess_from_lines(lines, self.threshold, ms=(time.perf_counter() - t0) * 1000)

    def classify_plate(self, image: np.ndarray, quad: np.ndarray, plate_text: str | None = None) -> RegionGuess:
        """The state of a plate found at ``quad`` in a photo (the crop is cut by :func:`plate_crop`)."""
        return self.classify_crop(plate_crop(image, quad), plate_text)


def _is_plate_line(line: str, plate: str) -> bool:
    if not line:
        return False
    if plate in line or line in plate:
        return len(line) >= max(2, len(plate) - 2)
    return _substring_distance(plate, line) <= 1.5 and len(line) <= len(plate) + 3


def combine_with_format(
    guess: RegionGuess, format_region: str, format_confidence: float, threshold: float = REGION_THRESHOLD
) -> tuple[str, float]:
    """The region to report from the crop's text and the plate-format prior (``postprocess.guess_region``).

    The text read on the plate decides when it answers (confidence >= ``threshold``). Below it, a state
    that the text favours *and* the format prior names as its best state is reported with the larger of
    the two confidences (two weak, independent signals agreeing); otherwise the format prior stands as
    before (reads store it only at ``MIN_REGION_CONFIDENCE`` or more).
    """
    if guess.region and guess.confidence >= threshold:
        return guess.region, guess.confidence
    if guess.best and format_region and guess.best.lower() == format_region.lower():
        return format_region.lower(), round(max(guess.best_confidence, format_confidence), 1)
    return format_region, format_confidence
