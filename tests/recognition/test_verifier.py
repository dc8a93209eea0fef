"""Plate / not-plate on the proposals (issue 17, part 2): the pinned model, plates scored above painted
non-plate lines in scenes it never saw, and the engine reading the plate next to such lines."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from alpr_lib.errors import RecognitionError
from alpr_lib.recognition import render_scene
from alpr_lib.recognition.detector import TextLineDetector
from alpr_lib.recognition.render import paint_distractors, random_plate_text
from alpr_lib.recognition.verifier import PlateVerifier, default_verifier_path


@pytest.fixture(scope="module")
def verifier() -> PlateVerifier:
    return PlateVerifier()


def test_the_model_is_pinned(tmp_path):
    bad = tmp_path / "plate_verifier.npz"
    shutil.copy(default_verifier_path(), bad)
    with open(bad, "ab") as f:
        f.write(b"\0")
    pin = default_verifier_path().with_name("plate_verifier.npz.sha256").read_text().split()[0]
    with pytest.raises(RecognitionError, match="checksum"):
        PlateVerifier(bad, expected_sha256=pin)
    with pytest.raises(RecognitionError, match="not found"):
        PlateVerifier(tmp_path / "nope.npz")


def test_plates_outscore_painted_lines(verifier):
    """Scenes from seeds the training never used (it uses 1 and 2): every detected line labelled by where
    it lies; plates must outscore the painted fleet/phone/DOT numbers, stickers and names."""
    det = TextLineDetector()
    rng = np.random.default_rng(4242)
    pos, neg = [], []
    for _ in range(12):
        s = render_scene(None, rng, size=(640, 480), plate_height=int(rng.integers(26, 48)))
        image, lines = paint_distractors(s.image, rng, s.quad, count=3)
        props = det(image)
        odds = verifier.log_odds(image, props)
        for p, o in zip(props, odds, strict=True):
            centre = p.quad.mean(0)
            on_plate = (s.quad.min(0) <= centre).all() and (centre <= s.quad.max(0)).all()
            if on_plate and p.width > 0.45 * np.ptp(s.quad[:, 0]):
                pos.append(o)
            elif any((q.min(0) <= centre).all() and (centre <= q.max(0)).all() for _k, q in lines):
                neg.append(o)
    assert len(pos) >= 8 and len(neg) >= 8, (len(pos), len(neg))
    pairs = np.subtract.outer(np.asarray(pos), np.asarray(neg))
    assert (pairs > 0).mean() >= 0.9, (pairs > 0).mean()


def test_the_engine_reads_the_plate_beside_painted_numbers(engine):
    """A phone number and a fleet number painted on the car read as cleanly as the plate; the engine
    still returns the plate. (19 of these 20 when measured; 17 with the verifier off.)"""
    rng = np.random.default_rng(77)
    ok = 0
    for _ in range(20):
        text, _region = random_plate_text(rng)
        s = render_scene(text, rng, size=(640, 480), plate_height=40, distractors=False)
        image, _lines = paint_distractors(s.image, rng, s.quad, count=3)
        rec = engine.recognize(image)
        ok += bool(rec.results) and rec.results[0].plate == text
    assert ok >= 18, ok
