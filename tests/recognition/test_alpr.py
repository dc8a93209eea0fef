import json

import numpy as np
import pytest

from alpr_lib.errors import RecognitionError, ValidationError
from alpr_lib.recognition import Alpr, openalpr_available

RESULT_KEYS = {
    "version",
    "data_type",
    "epoch_time",
    "img_width",
    "img_height",
    "processing_time_ms",
    "regions_of_interest",
    "results",
}
PLATE_KEYS = {
    "plate",
    "confidence",
    "matches_template",
    "plate_index",
    "region",
    "region_confidence",
    "processing_time_ms",
    "requested_topn",
    "coordinates",
    "candidates",
}


def _check_structure(res: dict, width: int, height: int, top_n: int) -> None:
    assert set(res) >= RESULT_KEYS
    assert res["data_type"] == "alpr_results"
    assert (res["img_width"], res["img_height"]) == (width, height)
    assert isinstance(res["epoch_time"], int) and res["processing_time_ms"] > 0
    json.dumps(res)  # plain JSON types only
    for i, plate in enumerate(res["results"]):
        assert set(plate) >= PLATE_KEYS
        assert plate["plate_index"] == i and plate["requested_topn"] == top_n
        assert 0 <= plate["confidence"] <= 100 and plate["matches_template"] in (0, 1)
        assert len(plate["coordinates"]) == 4 and all(set(p) == {"x", "y"} for p in plate["coordinates"])
        assert 1 <= len(plate["candidates"]) <= top_n
        assert plate["candidates"][0]["plate"] == plate["plate"]
        for c in plate["candidates"]:
            assert set(c) == {"plate", "confidence", "matches_template"}


def test_constructor_accepts_missing_config_and_reports_version(alpr):
    assert alpr.is_loaded()
    v = alpr.get_version()
    assert "neither config_file nor runtime_dir" in v and "sha256" in v
    assert openalpr_available() is False  # libopenalpr is not installable here


def test_recognize_ndarray_structure_and_no_mutation(alpr, scenes):
    img = scenes[0].image
    before = img.copy()
    alpr.set_top_n(3)
    res = alpr.recognize_ndarray(img)
    assert np.array_equal(img, before)
    _check_structure(res, img.shape[1], img.shape[0], 3)
    assert res["results"], "the plate of a clean synthetic scene must be found"
    alpr.set_top_n(10)


def test_recognize_array_and_file(alpr, scene_jpeg, tmp_path):
    res = alpr.recognize_array(scene_jpeg)
    _check_structure(res, 480, 360, 10)
    path = tmp_path / "car.jpg"
    path.write_bytes(scene_jpeg)
    res2 = alpr.recognize_file(str(path))
    assert [r["plate"] for r in res2["results"]] == [r["plate"] for r in res["results"]]


def test_region_settings(alpr, scenes):
    alpr.set_default_region("ca")
    res = alpr.recognize_ndarray(scenes[0].image)
    assert all(r["region"] == "ca" for r in res["results"])
    alpr.set_default_region("")
    alpr.set_detect_region(True)
    res = alpr.recognize_ndarray(scenes[0].image)
    assert all(isinstance(r["region"], str) for r in res["results"])
    alpr.set_detect_region(False)
    res = alpr.recognize_ndarray(scenes[0].image)
    assert all(r["region"] == "" and r["region_confidence"] == 0 for r in res["results"])


def test_bad_inputs(alpr, tmp_path):
    with pytest.raises(RecognitionError, match="not an image"):
        alpr.recognize_array(b"GIF89? nope" * 20)
    with pytest.raises(RecognitionError, match="empty"):
        alpr.recognize_array(b"")
    with pytest.raises(RecognitionError, match="empty"):
        alpr.recognize_ndarray(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(RecognitionError, match="not found"):
        alpr.recognize_file(tmp_path / "missing.jpg")
    with pytest.raises(ValidationError):
        alpr.set_top_n(0)
    with pytest.raises(ValidationError):
        alpr.set_country("eu")


def test_unload_and_context_manager(scenes):
    with Alpr("us", "x", "y") as a:
        assert a.is_loaded()
    assert not a.is_loaded()
    with pytest.raises(RecognitionError, match="unloaded"):
        a.recognize_ndarray(scenes[0].image)


def test_unknown_country_and_backend():
    with pytest.raises(ValidationError, match="not supported"):
        Alpr("br", "", "")
    with pytest.raises(RecognitionError, match="not installed"):
        Alpr("us", "", "", backend="openalpr")


def test_import_is_light_and_runtime_never_imports_torch():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, alpr_lib.recognition as r\n"
        "heavy = [m for m in ('cv2', 'onnxruntime', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "a = r.Alpr('us', '', '')\n"
        "a.recognize_ndarray(np.zeros((64, 64, 3), np.uint8))\n"
        "assert 'torch' not in sys.modules\n"
        "assert sorted(r.__all__) == r.__all__ and all(hasattr(r, n) for n in r.__all__)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
