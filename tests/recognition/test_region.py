"""The plate's state from the text on the crop (issue 17, part 3): lexicon matching, the pinned model,
a handful of real crops, and the region in Alpr results and stored reads."""

from __future__ import annotations

import csv
import re
import shutil
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from alpr_lib.errors import RecognitionError
from alpr_lib.recognition import render_plate, render_scene
from alpr_lib.recognition.formats import state_names
from alpr_lib.recognition.pipeline import PlateRecognizer
from alpr_lib.recognition.region import (
    REC_MODEL_SHA256,
    RegionClassifier,
    RegionGuess,
    TextLineReader,
    combine_with_format,
    default_rec_model,
    guess_from_lines,
    lexicon,
    plate_crop,
)

CROPS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "us-crops"


@pytest.fixture(scope="module")
def classifier() -> RegionClassifier:
    return RegionClassifier()


def test_lexicon_names_every_state():
    regions = {e.region for e in lexicon()}
    assert regions == set(state_names())  # 50 states + DC
    assert {e.region for e in lexicon() if e.kind == "name"} == regions
    assert all(re.fullmatch("[A-Z0-9]+", e.key) for e in lexicon())


@pytest.mark.parametrize(
    ("lines", "region"),
    [
        (["NewJersey", "Garden State"], "nj"),
        (["LIVE FREE OR DIE", "7. HAMPSHIRE"], "nh"),
        (["SEenicIDAHO", "FAMOLS POTATOES"], "id"),
        (["NORTH CAROUNA"], "nc"),
        (["Mussachuseus"], "ma"),
        (["WEST VIRGINIA"], "wv"),  # not VIRGINIA
        (["VIRGINIA"], "va"),
        (["ARKANSAS"], "ar"),  # not KANSAS
        (["KANSAS"], "ks"),
        (["NOVMICHIGANNOV"], "mi"),  # month stickers around the name
        (["WASHINGTON, DC", "TAXATION WITHOUT REPRESENTATION"], "dc"),  # not WASHINGTON
        (["dmv.ca.gov"], "ca"),
    ],
)
def test_guess_from_lines(lines, region):
    g = guess_from_lines(lines)
    assert g.region == region, g
    assert 0 < g.confidence <= 100


def test_dealer_frame_text_is_not_a_state():
    assert guess_from_lines(["THE HYUNDAI STORE"]).region == ""  # not THE NATURAL STATE (AR)
    assert guess_from_lines(["FORD MOTORS"]).region == ""
    assert guess_from_lines(["CITY AUTO SALES TEXAS"]).region == "tx"  # an exact state name still counts
    assert guess_from_lines(["TOYOTA OF HOLLYWOOD", "California"]).region == "ca"


@pytest.mark.parametrize("lines", [[], [""], ["XQZW"], ["02-09", "MAR"], ["STATE"]])
def test_no_region_without_evidence(lines):
    g = guess_from_lines(lines)
    assert g.region == "" and g.confidence == 0.0


def test_weak_evidence_stays_below_a_high_threshold():
    g = guess_from_lines(["OHI0"], threshold=99.0)
    assert g.region == "" and g.best == "OH" and g.best_confidence < 99


def test_combine_with_format():
    strong = RegionGuess("nj", 95.0, "NJ", 95.0, "NEW JERSEY", ("NEW JERSEY",))
    assert combine_with_format(strong, "ca", 40.0, threshold=50) == ("nj", 95.0)  # the text decides
    weak = RegionGuess("", 0.0, "CA", 30.0, "CALIFORNIA", ("CALFRN",))
    assert combine_with_format(weak, "ca", 45.0, threshold=50) == ("ca", 45.0)  # both agree
    assert combine_with_format(weak, "ny", 45.0, threshold=50) == ("ny", 45.0)  # the format prior stands
    nothing = RegionGuess("", 0.0, "", 0.0, "", ())
    assert combine_with_format(nothing, "", 0.0) == ("", 0.0)


def test_rec_model_is_pinned(tmp_path):
    model = default_rec_model()
    reader = TextLineReader()
    assert reader.sha256 == REC_MODEL_SHA256
    with pytest.raises(RecognitionError, match="checksum"):
        TextLineReader(model, expected_sha256="0" * 64)
    bad = tmp_path / "PP-OCRv6_rec_small.onnx"
    shutil.copyfile(model, bad)
    with open(bad, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 16)
    with pytest.raises(RecognitionError, match="checksum"):
        TextLineReader(bad)
    with pytest.raises(RecognitionError, match="missing"):
        TextLineReader(tmp_path / "absent.onnx")


def test_rendered_plates(classifier):
    """The project's own renderer prints the state name above the characters."""
    rng = np.random.default_rng(7)
    right = 0
    for region in ("TX", "NY", "OH", "FL"):
        p = render_plate("ABC1234", rng, region=region, height=160)
        g = classifier.classify_crop(cv2.resize(p.image, (320, 160)), "ABC1234")
        right += g.region == region.lower()
        assert g.region in ("", region.lower())
    assert right >= 3


def test_plate_crop_framing():
    img = np.zeros((400, 600, 3), np.uint8)
    cv2.rectangle(img, (200, 150), (400, 250), (255, 255, 255), -1)
    quad = np.float32([[200, 160], [400, 160], [400, 240], [200, 240]])
    crop = plate_crop(img, quad)
    assert crop.shape == (160, 320, 3)
    assert crop[80, 160].min() == 255 and crop[80, 5].max() == 0  # centred, 1.1x the plate's width


@pytest.mark.skipif(not (CROPS / "groundtruth.csv").is_file(), reason="shared us-crops not present")
def test_a_handful_of_real_crops(classifier):
    """Eight crops of the held-back half (never used to choose the threshold), both modes."""
    with open(CROPS / "groundtruth.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if zlib.crc32(r["image"].encode()) % 2 == 1]
    rows = rows[:: len(rows) // 8][:8]
    for mode in ("strips", "lines"):
        right = answered = 0
        for r in rows:
            g = classifier.classify_crop(cv2.imread(str(CROPS / r["image"])), r["plate"], mode=mode)
            answered += bool(g.region)
            right += g.region == r["region"]
            assert r["plate"] not in g.lines  # the plate number line is excluded
        assert answered >= 6 and right >= answered - 1, (mode, right, answered)


def test_pipeline_and_alpr_report_the_region(alpr):
    rng = np.random.default_rng(11)
    scene = render_scene("7ABC123", rng, plate_height=70, distractors=False)
    engine = PlateRecognizer(detect_region=True)
    rec = engine.recognize(scene.image)
    assert rec.results and "region" in rec.timings_ms
    r = rec.results[0]
    assert r.region == r.region.lower() and len(r.region) in (0, 2)
    assert 0 <= r.region_confidence <= 100
    alpr.set_detect_region(True)
    try:
        out = alpr.recognize_ndarray(scene.image)
        for res in out["results"]:
            assert res["region"] == res["region"].lower() and isinstance(res["region_confidence"], int)
    finally:
        alpr.set_detect_region(False)
    out = alpr.recognize_ndarray(scene.image)
    assert all(res["region"] == "" for res in out["results"])  # off by default, as in OpenALPR
    # a default region still wins and skips the classifier
    engine.default_region = "CA"
    assert all(res.region == "ca" for res in engine.recognize(scene.image).results)
