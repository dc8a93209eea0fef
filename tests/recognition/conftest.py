"""Shared fixtures: one engine per test session and scenes made by the project's own renderer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from alpr_lib.recognition import Alpr, PlateRecognizer, render_scene


@pytest.fixture(scope="session")
def engine() -> PlateRecognizer:
    return PlateRecognizer()


@pytest.fixture(scope="session")
def alpr():
    with Alpr("us", "/etc/openalpr/does-not-exist.conf", "/nonexistent/runtime_data") as a:
        yield a


@pytest.fixture(scope="session")
def scenes():
    """Four car-like scenes with known plates (deterministic)."""
    out = []
    for seed, text in enumerate(["7ABC123", "KXM4821", "5JRT902", "HPL3307"]):
        out.append(render_scene(text, np.random.default_rng(100 + seed), plate_height=44, distractors=False))
    return out


@pytest.fixture()
def scene_jpeg(scenes) -> bytes:
    ok, enc = cv2.imencode(".jpg", scenes[0].image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return enc.tobytes()
