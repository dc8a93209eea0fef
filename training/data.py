"""Training samples: real us-crops and synthetic plates, degraded to the small size plates have in photos.

Every sample goes through the engine's own window cutter (``alpr_lib.recognition.ocr.cut_window``): a
plate is placed on a random car-body background, scaled so that it is 16-80 px tall (most 25-45, as in
photos), blurred / noised / JPEG-compressed at that size, and a window around its characters, jittered
from tight-on-the-characters to a little more than the whole plate (as the detector boxes vary), is cut
and resized to 128x32.
"""

from __future__ import annotations

import cv2
import numpy as np

from alpr_lib.recognition.ocr import cut_window
from alpr_lib.recognition.render import random_plate_text, render_plate


def _canvas_with_plate(plate: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Plate on a background with margins; returns canvas and the plate's quad in it."""
    h, w = plate.shape[:2]
    mx, my = int(w * 0.35), int(h * 0.6)
    bg_col = rng.integers(0, 256, 3).astype(np.float32)
    canvas = np.empty((h + 2 * my, w + 2 * mx, 3), np.float32)
    canvas[:] = bg_col
    grad = np.linspace(rng.uniform(-40, 0), rng.uniform(0, 40), canvas.shape[0], dtype=np.float32)[:, None, None]
    canvas += grad + rng.normal(0, rng.uniform(1, 8), canvas.shape).astype(np.float32)
    if rng.random() < 0.5:  # a plate frame / dealer text around the plate
        fc = tuple(float(v) for v in rng.integers(0, 256, 3))
        t = int(rng.integers(2, max(3, h // 6)))
        cv2.rectangle(canvas, (mx - t, my - t), (mx + w + t, my + h + t), fc, -1)
        if rng.random() < 0.5:
            words = ["ACME MOTORS", "RENTAL", "DEALER", "AUTO GROUP", "555-0199", "TOYOTA", "LOVE MY CAR"]
            cv2.putText(
                canvas,
                str(rng.choice(words)),
                (mx, my + h + int(t * 0.9)),
                cv2.FONT_HERSHEY_SIMPLEX,
                h / 140,
                (255 - np.array(fc)).tolist(),
                1 + h // 80,
                cv2.LINE_AA,
            )
    canvas[my : my + h, mx : mx + w] = plate
    quad = np.float32([[mx, my], [mx + w, my], [mx + w, my + h], [mx, my + h]])
    return np.clip(canvas, 0, 255).astype(np.uint8), quad


def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = img.astype(np.float32)
    if rng.random() < 0.6:  # lighting: gain, gamma, a gradient shadow
        out = out * rng.uniform(0.5, 1.3) + rng.uniform(-40, 40)
        if rng.random() < 0.4:
            ramp = np.linspace(rng.uniform(0.3, 1.0), 1.0, out.shape[1], dtype=np.float32)
            out = out * (ramp[None, :, None] if rng.random() < 0.5 else ramp[None, ::-1, None])
    if rng.random() < 0.3:
        out = out + rng.normal(0, rng.uniform(2, 12), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        k = float(rng.uniform(0.3, 1.2))
        out = cv2.GaussianBlur(out, (0, 0), k)
    if rng.random() < 0.15:  # motion blur
        n = int(rng.integers(2, 5))
        kern = np.zeros((n, n), np.float32)
        kern[n // 2, :] = 1.0 / n
        out = cv2.filter2D(out, -1, kern)
    if rng.random() < 0.5:
        q = int(rng.integers(25, 90))
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    if rng.random() < 0.1:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return out


def _plate_height(rng: np.random.Generator) -> float:
    if rng.random() < 0.75:
        return float(rng.uniform(22, 48))
    return float(np.exp(rng.uniform(np.log(16), np.log(90))))


def window_quad(text_quad: np.ndarray, plate_quad: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A detector-like box: somewhere between the character box and a bit more than the whole plate."""
    t = rng.uniform(0.0, 1.15)
    q = (1 - t) * text_quad + t * plate_quad
    c = q.mean(0)
    sx, sy = rng.uniform(0.99, 1.12), rng.uniform(0.95, 1.25)
    q = (q - c) * [sx, sy] + c
    if rng.random() < 0.08:  # a tight box that cuts into the first or last character (a dropped-edge misread)
        width = q[1] - q[0]
        q = q + (1 if rng.random() < 0.5 else -1) * rng.uniform(0.02, 0.05) * width
    h = np.linalg.norm(q[3] - q[0])
    q = q + rng.normal(0, 0.03 * h, (4, 2)) + rng.normal(0, 0.025 * h, (1, 2))
    ang = np.deg2rad(rng.normal(0, 3))
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]], np.float32)
    return ((q - c) @ rot.T + c).astype(np.float32)


def sample(rng: np.random.Generator, plate: np.ndarray, text_box: np.ndarray) -> np.ndarray:
    """One 32x128 training window from a plate image and its characters' quad (plate coordinates)."""
    if rng.random() < 0.5:  # perspective on the plate itself
        h, w = plate.shape[:2]
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = src + rng.uniform(-0.07, 0.07, (4, 2)).astype(np.float32) * [w, h]
        dst -= dst.min(0)
        m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
        size = (int(dst[:, 0].max()) + 1, int(dst[:, 1].max()) + 1)
        plate = cv2.warpPerspective(plate, m, size, borderMode=cv2.BORDER_REPLICATE)
        text_box = cv2.perspectiveTransform(text_box[None], m)[0]
    if rng.random() < 0.15:  # partial occlusion (a tow hitch, a bumper sticker, a bike rack bar)
        h, w = plate.shape[:2]
        x = int(rng.integers(0, w))
        occ = plate.copy()
        cv2.rectangle(
            occ,
            (x, 0 if rng.random() < 0.5 else h // 2),
            (x + int(w * rng.uniform(0.02, 0.08)), h),
            tuple(int(v) for v in rng.integers(0, 256, 3)),
            -1,
        )
        plate = occ
    canvas, pquad = _canvas_with_plate(plate, rng)
    offset = pquad[0]
    tquad = text_box + offset
    scale = _plate_height(rng) / plate.shape[0]
    small = cv2.resize(
        canvas,
        (max(8, int(canvas.shape[1] * scale)), max(8, int(canvas.shape[0] * scale))),
        interpolation=cv2.INTER_AREA,
    )
    sx, sy = small.shape[1] / canvas.shape[1], small.shape[0] / canvas.shape[0]
    small = _degrade(small, rng)
    quad = window_quad(tquad * [sx, sy], pquad * [sx, sy], rng)
    return cut_window(small, quad)


def synthetic(rng: np.random.Generator) -> tuple[np.ndarray, str]:
    text, region = random_plate_text(rng)
    p = render_plate(text, rng, region, height=int(rng.integers(90, 130)))
    x0, y0, x1, y1 = p.text_box
    tquad = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    return sample(rng, p.image, tquad), p.text


def real(rng: np.random.Generator, item: dict) -> tuple[np.ndarray, str]:
    img = item["image"]
    h, w = img.shape[:2]
    # the registration characters sit in the middle of a US plate; jitter covers the rest
    tquad = np.float32([[0.03 * w, 0.24 * h], [0.97 * w, 0.24 * h], [0.97 * w, 0.8 * h], [0.03 * w, 0.8 * h]])
    if rng.random() < 0.5:
        tquad = item["quad"].astype(np.float32)
    return sample(rng, img, tquad), item["plate"]
