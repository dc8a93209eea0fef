"""The second reader that re-ranks the top-N (issue 17, part 1): the CTC likelihood against a
brute-force sum over alignments, the bounded adjustments, and the real PP-OCRv6 model on rendered plates."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from alpr_lib.recognition import render_plate, render_scene
from alpr_lib.recognition.formats import ALPHABET
from alpr_lib.recognition.ocr import OcrCandidate, OcrReading, greedy_decode
from alpr_lib.recognition.postprocess import matches_template
from alpr_lib.recognition.rerank import CAP, WEIGHT, SecondReader, adjustments, ctc_log_likelihood


def _collapse(path: tuple[int, ...]) -> str:
    out, prev = [], 0
    for k in path:
        if k and k != prev:
            out.append(ALPHABET[k - 1])
        prev = k
    return "".join(out)


@pytest.mark.parametrize("label", ["A", "AB", "AA", "ABA", "7"])
def test_ctc_likelihood_is_the_sum_over_alignments(label):
    rng = np.random.default_rng(len(label) * 7 + ord(label[0]))
    t_len = 6
    logits = rng.normal(0, 2, (t_len, len(ALPHABET) + 1))
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    symbols = sorted({0, *(ALPHABET.index(c) + 1 for c in label)})
    total = -math.inf
    for path in itertools.product(symbols, repeat=t_len):
        if _collapse(path) == label:
            total = np.logaddexp(total, sum(logp[t, k] for t, k in enumerate(path)))
    assert ctc_log_likelihood(logp, label) == pytest.approx(total, abs=1e-9)


def test_a_label_longer_than_the_steps_is_impossible():
    logp = np.log(np.full((3, len(ALPHABET) + 1), 1 / (len(ALPHABET) + 1)))
    assert ctc_log_likelihood(logp, "ABAB") < -1e3  # "ABAB" needs at least 4 steps


def test_adjustments_are_bounded():
    adj = adjustments({"7ABC123": -1.0, "7ABC128": -1.5, "TABC123": -40.0})
    assert adj["7ABC123"] == 0.0
    assert adj["7ABC128"] == pytest.approx(-0.5 * WEIGHT)
    assert adj["TABC123"] == pytest.approx(-WEIGHT * CAP)
    assert adjustments({}) == {}


@pytest.fixture(scope="module")
def reader() -> SecondReader:
    return SecondReader()


def _confusions(text: str) -> list[str]:
    swaps = {"0": "D", "1": "7", "2": "Z", "5": "S", "8": "B", "A": "4", "B": "8", "E": "F", "C": "G", "K": "X"}
    return [text[:i] + swaps[c] + text[i + 1 :] for i, c in enumerate(text) if c in swaps]


def test_the_second_reader_prefers_the_true_text_of_rendered_plates(reader):
    wins = total = 0
    for seed, text in enumerate(["7ABC123", "KXM4821", "5JRT902", "HPL3307", "8CEK520", "2BAE185"]):
        plate = render_plate(text, np.random.default_rng(300 + seed), height=48)
        x0, y0, x1, y1 = plate.text_box
        quad = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        others = _confusions(text)
        ll = reader.log_likelihoods(plate.image, quad, [text, *others])
        total += len(others)
        wins += sum(ll[text] > ll[o] for o in others)
    assert wins >= 0.9 * total, (wins, total)


def _plate(scene, readings):
    from alpr_lib.recognition.pipeline import PlateResult, _Plate

    quad = np.asarray(scene.quad, np.float32)
    first = readings[0].plate
    result = PlateResult(first, 0.0, False, "", 0.0, quad, (), (), first, 0.0)  # re-ranked from the readings
    return _Plate(result=result, readings=readings, geo=0.0)


def test_rerank_settles_a_close_call_but_not_a_clear_one(engine):
    """The OCR ranks a one-character misread first; the second reader, reading the real plate in the
    scene, swaps a close call and leaves a clear one."""
    scene = render_scene("KXM4821", np.random.default_rng(101), plate_height=44, distractors=False)
    wrong, right = "KXN4821", "KXM4821"  # same format: only the readers decide
    for gap, expected in ((0.2, right), (WEIGHT * CAP + 0.5, wrong)):
        reading = OcrReading(wrong, (0.9,) * 7, (OcrCandidate(wrong, -0.5), OcrCandidate(right, -0.5 - gap)))
        plate = _plate(scene, [reading])
        assert engine._rank(scene.image, plate, None, vote=False).plate == wrong
        voted = engine._rank(scene.image, plate, None, vote=True)
        assert voted.plate == expected, (gap, voted.candidates)
        assert plate.logp is not None  # read once, kept for a second ranking (the state prior)


def test_the_state_prior_scores_with_that_states_formats(engine):
    """A reading that fits no format: with no state a correction ranks below the raw string (vanity
    plates fit no format); with the state named (a default region, or a state read on the plate with
    state_prior=True) the one-character correction into that state's format wins."""
    scene = render_scene("7ABC123", np.random.default_rng(5), plate_height=44, distractors=False)
    raw = "7ABC1Z3"
    reading = OcrReading(raw, (0.9,) * 7, (OcrCandidate(raw, -0.4),))
    plate = _plate(scene, [reading])
    assert engine._rank(scene.image, plate, None, vote=False).plate == raw
    assert engine._rank(scene.image, plate, "CA", vote=False).plate == "7ABC123"


