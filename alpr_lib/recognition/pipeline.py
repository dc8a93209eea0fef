"""The recognition pipeline: proposals (detector) -> plate windows -> OCR -> post-processing -> ranking.

Every stage returns immutable results; the caller's image is never modified. Candidates from all
proposals are ranked by

    score = OCR log-probability + format plausibility (length, US plate formats) + box geometry

so that timestamps, dealer-frame text, state names and badges lose to the plate. Candidates of
overlapping proposals are merged into one :class:`PlateResult` per plate region. The best plates'
candidates are then re-ranked by a second, independent reader (``rerank.py``). The readers after the
main CRNN (its ensemble members, the second reader) run only where the read is not already sure: a
plate read clearly costs the main model alone.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from .detector import Proposal, TextLineDetector
from .ocr import OcrReading, PlateOCR, cut_window, greedy_decode
from .postprocess import corrections, format_bonus, guess_region, matches_template

__all__ = ["Candidate", "PlateRecognizer", "PlateResult", "Recognition", "expand_quad"]

# window variants cut around each proposal: (width scale, height scale) about the proposal's centre.
# Chosen with training/validate_scenes.py (us-crops validation plates pasted into synthetic scenes; never
# the end-to-end photos): the box as detected plus two larger windows, probabilities averaged.
_VARIANTS = ((1.0, 1.0), (1.04, 1.15), (1.08, 1.3))
_PASS1 = 1  # the window read for every proposal in the first pass
_MAX_PROPOSALS = 24
_MAX_PLATE_ASPECT = 3.3
_ASPECT_SLOPE = 1.0
_BEAM_PROPOSALS = 4
_RERANK_RESULTS = 2  # the best plates whose candidates the second reader re-ranks
# how many of a plate's best candidates it re-ranks, whatever top_n the caller asks for (so that the
# best read does not depend on how many candidates are shown); 10 beat 3 and 5 on the validation scenes
_RERANK_POOL = 10
# the second reader's own reading of a plate, when it has a plate's format and is not among the CRNN's
# candidates, is listed at this place (0-based; after the CRNN's three best): it can add the right plate to
# the top 5 but never displaces the best read. On the validation scenes it added it in 5 of 700 scenes
# (top-5 95.1% / 95.1% -> 96.3% / 95.4%), the same at every place from second to fifth; top-1 unchanged
_SECOND_READING_PLACE = 3
# the plate / not-plate classifier's log-odds (verifier.py) enter a proposal's score times this weight,
# clipped to [-_VERIFIER_CLIP, +_VERIFIER_CLIP]; chosen on the validation scenes (docs/recognition.md)
_VERIFIER_WEIGHT = 0.5
_VERIFIER_CLIP = 4.0
# Readers run only where they could change the best read (docs/recognition.md, "Only the readers that
# can change the read"). A plate the main CRNN alone reads with confidence >= _SURE_ALONE_CONFIDENCE, a
# plate's format and a score _SURE_ALONE_MARGIN above its runner-up is not read by the ensemble members
# nor the second reader: on the 700 validation scenes the whole engine changed no such best plate (nor
# whether the right one was in the top 5) from confidence 97 and margin 1, or 93 and margin 2, and 24 at
# confidence 85 and any margin. A best plate the ensemble reads this surely (_SURE_*) is not re-ranked by
# the second reader: it changed none from confidence 90 and margin 1, and 13 at 80 and any margin.
# Each pair sits above the first that changed none.
_SURE_ALONE_CONFIDENCE = 97.0
_SURE_ALONE_MARGIN = 2.0
_SURE_CONFIDENCE = 93.0
_SURE_MARGIN = 1.0


@dataclass(frozen=True)
class Candidate:
    plate: str
    confidence: float  # 0..100
    matches_template: bool
    score: float  # ranking score (log scale; higher is better)


@dataclass(frozen=True)
class PlateResult:
    plate: str
    confidence: float
    matches_template: bool
    region: str
    region_confidence: float
    quad: np.ndarray  # (4, 2) float32, clockwise from top-left, source-image pixels
    candidates: tuple[Candidate, ...]
    char_confidences: tuple[float, ...]
    plate_raw: str  # the OCR's own best string before format-driven correction
    score: float


@dataclass(frozen=True)
class Recognition:
    results: tuple[PlateResult, ...]
    img_width: int
    img_height: int
    processing_time_ms: float
    proposals: int = 0
    timings_ms: dict[str, float] = field(default_factory=dict)

    def ranked(self, n: int) -> list[tuple[str, float, np.ndarray]]:
        """Up to ``n`` distinct plate strings, best first: the best plate's candidates, then the others'."""
        pool: dict[str, tuple[float, float, np.ndarray]] = {}
        for res in self.results:
            for c in res.candidates:
                if c.plate not in pool or pool[c.plate][0] < c.score:
                    pool[c.plate] = (c.score, c.confidence, res.quad)
        best = sorted(pool.items(), key=lambda kv: (-kv[1][0], kv[0]))[:n]
        return [(plate, conf, quad) for plate, (_s, conf, quad) in best]


def expand_quad(quad: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Scale a quad about its centre along its own width (sx) and height (sy) directions."""
    q = np.asarray(quad, np.float32)
    c = q.mean(0)
    u = ((q[1] - q[0]) + (q[2] - q[3])) / 2
    v = ((q[3] - q[0]) + (q[2] - q[1])) / 2
    return np.float32(
        [
            c - sx * u / 2 - sy * v / 2,
            c + sx * u / 2 - sy * v / 2,
            c + sx * u / 2 + sy * v / 2,
            c - sx * u / 2 + sy * v / 2,
        ]
    )


