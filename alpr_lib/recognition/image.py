"""Image loading and validation: files, encoded bytes and arrays become a private BGR uint8 copy.

Corrupt, truncated, empty, huge or non-image input raises :class:`RecognitionError` with a message that
names the problem. The caller's array is never modified (the engine always works on its own copy).

Only regular files are read (a symbolic link to one is fine): a FIFO, socket, device or directory is
refused after an ``os.stat``, before anything opens it, because opening a FIFO blocks forever and a
device can be read without end. Files are opened non-blocking and checked again with ``fstat``, so a
path swapped for a FIFO between the two checks is refused too.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps

from ..errors import RecognitionError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE",
    "check_regular_file",
    "decode_image",
    "file_kind",
    "load_image",
    "open_regular_file",
    "read_image_file",
    "read_regular_file",
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


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def file_kind(mode: int) -> str:
    """What an ``st_mode`` is, in words ("a regular file", "a FIFO", ...), for error messages."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def check_regular_file(path: str | Path, what: str = "image file", error: type[Exception] = RecognitionError
                       ) -> os.stat_result:
    """``os.stat`` of ``path`` (links followed) when it is a regular file; else ``error`` saying what it is.

    Never opens the path, so a FIFO, socket or device cannot block or flood the caller.
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        if os.path.islink(p):
            raise error(f"{what} {p} is a broken symbolic link (its target does not exist)") from None
        raise error(f"{what} not found: {p}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{what} {p}: not a regular file ({file_kind(st.st_mode)}); only regular files are read")
    return st


@contextlib.contextmanager
def open_regular_file(path: str | Path, what: str = "image file", error: type[Exception] = RecognitionError
                      ) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """Open a regular file for binary reading without ever blocking on a FIFO; yields (file, fstat)."""
    p = Path(path)
    check_regular_file(p, what, error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise error(f"cannot open {what} {p}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):  # swapped after the stat above
            raise error(f"{what} {p}: not a regular file ({file_kind(st.st_mode)}); only regular files are read")
        yield f, st


def read_regular_file(path: str | Path, limit: int, what: str = "image file",
                      error: type[Exception] = RecognitionError) -> bytes:
    """The bytes of a regular, non-empty file of at most ``limit`` bytes (checked before and while reading)."""
    p = Path(path)
    with open_regular_file(p, what, error) as (f, st):
        if st.st_size > limit:
            raise error(f"{what} {p} is {st.st_size / 1e6:.0f} MB, over the {limit / 1e6:.0f} MB limit")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if not data:
        raise error(f"{what} {p} is empty (0 bytes)")
    if len(data) > limit:  # grew while being read
        raise error(f"{what} {p} is over the {limit / 1e6:.0f} MB limit")
    return data


def read_image_file(path: str | Path) -> bytes:
    """The bytes of an image file: a regular file of at most :data:`MAX_FILE_BYTES` (never a FIFO or device)."""
    return read_regular_file(path, MAX_FILE_BYTES, "image file")


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