def test_state_prior_in_the_pipeline():
    """End to end on a rendered California plate: with the state read and the prior on, the result keeps
    the state and its candidates are scored against California's formats."""
    from alpr_lib.recognition.pipeline import PlateRecognizer

    scene = render_plate("7ABC123", np.random.default_rng(7), region="CA", height=160)
    image = np.full((480, 640, 3), 90, np.uint8)
    h, w = scene.image.shape[:2]
    image[150 : 150 + h, 160 : 160 + w] = scene.image
    rec = PlateRecognizer(detect_region=True, state_prior=True).recognize(image)
    assert rec.results and rec.results[0].plate == "7ABC123"
    assert rec.results[0].region == "ca" and rec.results[0].region_confidence >= 50
    assert all(c.matches_template == matches_template(c.plate, "CA") for c in rec.results[0].candidates)


def test_the_best_read_does_not_depend_on_top_n(engine):
    """The second reader re-ranks a fixed pool of candidates: asking for 3 candidates gives the same best
    plate as asking for 10, even when the OCR ranked the right string sixth."""
    from alpr_lib.recognition.pipeline import PlateRecognizer

    scene = render_scene("KXM4821", np.random.default_rng(101), plate_height=44, distractors=False)
    wrong = ["KXN4821", "KXM4827", "KXH4821", "KYM4821", "KXM4321"]  # all fit the same format
    cands = [OcrCandidate(w, -0.50 - 0.02 * i) for i, w in enumerate(wrong)] + [OcrCandidate("KXM4821", -0.62)]
    reading = OcrReading(wrong[0], (0.9,) * 7, tuple(cands))
    few = PlateRecognizer(top_n=3, detector=engine.detector, ocr=engine.ocr)
    for eng, n in ((engine, 6), (few, 3)):
        res = eng._rank(scene.image, _plate(scene, [reading]), None, vote=True)
        assert res.plate == "KXM4821" and len(res.candidates) == n


def _one_hot_steps(path: list[int]) -> np.ndarray:
    logp = np.full((len(path), len(ALPHABET) + 1), -20.0)
    logp[np.arange(len(path)), path] = 0.0
    return logp


def test_the_second_readers_own_reading_joins_the_candidates_fourth_never_first(engine):
    """The CRNN's candidates all misread the plate by clear margins; the second reader reads it right.
    Its reading is added after the CRNN's three best (so it can reach the top 5), not ranked first."""
    scene = render_scene("KXM4821", np.random.default_rng(101), plate_height=44, distractors=False)
    wrong = ["KXN4821", "KXM4827", "KXH4821", "KYM4821", "KXM4321"]  # all fit the same format
    cands = [OcrCandidate(w, -0.5 - 3.0 * i) for i, w in enumerate(wrong)]
    reading = OcrReading(wrong[0], (0.9,) * 7, tuple(cands))
    plate = _plate(scene, [reading])
    assert "KXM4821" not in [c.plate for c in engine._rank(scene.image, plate, None, vote=False).candidates]
    voted = engine._rank(scene.image, plate, None, vote=True)
    assert greedy_decode(plate.logp)[0] == "KXM4821"  # the second reader does read it
    assert voted.plate == wrong[0]
    assert [c.plate for c in voted.candidates][:5] == [*wrong[:3], "KXM4821", wrong[3]]
    assert 0 < voted.candidates[3].confidence <= 100 and voted.candidates[3].matches_template


def test_a_second_reading_without_a_plate_format_is_not_added(engine):
    from alpr_lib.recognition.pipeline import Candidate

    cands = [Candidate("7ABC123", 90.0, True, -0.5), Candidate("7ABC128", 80.0, True, -2.0)]
    state = _one_hot_steps([ALPHABET.index(c) + 1 for c in "CALIFORNIA"])  # too long for any plate format
    assert not matches_template("CALIFORNIA")
    assert engine._with_second_reading(cands, state, None) == cands
    same = _one_hot_steps([ALPHABET.index(c) + 1 for c in "7ABC128"])  # already a candidate
    assert engine._with_second_reading(cands, same, None) == cands
    other = _one_hot_steps([ALPHABET.index(c) + 1 for c in "7ABC723"])
    added = engine._with_second_reading(cands, other, None)
    assert [c.plate for c in added] == ["7ABC123", "7ABC128", "7ABC723"]  # fewer than three: last
    assert added[2].score < added[1].score