def _dominated(p: Proposal, others: list[Proposal]) -> bool:
    """True when a clearly taller text line sits right above or below ``p`` (p: a state name, a slogan,
    dealer-frame text around the plate's characters)."""
    x0, y0 = p.quad.min(0)
    x1, y1 = p.quad.max(0)
    for q in others:
        if q is p or q.merged or q.height < 1.4 * p.height:
            continue
        qx0, qy0 = q.quad.min(0)
        qx1, qy1 = q.quad.max(0)
        overlap = min(x1, qx1) - max(x0, qx0)
        if overlap < 0.5 * min(x1 - x0, qx1 - qx0):
            continue
        gap = max(qy0 - y1, y0 - qy1)
        if gap < 0.8 * q.height:
            return True
    return False


def _geometry_bonus(p: Proposal, img_h: int, img_w: int) -> float:
    h, w = p.height, p.width
    if h < 6 or w < 0.8 * h:
        return -math.inf
    aspect = w / h
    bonus = 0.0
    # At photo scale the detector boxes a plate as a whole: on the us-crops training plates scaled to
    # 20-60 px the box's width/height is 1.7-3.2 (5th-95th percentile). Longer lines are text painted on
    # the car, dealer frames, timestamps, captions.
    if aspect > _MAX_PLATE_ASPECT:
        bonus -= _ASPECT_SLOPE * (aspect - _MAX_PLATE_ASPECT)
    c = p.quad.mean(0)
    edge = min(c[1], img_h - c[1]) / max(h, 1)
    if edge < 1.0:  # text hugging the top/bottom edge: camera overlays
        bonus -= 1.0
    if p.merged:
        bonus -= 0.1
    return bonus


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax, ay, aw, ah = cv2.boundingRect(a.astype(np.int32))
    bx, by, bw, bh = cv2.boundingRect(b.astype(np.int32))
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


def _logmeanexp(values: list[float]) -> float:
    m = max(values)
    if m == -math.inf:
        return m
    return m + math.log(sum(math.exp(v - m) for v in values) / len(values))


def _support(r: OcrReading, plate: str) -> float:
    for c in r.candidates:
        if c.plate == plate:
            return c.logprob
    return -math.inf if r.plate else -1e9


def _by_score(c: Candidate) -> tuple[float, str]:
    return (-c.score, c.plate)


@dataclass
class _Plate:
    """One plate region while it is ranked: its current result (which carries its box), the OCR
    readings and geometry bonus behind it, and the second reader's reading of the box (read once)."""

    result: PlateResult
    readings: list[OcrReading]
    geo: float
    logp: np.ndarray | None = None
    margin: float = math.inf  # its best candidate's score over the runner-up's (before any re-ranking)

    def sure(self, confidence: float | None = None, margin: float | None = None) -> bool:
        """Sure enough of its best read that more readers would not change it: a plate's format, at least
        ``confidence`` (default ``_SURE_CONFIDENCE``), and a score ``margin`` (``_SURE_MARGIN``) above the
        runner-up."""
        confidence = _SURE_CONFIDENCE if confidence is None else confidence
        margin = _SURE_MARGIN if margin is None else margin
        r = self.result
        return r.confidence >= confidence and r.matches_template and self.margin >= margin


