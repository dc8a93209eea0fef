import numpy as np

from alpr_lib.recognition.detector import Proposal, _postprocess, merge_neighbours, order_quad
from alpr_lib.recognition.pipeline import expand_quad


def _iou(quad, other) -> float:
    ax0, ay0 = quad.min(0)
    ax1, ay1 = quad.max(0)
    bx0, by0 = other.min(0)
    bx1, by1 = other.max(0)
    ix = max(0, min(ax1, bx1) - max(ax0, bx0))
    iy = max(0, min(ay1, by1) - max(ay0, by0))
    inter = ix * iy
    return inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter)


def test_order_and_expand_quad():
    q = order_quad(np.float32([[10, 20], [0, 0], [10, 0], [0, 20]]))
    assert q.tolist() == [[0, 0], [10, 0], [10, 20], [0, 20]]
    e = expand_quad(q, 2.0, 1.5)
    assert np.allclose(e, [[-5, -5], [15, -5], [15, 25], [-5, 25]])


def test_merge_neighbours_joins_groups_on_one_line():
    a = Proposal(np.float32([[0, 0], [30, 0], [30, 20], [0, 20]]), 0.9)
    b = Proposal(np.float32([[40, 1], [70, 1], [70, 21], [40, 21]]), 0.8)
    far = Proposal(np.float32([[0, 100], [30, 100], [30, 110], [0, 110]]), 0.8)
    merged = merge_neighbours([a, b, far])
    assert len(merged) == 1 and merged[0].merged
    assert merged[0].width > 65


def test_a_line_joined_to_small_print_above_it_is_still_a_box():
    """The plate's line (0.9) touches a stub of small print above its right end (0.6) once the map is
    dilated; scored over the joined minimum-area rectangle (mostly background) it fell under box_thresh
    and the plate was lost; scored over its own contour it stays a line."""
    pred = np.zeros((1, 1, 100, 200), np.float32)
    pred[0, 0, 50:61, 50:96] = 0.9
    pred[0, 0, 40:50, 95:106] = 0.6
    boxes, scores = _postprocess()(pred, (100, 200))
    assert len(boxes) == 1 and scores[0] > 0.7
    x0, y0 = boxes[0].min(0)
    x1, y1 = boxes[0].max(0)
    assert x0 <= 50 and y0 <= 50 and x1 >= 95 and y1 >= 60


def test_detector_input_is_pp_ocr_normalisation_in_nchw(engine, scenes):
    # the byte-value table gives exactly (pixel / 255 - 0.5) / 0.5 per pixel, channels first, contiguous
    import cv2

    image = scenes[0].image
    x = engine.detector._prepare(image, 960)
    h, w = x.shape[2:]
    assert x.shape[:2] == (1, 3) and h % 32 == 0 and w % 32 == 0 and x.dtype == np.float32
    assert x.flags["C_CONTIGUOUS"]
    half = np.float32(0.5)
    ratio = min(1.0, 960 / max(image.shape[:2]))
    resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR)
    assert np.array_equal(x[0], ((resized.astype(np.float32) / 255.0 - half) / half).transpose(2, 0, 1))


def test_detector_finds_the_plate_in_scenes(engine, scenes):
    for s in scenes:
        props = engine.detector(s.image)
        assert max(_iou(p.quad, s.quad) for p in props) > 0.3


def test_pipeline_reads_synthetic_scenes(engine, scenes):
    hits = 0
    for s in scenes:
        image = s.image.copy()
        rec = engine.recognize(image)
        assert np.array_equal(image, s.image)  # not mutated
        assert rec.img_width == 480 and rec.img_height == 360
        assert rec.results, "a clean synthetic plate must be found"
        best = rec.results[0]
        assert _iou(best.quad, s.quad) > 0.3
        assert best.candidates[0].plate == best.plate
        assert all(0 < c.confidence <= 100 and np.isfinite(c.score) for c in best.candidates)
        assert len(best.char_confidences) == len(best.plate_raw)
        ranked = [p for p, _c, _q in rec.ranked(5)]
        assert len(ranked) == len(set(ranked)) <= 5
        hits += best.plate == s.text
    assert hits >= 3, f"only {hits}/4 synthetic plates read exactly"


def test_blank_image_has_no_plate(engine):
    rec = engine.recognize(np.full((240, 320, 3), 128, np.uint8))
    assert rec.results == ()


class _CountingOCR:
    """The engine's OCR, recording every window it is asked to read (and by which models, how)."""

    def __init__(self, ocr) -> None:
        self.ocr = ocr
        self.members = ocr.members
        self.average, self.decode = ocr.average, ocr.decode
        self.seen: list[tuple] = []

    def read(self, windows, top_n=10, beam=True, ensemble=True):
        self.seen += [(w.tobytes(), "read", beam, ensemble) for w in windows]
        return self.ocr.read(windows, top_n=top_n, beam=beam, ensemble=ensemble)

    def model_log_probs(self, windows, first=0, last=None):
        self.seen += [(w.tobytes(), "models", first, last) for w in windows]
        return self.ocr.model_log_probs(windows, first, last)


class _CountingSecondReader:
    def __init__(self, reader) -> None:
        self.reader, self.calls = reader, 0

    def step_log_probs(self, image, quad):
        self.calls += 1
        return self.reader.step_log_probs(image, quad)


def _counting_engine(engine, **kwargs):
    from alpr_lib.recognition.pipeline import PlateRecognizer

    eng = PlateRecognizer(detector=engine.detector, ocr=_CountingOCR(engine.ocr), **kwargs)
    eng._text_reader = engine.text_reader
    eng._second_reader = _CountingSecondReader(engine.second_reader)
    return eng


