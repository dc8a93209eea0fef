import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from alpr_lib.errors import RecognitionError
from alpr_lib.recognition.image import decode_image, load_image, validate_array


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (10, 20, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _png_claiming(w: int, h: int) -> bytes:
    """A small PNG whose header claims w x h pixels (a decompression bomb)."""
    data = bytearray(_png(20, 20))
    ihdr = struct.pack(">II", w, h) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def test_decodes_png_to_bgr():
    img = decode_image(_png(40, 30))
    assert img.shape == (30, 40, 3) and img.dtype == np.uint8
    assert tuple(img[0, 0]) == (30, 20, 10)  # BGR


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is not an image at all" * 10, "not an image"),
        (_png_claiming(100_000, 100_000), "too large"),
        (_png(8, 8), "too small"),
    ],
)
def test_bad_bytes_raise_clear_errors(data, message):
    with pytest.raises(RecognitionError, match=message):
        decode_image(data)


def test_truncated_jpeg(scene_jpeg):
    with pytest.raises(RecognitionError, match="corrupt or truncated"):
        decode_image(scene_jpeg[: len(scene_jpeg) // 2])


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(RecognitionError, match="not found"):
        load_image(tmp_path / "nope.jpg")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(RecognitionError, match="empty"):
        load_image(empty)


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((40, 40, 2), np.uint8),
        np.zeros((5,), np.uint8),
        np.array([["a"] * 40] * 40),
        np.full((40, 40, 3), np.nan),
    ],
)
def test_bad_arrays(arr):
    with pytest.raises(RecognitionError):
        validate_array(arr)


def test_arrays_are_copied_and_converted():
    gray = np.full((40, 50), 7, np.uint8)
    out = validate_array(gray)
    assert out.shape == (40, 50, 3)
    bgr = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    out = validate_array(bgr)
    assert out is not bgr and np.array_equal(out, bgr)
    out[:] = 0
    assert bgr.any()
    f = validate_array(np.full((40, 50, 3), 0.5, np.float32))
    assert f.dtype == np.uint8 and int(f[0, 0, 0]) == 127
