"""Image loading and validation: files, encoded bytes and arrays become a private BGR uint8 copy.

Corrupt, truncated, empty, huge or non-image input raises :class:`RecognitionError` with a message that
names the problem. The caller's array is never modified (the engine always works on its own copy).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import RecognitionError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE",
    "decode_image",
    "load_image",
    "read_image_file",
    "validate_array",
]

#: Files larger than this are refused before decoding (a camera frame is a few MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Images with more pixels than this are refused (decompression bombs); 50 MP covers any ALPR camera.
MAX_PIXELS = 50_000_000
#: Smaller images cannot hold a readable plate.
MIN_SIDE = 16


def _check_size(width: int, height: int, what: str) -> None:
    if width * height > MAX_PIXELS:
        raise RecognitionError(
            f"{what} is too large: {width}x{height} = {width * height / 1e6:.0f} MP exceeds the "
            f"{MAX_PIXELS / 1e6:.0f} MP limit;"
            " downscale it first"
        )
    if min(width, height) < MIN_SIDE:
        raise RecognitionError(f"{what} is too small to hold a plate: {width}x{height} (minimum side {MIN_SIDE} px)")


def decode_image(data: bytes | bytearray | memoryview, what: str = "image") -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, BMP, TIFF, WebP, ...) to BGR uint8, EXIF-orientation applied."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise RecognitionError(f"{what}: expected encoded image bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise RecognitionError(f"{what} is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise RecognitionError(f"{what} is {len(data) / 1e6:.0f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            _check_size(img.width, img.height, what)
            img.load()  # raises on truncated or corrupt data
            img = ImageOps.exif_transpose(img) or img
            rgb = img.convert("RGB")
    except RecognitionError:
        raise
    except Image.UnidentifiedImageError as exc:
        raise RecognitionError(
            f"{what} is not an image (unrecognised format; expected JPEG, PNG, BMP, TIFF, ...)"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RecognitionError(f"{what} is too large to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise RecognitionError(f"{what} is corrupt or truncated: {exc}") from exc
    arr = np.asarray(rgb)[:, :, ::-1]
    return np.ascontiguousarray(arr)


def read_image_file(path: str | Path) -> bytes:
    p = Path(path)
    if not p.exists():
        raise RecognitionError(f"image file not found: {p}")
    if not p.is_file():
        raise RecognitionError(f"not a file: {p}")
    size = p.stat().st_size
    if size == 0:
        raise RecognitionError(f"{p} is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise RecognitionError(f"{p} is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    return p.read_bytes()


def validate_array(image: np.ndarray, what: str = "image array") -> np.ndarray:
    """A private BGR uint8 copy of an HxW, HxWx1, HxWx3 (BGR) or HxWx4 (BGRA) array."""
    import cv2

    if not isinstance(image, np.ndarray):
        raise RecognitionError(f"{what}: expected a numpy array, got {type(image).__name__}")
    if image.size == 0:
        raise RecognitionError(f"{what} is empty (shape {image.shape})")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise RecognitionError(f"{what} must be HxW (gray), HxWx3 (BGR) or HxWx4 (BGRA); got shape {image.shape}")
    _check_size(image.shape[1], image.shape[0], what)
    if image.dtype != np.uint8:
        if image.dtype == np.bool_ or not np.issubdtype(image.dtype, np.number):
            raise RecognitionError(f"{what} has dtype {image.dtype}; expected uint8 pixels")
        if not np.isfinite(image).all():
            raise RecognitionError(f"{what} contains NaN or infinite values")
        lo, hi = float(image.min()), float(image.max())
        scale = 255.0 if np.issubdtype(image.dtype, np.floating) and hi <= 1.0 and lo >= 0.0 else 1.0
        image = np.clip(image.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image).copy()


def load_image(source: str | Path | bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """A BGR uint8 copy of a file path, encoded bytes or an array."""
    if isinstance(source, np.ndarray):
        return validate_array(source)
    if isinstance(source, str | Path):
        return decode_image(read_image_file(source), what=str(source))
    return decode_image(source)