@dataclass
class _Memo:
    """What one ``recognize`` call has already computed per proposal box (keyed by the box's bytes), so
    that the fallback pass, which reads the first pass's proposals together with its own, computes only
    the new boxes: the verifier's log-odds, the first-pass reading, each re-read window's reading and the
    second reader's reading of a plate's box."""

    odds: dict[bytes, float] = field(default_factory=dict)
    first: dict[bytes, OcrReading] = field(default_factory=dict)
    main_lp: dict[tuple[bytes, int], np.ndarray] = field(default_factory=dict)  # re-read window: main model
    alone: dict[tuple[bytes, int], OcrReading] = field(default_factory=dict)  # its reading, main model alone
    member_lp: dict[tuple[bytes, int], np.ndarray] = field(default_factory=dict)  # the members' (M x T x C)
    ensemble: dict[tuple[bytes, int], OcrReading] = field(default_factory=dict)  # the ensemble's reading
    logp: dict[bytes, np.ndarray] = field(default_factory=dict)


def _memoized(memo: dict, keys: list, compute) -> list:
    """``memo[k]`` for each key, computing the missing ones in one batch with ``compute(missing_keys)``."""
    missing = [k for k in dict.fromkeys(keys) if k not in memo]
    if missing:
        memo.update(zip(missing, compute(missing), strict=True))
    return [memo[k] for k in keys]


def _greedy_score(r: OcrReading) -> float:
    if not r.plate:
        return -math.inf
    return float(sum(math.log(max(c, 1e-6)) for c in r.char_confidences))


