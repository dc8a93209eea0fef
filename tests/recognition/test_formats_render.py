import numpy as np

from alpr_lib.recognition.formats import ALPHABET, matches, plate_formats, regions, shape_of, state_names
from alpr_lib.recognition.render import random_plate_text, render_plate, render_scene


def test_formats_are_data_for_every_state():
    fmts = plate_formats()
    assert len(regions()) >= 50  # 50 states + DC
    assert set(regions()) <= set(state_names())
    assert all(set(f.pattern) <= set("@#?") and f.weight > 0 for f in fmts)
    assert any(f.region == "CA" and f.pattern == "#@@@###" for f in fmts)


def test_shape_and_match():
    assert shape_of("7ABC123") == "#@@@###"
    assert matches("7ABC123", "#@@@###")
    assert not matches("7ABC12", "#@@@###")
    assert not matches("7ABCI23", "#@@@###")


def test_random_plate_text_is_deterministic_and_valid():
    a = [random_plate_text(np.random.default_rng(5)) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    rng = np.random.default_rng(0)
    for _ in range(50):
        text, region = random_plate_text(rng)
        assert 2 <= len(text) <= 8 and set(text) <= set(ALPHABET) and region in state_names()


def test_render_plate_text_box_inside():
    p = render_plate("ABC 123", np.random.default_rng(1), "NY", height=100)
    assert p.text == "ABC123" and p.region == "NY"
    h, w = p.image.shape[:2]
    x0, y0, x1, y1 = p.text_box
    assert h == 100 and 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert p.image.dtype == np.uint8 and p.image.shape[2] == 3


def test_render_scene_quad_inside_image():
    s = render_scene("XYZ789", np.random.default_rng(2), size=(320, 240), plate_height=36)
    assert s.image.shape == (240, 320, 3) and s.text == "XYZ789"
    assert s.quad.shape == (4, 2)
    assert (s.quad[:, 0] >= 0).all() and (s.quad[:, 0] < 320).all()
    height = np.linalg.norm(s.quad[3] - s.quad[0])
    assert 28 < height < 46