def test_a_sure_read_runs_neither_the_members_nor_the_second_reader(engine, scenes, monkeypatch):
    """A clear plate the main CRNN reads surely is not read again by the ensemble members nor re-ranked
    by the second reader; with the thresholds out of reach both run, and the best read is the same."""
    from alpr_lib.recognition import pipeline

    sure = _counting_engine(engine)
    rec = sure.recognize(scenes[0].image)
    assert rec.results[0].plate == scenes[0].text
    assert rec.results[0].confidence >= pipeline._SURE_ALONE_CONFIDENCE
    assert not [s for s in sure.ocr.seen if s[1] == "models" and s[2] == 1], "the members read a sure plate"
    assert sure.second_reader.calls == 0
    monkeypatch.setattr(pipeline, "_SURE_ALONE_CONFIDENCE", 101.0)
    monkeypatch.setattr(pipeline, "_SURE_CONFIDENCE", 101.0)
    unsure = _counting_engine(engine)
    again = unsure.recognize(scenes[0].image)
    assert [s for s in unsure.ocr.seen if s[1] == "models" and s[2] == 1]
    assert unsure.second_reader.calls >= 1
    assert again.results[0].plate == rec.results[0].plate


def test_sure_needs_the_confidence_a_format_and_a_margin():
    from alpr_lib.recognition.pipeline import PlateResult, _Plate

    def plate(confidence, fits, margin):
        quad = np.zeros((4, 2), np.float32)
        result = PlateResult("7ABC123", confidence, fits, "", 0.0, quad, (), (), "7ABC123", 0.0)
        return _Plate(result=result, readings=[], geo=0.0, margin=margin)

    assert plate(97.0, True, 2.0).sure(97.0, 2.0)
    assert not plate(96.9, True, 5.0).sure(97.0, 2.0)
    assert not plate(99.0, False, 5.0).sure(97.0, 2.0)  # a vanity string or a dealer's name: read on
    assert not plate(99.0, True, 1.9).sure(97.0, 2.0)  # a close runner-up: read on
    assert plate(99.0, True, float("inf")).sure()


def test_the_members_read_apart_average_to_the_ensembles_read(engine, scenes):
    """The pipeline runs the main model first and the members later; averaged, that is exactly the
    ensemble's reading of the same windows."""
    from alpr_lib.recognition.ocr import cut_window

    ocr = engine.ocr
    assert ocr.members == 3
    windows = [cut_window(s.image, expand_quad(s.quad, 1.04, 1.15)) for s in scenes]
    main, members = ocr.model_log_probs(windows, 0, 1), ocr.model_log_probs(windows, 1)
    assert main.shape[:2] == (1, 4) and members.shape[:2] == (2, 4)
    split = [ocr.average(np.concatenate([main[:, i], members[:, i]])) for i in range(len(windows))]
    assert np.array_equal(np.stack(split), ocr.log_probs(windows))
    assert np.array_equal(ocr.model_log_probs([], 1), np.zeros((2, 0, 32, 37), np.float32))


def test_the_fallback_pass_reads_only_the_boxes_the_first_pass_did_not(engine, scenes):
    import cv2

    from alpr_lib.recognition.pipeline import PlateRecognizer

    big = cv2.resize(scenes[1].image, (1440, 1080), interpolation=cv2.INTER_LINEAR)  # > 1.25 x 960
    # fallback_below above any confidence: the second detector pass always runs
    always = _counting_engine(engine, fallback_below=101.0)
    counting = always.ocr
    rec = always.recognize(big)
    assert rec.timings_ms["passes"] == 2 and rec.results
    assert len(counting.seen) == len(set(counting.seen)), "a window was read twice"
    # and what it computes is what a recognizer without the memo (a fresh read of every box) gives
    once = PlateRecognizer(detector=engine.detector, ocr=engine.ocr, fallback_below=101.0)
    once._text_reader = engine.text_reader
    props = once._detect(big, None) + once._detect(big, None, max_side=once.fallback_max_side)
    fresh = once._read(big, props)
    assert [p.result.plate for p in fresh] == [r.plate for r in rec.results[: len(fresh)]]
    # (the same up to float rounding: onnxruntime's sums differ in the last bits with the batch size)
    got, want = rec.results[0].candidates, fresh[0].result.candidates
    assert [c.plate for c in got] == [c.plate for c in want]
    assert np.allclose([c.score for c in got], [c.score for c in want], atol=1e-4)


def test_profile_recognition_splits_a_photos_time_by_model(tmp_path, scenes):
    # bench/profile_recognition.py on rendered scenes: every model of the engine is timed, the detector
    # once a photo, and the patched InferenceSession.run is put back afterwards
    import json

    import cv2
    import onnxruntime as ort

    from bench.profile_recognition import main

    run_before = ort.InferenceSession.run
    for i, s in enumerate(scenes):
        cv2.imwrite(str(tmp_path / f"scene{i}.png"), s.image)
    out = tmp_path / "profile.json"
    assert main(["--images", str(tmp_path), "--ops", "--out", str(out)]) == 0
    assert ort.InferenceSession.run is run_before
    report = json.loads(out.read_text())
    assert report["photos"] == len(scenes)
    models = report["models"]
    assert models["PP-OCRv6_det_small.onnx"]["calls"] >= len(scenes) and "plate_crnn.onnx" in models
    assert 0 <= report["outside_models_ms_per_photo"] < report["ms_per_photo"]
    assert sum(m["ms_per_photo"] for m in models.values()) < report["ms_per_photo"]
    assert "Conv" in report["detector_ops_ms_per_photo"]
    assert main(["--images", str(tmp_path / "none")]) == 2