class PlateRecognizer:
    """Detector + OCR + post-processing. ``recognize(bgr)`` -> :class:`Recognition`."""

    def __init__(
        self,
        detector: TextLineDetector | None = None,
        ocr: PlateOCR | None = None,
        top_n: int = 10,
        default_region: str | None = None,
        min_confidence: float = 60.0,
        fallback_max_side: int | None = 1600,
        fallback_below: float = 75.0,
        detect_region: bool = False,
        region_classifier=None,
        second_reader: bool = True,
        state_prior: bool = False,
        verifier_weight: float = _VERIFIER_WEIGHT,
    ) -> None:
        self.detector = detector or TextLineDetector()
        self.ocr = ocr or PlateOCR()
        self.top_n = top_n
        self.default_region = default_region.upper() if default_region else None
        self.min_confidence = min_confidence
        self.fallback_max_side = fallback_max_side
        self.fallback_below = fallback_below
        # the plate's state read from the text printed on it (region.py); off by default like OpenALPR's
        # set_detect_region, on in batch ingest; the classifier (and its model) is loaded on first use
        self.detect_region = bool(detect_region)
        self._region_classifier = region_classifier
        # rapidocr's general recognizer re-ranks the best plates' candidates (rerank.py); the region
        # classifier reads with the same model, loaded once
        self.use_second_reader = bool(second_reader)
        # with detect_region, a state read on the plate may re-score its candidates with that state's
        # formats; off by default: on the validation scenes it changed top-1 by -0.3..0 points (docs)
        self.state_prior = bool(state_prior)
        # plate / not-plate on the proposals' surroundings (verifier.py); 0 turns it off
        self.verifier_weight = float(verifier_weight)
        self._verifier = None
        self._second_reader = None
        self._text_reader = None

    @property
    def text_reader(self):
        """The PP-OCRv6 general text recognizer, shared by the second reader and the region classifier."""
        if self._text_reader is None:
            if self._region_classifier is not None:
                self._text_reader = self._region_classifier.reader
            else:
                from .region import TextLineReader

                self._text_reader = TextLineReader()
        return self._text_reader

    @property
    def region_classifier(self):
        if self._region_classifier is None:
            from .region import RegionClassifier

            self._region_classifier = RegionClassifier(reader=self.text_reader, detector=self.detector)
        return self._region_classifier

    @property
    def verifier(self):
        if self._verifier is None:
            from .verifier import PlateVerifier

            self._verifier = PlateVerifier()
        return self._verifier

    @property
    def second_reader(self):
        if self._second_reader is None:
            from .rerank import SecondReader

            self._second_reader = SecondReader(self.text_reader)
        return self._second_reader

    def _rank(self, image: np.ndarray, plate: _Plate, region: str | None, vote: bool) -> PlateResult:
        """One plate's result: its candidates scored with ``region``'s formats (None: the default region),
        the top-N re-ranked by the second reader's votes when ``vote`` (``rerank.adjustments``)."""
        pool = max(self.top_n, _RERANK_POOL)
        cands = sorted(self._score_group(plate.readings, plate.geo, region).values(), key=_by_score)[:pool]
        if vote and cands:
            from .rerank import adjustments, ctc_log_likelihood

            if plate.logp is None:  # the second reader reads the plate's box once
                plate.logp = self.second_reader.step_log_probs(image, plate.result.quad)
            votes = adjustments({c.plate: ctc_log_likelihood(plate.logp, c.plate) for c in cands})
            cands = sorted((replace(c, score=c.score + votes[c.plate]) for c in cands), key=_by_score)
            cands = self._with_second_reading(cands, plate.logp, region)
        return self._result(cands, plate.result.quad, plate.readings) if cands else plate.result

    def _with_second_reading(self, cands: list[Candidate], logp: np.ndarray, region: str | None) -> list[Candidate]:
        """``cands`` (sorted, best first) with the second reader's own reading of the plate placed at
        ``_SECOND_READING_PLACE`` when it has a plate's format and the CRNN did not propose it. Its confidence
        is the second reader's (the same per-character measure as the CRNN's); its score sits between its
        neighbours' so that every later sort keeps it there."""
        from .rerank import ctc_log_likelihood

        region = region or self.default_region
        text, _ = greedy_decode(logp)
        if not text or any(c.plate == text for c in cands) or not matches_template(text, region):
            return cands
        place = min(_SECOND_READING_PLACE, len(cands))
        above = cands[place - 1].score
        score = (above + cands[place].score) / 2 if place < len(cands) else above - 1.0
        conf = 100.0 * math.exp(ctc_log_likelihood(logp, text) / len(text))
        extra = Candidate(text, round(conf, 2), True, score)
        return [*cands[:place], extra, *cands[place:]]

    def _result(self, cands: list[Candidate], quad: np.ndarray, readings: list[OcrReading]) -> PlateResult:
        """One plate's result from its scored candidates (best first after sorting)."""
        cands = sorted(cands, key=_by_score)[: self.top_n]
        best = cands[0]
        region, region_conf = (
            (self.default_region.lower(), 100.0) if self.default_region else guess_region(best.plate)
        )
        # the window that supports the best string most: its raw OCR and per-character confidences
        reading = max(readings, key=lambda r: _support(r, best.plate))
        return PlateResult(
            plate=best.plate,
            confidence=best.confidence,
            matches_template=best.matches_template,
            region=region,
            region_confidence=region_conf,
            quad=np.asarray(quad, np.float32),
            candidates=tuple(cands),
            char_confidences=reading.char_confidences,
            plate_raw=reading.plate,
            score=best.score,
        )

    def _regions(self, image: np.ndarray, plates: list[_Plate]) -> list[PlateResult]:
        """Each plate's region from the text read on its crop, combined with the format prior (region.py).

        Where the text names the state, the plate's candidates are scored again with that state's formats
        (the state-aware format prior: what ``default_region`` does when the user names the state)."""
        from .region import combine_with_format

        out = []
        threshold = self.region_classifier.threshold
        for p in plates:
            r = p.result
            guess = self.region_classifier.classify_plate(image, r.quad, r.plate)
            if self.state_prior and guess.region and guess.confidence >= threshold:
                r = self._rank(image, p, guess.region.upper(), vote=p.logp is not None)
            region, conf = combine_with_format(guess, r.region, r.region_confidence, threshold)
            out.append(replace(r, region=region, region_confidence=conf))
        return out

    def _score_group(self, readings: list[OcrReading], geo: float, region: str | None = None) -> dict[str, Candidate]:
        """Candidates of one plate region read through several windows: probabilities averaged over the
        windows (a string missing from a window's beam gets that beam's floor), then the format prior of
        ``region`` (default: the default region, else every US format), geometry and format-driven
        corrections."""
        region = region or self.default_region
        beams = [{c.plate: c.logprob for c in r.candidates} for r in readings]
        floors = [min(b.values()) - 1.0 if b else -30.0 for b in beams]
        pool = set().union(*beams)
        out: dict[str, Candidate] = {}
        for text in sorted(pool):  # sorted: ties break the same way in every process
            lps = [b.get(text, f) for b, f in zip(beams, floors, strict=True)]
            logprob = _logmeanexp(lps)
            for fixed, penalty in [(text, 0.0), *corrections(text, region)]:
                conf = 100.0 * math.exp((logprob - penalty) / max(1, len(fixed)))
                score = logprob - penalty + format_bonus(fixed, region) + geo
                prev = out.get(fixed)
                if prev is None or prev.score < score:
                    out[fixed] = Candidate(fixed, round(conf, 2), matches_template(fixed, region), score)
        return out

    def _detect(self, image: np.ndarray, rois, max_side: int | None = None) -> list[Proposal]:
        ih, iw = image.shape[:2]
        props: list[Proposal] = []
        for x, y, w, h in rois or [(0, 0, iw, ih)]:
            x0, y0 = max(0, int(x)), max(0, int(y))
            x1, y1 = min(iw, int(x + w)), min(ih, int(y + h))
            if x1 - x0 < 16 or y1 - y0 < 16:
                continue
            for p in self.detector(image[y0:y1, x0:x1], max_side=max_side):
                props.append(Proposal(p.quad + np.float32([x0, y0]), p.score, p.merged))
        return props

    def _read(self, image: np.ndarray, props: list[Proposal], memo: _Memo | None = None) -> list[_Plate]:
        """OCR the proposals and rank their candidates; one plate per plate region, best first. ``memo``
        holds what an earlier call on the same image computed for the same boxes."""
        memo = memo if memo is not None else _Memo()
        ih, iw = image.shape[:2]
        scored = [(p, _geometry_bonus(p, ih, iw) - (1.0 if _dominated(p, props) else 0.0)) for p in props]
        scored = [(p, g) for p, g in scored if g > -math.inf]
        scored.sort(key=lambda pg: -(pg[0].height * pg[0].score))
        scored = scored[:_MAX_PROPOSALS]
        keys = [p.quad.tobytes() for p, _g in scored]
        box = {k: p for k, (p, _g) in zip(keys, scored, strict=True)}
        if self.verifier_weight and scored:
            odds = _memoized(memo.odds, keys, lambda ks: self.verifier.log_odds(image, [box[k] for k in ks]))
            odds = np.clip(np.asarray(odds, np.float32), -_VERIFIER_CLIP, _VERIFIER_CLIP)
            scored = [(p, g + self.verifier_weight * float(o)) for (p, g), o in zip(scored, odds, strict=True)]
        # pass 1: one window per proposal, greedy decoding, the main model alone (it only picks the
        # proposals to re-read; the ensemble changed nothing there on the validation scenes, at 3x the time)
        first = _memoized(
            memo.first,
            keys,
            lambda ks: self.ocr.read(
                [cut_window(image, expand_quad(box[k].quad, *_VARIANTS[_PASS1])) for k in ks],
                beam=False,
                ensemble=False,
            ),
        )
        pre = [
            (_greedy_score(r) + format_bonus(r.plate, self.default_region) + g, i)
            for i, (r, (_p, g)) in enumerate(zip(first, scored, strict=True))
        ]
        pre.sort(reverse=True)
        keep = [i for s, i in pre[:_BEAM_PROPOSALS] if s > -math.inf]
        # pass 2: the best proposals, every window variant, beam search + format corrections; the main
        # model first, then the ensemble members (and the second reader) only where it is unsure
        jobs = [(i, v) for i in keep for v in range(len(_VARIANTS))]  # (proposal, window variant)
        job_keys = [(keys[i], v) for i, v in jobs]

        def windows(kvs: list) -> list[np.ndarray]:
            return [cut_window(image, expand_quad(box[k].quad, *_VARIANTS[v])) for k, v in kvs]

        _memoized(memo.main_lp, job_keys, lambda kvs: list(self.ocr.model_log_probs(windows(kvs), 0, 1)[0]))

        def decoded(log_probs: list[np.ndarray]) -> list[OcrReading]:
            return self.ocr.decode(np.stack(log_probs), top_n=max(self.top_n, 10))

        alone = _memoized(memo.alone, job_keys, lambda kvs: decoded([memo.main_lp[k] for k in kvs]))
        plates = self._plates(scored, jobs, alone)
        if self.ocr.members > 1 and not (plates and plates[0].sure(_SURE_ALONE_CONFIDENCE, _SURE_ALONE_MARGIN)):
            _memoized(
                memo.member_lp, job_keys, lambda kvs: list(self.ocr.model_log_probs(windows(kvs), 1).swapaxes(0, 1))
            )
            readings = _memoized(
                memo.ensemble,
                job_keys,
                lambda kvs: decoded(
                    [self.ocr.average(np.concatenate([memo.main_lp[k][None], memo.member_lp[k]])) for k in kvs]
                ),
            )
            plates = self._plates(scored, jobs, readings)
        if self.use_second_reader and plates and not plates[0].sure():
            for p in plates[:_RERANK_RESULTS]:
                key = p.result.quad.tobytes()
                p.logp = memo.logp.get(key)
                p.result = self._rank(image, p, None, vote=True)
                memo.logp[key] = p.logp
            plates.sort(key=lambda p: (-p.result.score, p.result.plate))
        return plates

    def _plates(
        self, scored: list[tuple[Proposal, float]], jobs: list[tuple[int, int]], readings: list[OcrReading]
    ) -> list[_Plate]:
        """The re-read windows' readings grouped by plate region (boxes overlapping by IoU > 0.3), each group
        scored; best plate first."""
        groups: list[dict] = []
        for (i, _v), reading in zip(jobs, readings, strict=True):
            p, g = scored[i]
            group = next((gr for gr in groups if _iou(gr["quad"], p.quad) > 0.3), None)
            if group is None:
                group = {"quad": p.quad, "geo": g, "readings": []}
                groups.append(group)
            group["readings"].append(reading)
            if g > group["geo"]:
                group.update(geo=g, quad=p.quad)
        plates = []
        for gr in groups:
            scored_cands = self._score_group(gr["readings"], gr["geo"])
            if scored_cands:
                result = self._result(list(scored_cands.values()), gr["quad"], gr["readings"])
                top2 = sorted((c.score for c in scored_cands.values()), reverse=True)[:2]
                margin = top2[0] - top2[1] if len(top2) == 2 else math.inf
                plates.append(_Plate(result, gr["readings"], gr["geo"], margin=margin))
        plates.sort(key=lambda p: (-p.result.score, p.result.plate))
        return plates

    def recognize(self, image: np.ndarray, rois: list[tuple[int, int, int, int]] | None = None) -> Recognition:
        """Plates in a BGR uint8 image (validated by the caller; never modified).

        The detector first runs at its reduced resolution; when that yields no confident plate and the
        image is larger, it runs again at ``fallback_max_side`` (small, distant plates) and the
        proposals of both passes are read together.
        """
        t0 = time.perf_counter()
        ih, iw = image.shape[:2]
        props = self._detect(image, rois)
        memo = _Memo()
        plates = self._read(image, props, memo)
        passes = 1
        weak = not plates or plates[0].result.confidence < self.fallback_below
        if weak and self.fallback_max_side and max(ih, iw) > 1.25 * self.detector.max_side:
            props = props + self._detect(image, rois, max_side=self.fallback_max_side)
            plates = self._read(image, props, memo)
            passes = 2
        if plates:  # the best region is reported unless hopeless; others only when confident
            plates = plates[:1] + [
                p for p in plates[1:] if p.result.confidence >= self.min_confidence and p.result.matches_template
            ]
            if plates[0].result.confidence < self.min_confidence / 3:
                plates = []
        t_region = time.perf_counter()
        if plates and self.detect_region and not self.default_region:
            results = self._regions(image, plates)
        else:
            results = [p.result for p in plates]
        t1 = time.perf_counter()
        return Recognition(
            results=tuple(results),
            img_width=iw,
            img_height=ih,
            processing_time_ms=(t1 - t0) * 1000,
            proposals=len(props),
            timings_ms={"total": (t1 - t0) * 1000, "passes": passes, "region": (t1 - t_region) * 1000},
        )
