"""Synthetic US licence plates and car-like scenes.

Used to train the plate recognizer (``training/``), to make test fixtures at test time and to render the
demo images in ``data_samples/``. Pure numpy / OpenCV / Pillow; deterministic for a given ``rng``.
Fonts: the system's TrueType fonts when present (DejaVu, Liberation, ...), else OpenCV's Hershey fonts.
"""

from __future__ import annotations

import functools
import glob
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .formats import ALPHABET, plate_formats, state_names

__all__ = [
    "RenderedPlate",
    "Scene",
    "distractor_text",
    "paint_distractors",
    "random_plate_text",
    "render_plate",
    "render_scene",
]

_FONT_GLOBS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans*Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed*.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono*.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif*Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation*/*.ttf",
    "/usr/share/fonts/truetype/freefont/*.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans*-Bold.ttf",
)
_HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX)
_BOTTOM_TEXT = ("ACME MOTORS", "CITY AUTO SALES", "RENT-A-CAR", "HONDA OF DOWNTOWN", "555-0199", "DEALER")


@functools.cache
def _font_files() -> tuple[str, ...]:
    files: list[str] = []
    for pattern in _FONT_GLOBS:
        files.extend(sorted(glob.glob(pattern)))
    return tuple(dict.fromkeys(files))


@functools.cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


@dataclass(frozen=True)
class RenderedPlate:
    image: np.ndarray  # BGR uint8, the whole plate
    text: str
    region: str
    text_box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the registration characters


@dataclass(frozen=True)
class Scene:
    image: np.ndarray  # BGR uint8
    text: str
    region: str
    quad: np.ndarray  # (4, 2) float32 plate corners, clockwise from top-left


def random_plate_text(rng: np.random.Generator, region: str | None = None) -> tuple[str, str]:
    """A plausible registration for ``region`` (or a random one); 15% are random vanity strings."""
    formats = plate_formats()
    if region is not None:
        formats = tuple(f for f in formats if f.region == region) or plate_formats()
    weights = np.array([np.sqrt(f.weight) for f in formats])
    fmt = formats[int(rng.choice(len(formats), p=weights / weights.sum()))]
    if rng.random() < 0.15:
        n = int(rng.integers(2, 9))
        return "".join(rng.choice(list(ALPHABET), n)), fmt.region
    chars = []
    for p in fmt.pattern:
        pool = "ABCDEFGHIJKLMNPQRSTUVWXYZ" if p == "@" else "0123456789" if p == "#" else ALPHABET
        if p == "@" and rng.random() < 0.03:
            pool = "O"
        chars.append(str(rng.choice(list(pool))))
    return "".join(chars), fmt.region


def _rand_color(rng: np.random.Generator, lo: int, hi: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


def _dark_ink(rng: np.random.Generator) -> tuple[int, int, int]:
    choices = [(20, 20, 20), (110, 40, 20), (30, 30, 140), (40, 90, 30), (90, 40, 40), (60, 60, 60)]
    base = np.array(choices[int(rng.integers(len(choices)))]) + rng.integers(-15, 16, 3)
    return tuple(int(v) for v in np.clip(base, 0, 255))


def _glyph(ch: str, height: int, rng: np.random.Generator, font: str | None, bold: int) -> np.ndarray:
    """A tight grayscale mask (ink=255) of one character, ``height`` pixels tall."""
    big = 96
    if font is not None:
        img = Image.new("L", (big * 2, big * 2), 0)
        ImageDraw.Draw(img).text((big // 3, big // 4), ch, fill=255, font=_font(font, big))
        mask = np.asarray(img)
    else:
        mask = np.zeros((big * 2, big * 2), np.uint8)
        face = _HERSHEY[int(rng.integers(len(_HERSHEY)))]
        cv2.putText(mask, ch, (big // 4, int(big * 1.5)), face, 3.0, 255, 6 + bold, cv2.LINE_AA)
    if bold > 0:
        mask = cv2.dilate(mask, np.ones((bold * 2 + 1, bold * 2 + 1), np.uint8))
    ys, xs = np.nonzero(mask > 40)
    if len(xs) == 0:
        return np.zeros((height, max(1, height // 2)), np.uint8)
    mask = mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = height / mask.shape[0]
    width = max(1, round(mask.shape[1] * scale))
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA)


def _put_text(canvas: np.ndarray, text: str, center: tuple[int, int], height: int, color, rng, font) -> None:
    if not text or height < 4:
        return
    if font is not None:
        f = _font(font, max(6, int(height * 1.3)))
        img = Image.fromarray(canvas[:, :, ::-1].copy())
        draw = ImageDraw.Draw(img)
        x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=f)
        w = x1 - x0
        if w > canvas.shape[1] * 0.95:
            f = _font(font, max(6, int(height * 1.3 * canvas.shape[1] * 0.95 / w)))
            x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=f)
        draw.text((center[0] - (x1 - x0) // 2 - x0, center[1] - (y1 - y0) // 2 - y0), text, fill=color[::-1], font=f)
        canvas[:] = np.asarray(img)[:, :, ::-1]
    else:
        scale = height / 22.0
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        org = (center[0] - w // 2, center[1] + h // 2)
        cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def _background(h: int, w: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    kind = rng.random()
    dark = False
    if kind < 0.45:
        top, bottom = _rand_color(rng, 200, 256), _rand_color(rng, 200, 256)
    elif kind < 0.65:
        top, bottom = (235, 245, 250), _rand_color(rng, 150, 256)
    elif kind < 0.78:
        top, bottom = (40, 200, 240), (60, 220, 250)  # yellow plates
    elif kind < 0.88:
        top, bottom = _rand_color(rng, 120, 200), _rand_color(rng, 200, 256)
    else:
        top, bottom = _rand_color(rng, 0, 90), _rand_color(rng, 0, 110)  # dark plates, light ink
        dark = True
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    img = np.repeat(img, w, axis=1)
    if rng.random() < 0.5:  # low-contrast scenery: hills, mountains, a sun
        for _ in range(int(rng.integers(1, 4))):
            pts = np.array([[0, h], [w, h]] + [[int(x), int(rng.integers(h // 3, h))] for x in np.linspace(w, 0, 6)])
            cv2.fillPoly(img, [pts.astype(np.int32)], tuple(float(v) for v in rng.integers(100, 256, 3)))
        img = cv2.addWeighted(img, 0.45, np.full_like(img, np.mean(img)), 0.55, 0)
    return np.clip(img, 0, 255).astype(np.uint8), dark


def render_plate(text: str, rng: np.random.Generator, region: str | None = None, height: int = 120) -> RenderedPlate:
    """Render a plate reading ``text`` (A-Z/0-9; a space or dash makes a visible gap)."""
    region = region or str(rng.choice(list(state_names())))
    width = int(height * rng.uniform(1.85, 2.1))
    img, dark = _background(height, width, rng)
    fonts = _font_files()
    font = str(rng.choice(list(fonts))) if fonts and rng.random() < 0.85 else None
    ink = _rand_color(rng, 200, 256) if dark else _dark_ink(rng)
    accent = _rand_color(rng, 180, 256) if dark else _dark_ink(rng)
    if rng.random() < 0.6:
        cv2.rectangle(img, (2, 2), (width - 3, height - 3), accent, int(rng.integers(1, 4)))
    name, slogan = state_names().get(region, (region, ""))
    top_font = str(rng.choice(list(fonts))) if fonts else None
    if rng.random() < 0.9:
        _put_text(
            img, name, (width // 2, int(height * 0.15)), int(height * rng.uniform(0.1, 0.17)), accent, rng, top_font
        )
    if rng.random() < 0.7:
        bottom = slogan if rng.random() < 0.7 else str(rng.choice(_BOTTOM_TEXT))
        _put_text(
            img, bottom, (width // 2, int(height * 0.88)), int(height * rng.uniform(0.06, 0.1)), accent, rng, top_font
        )
    for x in (int(width * 0.05), int(width * 0.8)):  # registration stickers
        if rng.random() < 0.5:
            sw, sh = int(width * rng.uniform(0.1, 0.16)), int(height * rng.uniform(0.14, 0.22))
            y = int(height * rng.uniform(0.04, 0.12)) if rng.random() < 0.6 else int(height * 0.74)
            cv2.rectangle(img, (x, y), (x + sw, y + sh), _rand_color(rng, 0, 256), -1)
            _put_text(img, str(rng.integers(1, 99)), (x + sw // 2, y + sh // 2), sh // 2, (20, 20, 20), rng, None)
    for x in (int(width * 0.25), int(width * 0.75)):  # bolts
        if rng.random() < 0.5:
            cv2.circle(img, (x, int(height * 0.1)), max(1, height // 40), (90, 90, 90), -1)

    # registration characters
    char_h = int(height * rng.uniform(0.36, 0.5))
    bold = int(rng.integers(0, 3)) if font is not None else int(rng.integers(0, 2))
    condense = rng.uniform(0.6, 1.0)
    glyphs = []
    for ch in text:
        if ch in " -":
            glyphs.append(ch)
            continue
        g = _glyph(ch, char_h, rng, font, bold)
        new_w = max(2, int(g.shape[1] * condense * rng.uniform(0.95, 1.05)))
        glyphs.append(cv2.resize(g, (new_w, char_h), interpolation=cv2.INTER_AREA))
    spacing = int(char_h * rng.uniform(0.04, 0.16))
    plain = [g for g in glyphs if not isinstance(g, str)]
    avg_w = int(np.mean([g.shape[1] for g in plain])) if plain else char_h // 2
    if " " not in text and "-" not in text and len(plain) >= 5 and rng.random() < 0.4:
        glyphs.insert(len(plain) // 2 if rng.random() < 0.5 else 3, " " if rng.random() < 0.6 else "*")
    widths = [avg_w * 0.8 if isinstance(g, str) else g.shape[1] for g in glyphs]
    total = sum(widths) + spacing * (len(glyphs) - 1)
    max_w = width * 0.9
    if total > max_w:  # squeeze to fit
        k = max_w / total
        glyphs = [g if isinstance(g, str) else cv2.resize(g, (max(2, int(g.shape[1] * k)), char_h)) for g in glyphs]
        widths = [w * k for w in widths]
        spacing = int(spacing * k)
        total = sum(widths) + spacing * (len(glyphs) - 1)
    x = int((width - total) / 2 + rng.uniform(-0.04, 0.04) * width)
    x = max(1, min(x, width - int(total) - 1))
    y = int(height * rng.uniform(0.3, 0.36))
    y = min(y, height - char_h - 1)
    x0 = x
    for g, w in zip(glyphs, widths, strict=True):
        if isinstance(g, str):
            cx, cy = int(x + w / 2), y + char_h // 2
            if g == "-":
                cv2.line(img, (int(x + w * 0.2), cy), (int(x + w * 0.8), cy), ink, max(1, char_h // 10))
            elif g == "*":  # an emblem between groups (the OCR must ignore it)
                cv2.circle(img, (cx, cy), int(w * 0.45), _rand_color(rng, 0, 256), -1)
                cv2.circle(img, (cx, cy), int(w * 0.25), _rand_color(rng, 0, 256), -1)
        else:
            roi = img[y : y + char_h, x : x + g.shape[1]]
            alpha = (g[:, : roi.shape[1]].astype(np.float32) / 255.0)[:, :, None]
            roi[:] = (roi * (1 - alpha) + np.array(ink, np.float32) * alpha).astype(np.uint8)
        x += int(w) + spacing
    label = "".join(ch for ch in text if ch not in " -")
    return RenderedPlate(img, label, region, (x0, y, int(x - spacing), y + char_h))


def render_scene(
    text: str | None,
    rng: np.random.Generator,
    size: tuple[int, int] = (480, 360),
    plate_height: int | None = None,
    distractors: bool = True,
    plate_image: np.ndarray | None = None,
) -> Scene:
    """A car-like scene (the rear of a car, a road, sky) with one plate; ``text=None`` picks one.

    ``plate_image`` (BGR) pastes a given plate (e.g. a real crop reading ``text``) instead of rendering one.
    """
    if text is None:
        text, region = random_plate_text(rng)
    else:
        region = None
    w, h = size
    sky = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = (1 - sky) * np.array(_rand_color(rng, 150, 256), np.float32) + sky * np.array(
        _rand_color(rng, 60, 140), np.float32
    )
    img = np.repeat(img, w, axis=1).astype(np.uint8)
    cv2.rectangle(img, (0, int(h * 0.75)), (w, h), _rand_color(rng, 70, 110), -1)  # road
    body = _rand_color(rng, 20, 230)
    cx = w // 2 + int(rng.integers(-w // 10, w // 10 + 1))
    car_w = int(w * rng.uniform(0.55, 0.75))
    top, bottom = int(h * rng.uniform(0.15, 0.25)), int(h * rng.uniform(0.82, 0.9))
    cv2.rectangle(img, (cx - car_w // 2, int(h * 0.4)), (cx + car_w // 2, bottom), body, -1)
    roof = np.array(
        [
            [cx - car_w // 3, top],
            [cx + car_w // 3, top],
            [cx + car_w // 2, int(h * 0.42)],
            [cx - car_w // 2, int(h * 0.42)],
        ]
    )
    cv2.fillPoly(img, [roof], body)
    cv2.fillPoly(img, [(roof * [1, 1] + [[6, 8], [-6, 8], [-12, -6], [12, -6]]).astype(np.int32)], (50, 45, 40))
    for sx in (-1, 1):  # tail lights
        lx = cx + sx * int(car_w * 0.38)
        cv2.rectangle(img, (lx - car_w // 12, int(h * 0.46)), (lx + car_w // 12, int(h * 0.55)), (30, 30, 200), -1)
    cv2.rectangle(
        img, (cx - car_w // 2, int(h * 0.7)), (cx + car_w // 2, bottom), tuple(int(c * 0.6) for c in body), -1
    )
    ph = plate_height or int(rng.integers(30, 46))
    if plate_image is not None:
        plate = RenderedPlate(plate_image, text, region or "", (0, 0, plate_image.shape[1], plate_image.shape[0]))
    else:
        plate = render_plate(text, rng, region, height=120)
    pw = int(ph * plate.image.shape[1] / plate.image.shape[0])
    px, py = cx - pw // 2 + int(rng.integers(-5, 6)), int(h * 0.58) + int(rng.integers(-8, 9))
    src = np.float32(
        [[0, 0], [plate.image.shape[1], 0], [plate.image.shape[1], plate.image.shape[0]], [0, plate.image.shape[0]]]
    )
    jit = rng.uniform(-0.06, 0.06, (4, 2)) * [pw, ph]
    dst = np.float32([[px, py], [px + pw, py], [px + pw, py + ph], [px, py + ph]]) + jit.astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(plate.image, m, (w, h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full(plate.image.shape[:2], 255, np.uint8), m, (w, h), flags=cv2.INTER_AREA)
    a = (mask.astype(np.float32) / 255.0)[:, :, None]
    img = (img * (1 - a) + warped * a).astype(np.uint8)
    if distractors:
        if rng.random() < 0.6:  # dealer frame text under the plate
            dealer = str(rng.choice(_BOTTOM_TEXT))
            cv2.putText(
                img,
                dealer,
                (px, int(py + ph * 1.22)),
                cv2.FONT_HERSHEY_SIMPLEX,
                ph / 90,
                (230, 230, 230),
                1,
                cv2.LINE_AA,
            )
        if rng.random() < 0.5:  # camera timestamp overlay
            d = rng.integers(0, 10, 4)
            stamp = f"2024-0{d[0] % 9 + 1}-1{d[1]} 1{d[2]}:2{d[3]}:05"
            cv2.putText(img, stamp, (8, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 0.8))
    noise = rng.normal(0, 3, img.shape)
    img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    return Scene(img, plate.text, plate.region, dst.astype(np.float32))


_BUSINESS = (
    "ACME PLUMBING",
    "JOE'S HVAC",
    "CITY ELECTRIC",
    "FRESH FOODS",
    "EXPRESS DELIVERY",
    "ROOFING CO",
    "LANDSCAPING",
    "MOVING & STORAGE",
    "PEST CONTROL",
    "FLEET SERVICES",
)
_STICKERS = ("HONOR STUDENT", "BABY ON BOARD", "I BRAKE FOR", "26.2", "COEXIST", "GO TEAM", "4X4", "V8", "HYBRID")


def distractor_text(rng: np.random.Generator) -> tuple[str, str]:
    """(kind, text) of a line painted or stuck on a vehicle that is not its plate: a fleet number, a
    phone number, a business name, a DOT number, a web address, a bumper sticker, a state or slogan."""
    d = lambda n: "".join(str(v) for v in rng.integers(0, 10, n))  # noqa: E731
    kind = str(rng.choice(["fleet", "phone", "business", "dot", "web", "sticker", "state"]))
    if kind == "fleet":
        text = str(
            rng.choice([f"UNIT {d(3)}", f"#{d(3)}", d(int(rng.integers(2, 6))), f"TRUCK {d(2)}", f"{d(2)}-{d(3)}"])
        )
    elif kind == "phone":
        text = str(
            rng.choice([f"({d(3)}) {d(3)}-{d(4)}", f"{d(3)}-{d(3)}-{d(4)}", f"1-800-{d(3)}-{d(4)}", f"{d(3)}.{d(4)}"])
        )
    elif kind == "business":
        text = str(rng.choice(_BUSINESS))
    elif kind == "dot":
        text = str(rng.choice([f"USDOT {d(7)}", f"DOT {d(6)}", f"MC {d(6)}", f"CA {d(6)}"]))
    elif kind == "web":
        text = str(rng.choice(["WWW.ACME.COM", "CALL NOW", "FREE ESTIMATES", "LICENSED & INSURED", "EST. 1987"]))
    elif kind == "sticker":
        text = str(rng.choice(_STICKERS))
    else:
        name, slogan = state_names()[str(rng.choice(sorted(state_names())))]
        text = str(rng.choice([name.upper(), slogan.upper() or name.upper()]))
    return kind, text


def paint_distractors(
    image: np.ndarray, rng: np.random.Generator, avoid: np.ndarray, count: int = 2
) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """A copy of a scene with ``count`` non-plate text lines painted away from the plate quad ``avoid``:
    body paint or a sticker on a coloured panel (a plate-like rectangle: the hard case). Returns the image
    and each line's (kind, quad)."""
    out = image.copy()
    h, w = out.shape[:2]
    ax0, ay0 = avoid.min(0)
    ax1, ay1 = avoid.max(0)
    plate_h = max(8.0, float(ay1 - ay0))
    fonts = _font_files()
    lines: list[tuple[str, np.ndarray]] = []
    for _ in range(count * 4):
        if len(lines) >= count:
            break
        kind, text = distractor_text(rng)
        th = int(np.clip(plate_h * rng.uniform(0.25, 1.2), 6, h / 6))
        tw = int(th * 0.62 * len(text)) + 4
        if tw >= w - 4:
            continue
        x0 = int(rng.integers(2, w - tw - 2))
        y0 = int(rng.integers(2, max(3, h - th - 2)))
        box = np.float32([[x0, y0], [x0 + tw, y0], [x0 + tw, y0 + th], [x0, y0 + th]])
        pad = 0.6 * th
        if x0 - pad < ax1 and x0 + tw + pad > ax0 and y0 - pad < ay1 and y0 + th + pad > ay0:
            continue  # would touch the plate
        if any(
            x0 < q[1, 0] + pad and x0 + tw + pad > q[0, 0] and y0 < q[2, 1] + pad and y0 + th + pad > q[0, 1]
            for _k, q in lines
        ):
            continue
        local = out[max(0, y0 - th // 2) : y0 + th + th // 2, max(0, x0 - th // 2) : x0 + tw + th // 2]
        if kind == "sticker" or rng.random() < 0.25:  # a panel behind the text, with a border sometimes
            panel = _rand_color(rng, 0, 256)
            cv2.rectangle(local, (0, 0), (local.shape[1] - 1, local.shape[0] - 1), panel, -1)
            if rng.random() < 0.5:
                cv2.rectangle(local, (0, 0), (local.shape[1] - 1, local.shape[0] - 1), _dark_ink(rng), max(1, th // 10))
        bg = local.reshape(-1, 3).mean(0)
        ink = _dark_ink(rng) if bg.mean() > 110 else _rand_color(rng, 200, 256)
        font = fonts[int(rng.integers(len(fonts)))] if fonts and rng.random() < 0.8 else None
        _put_text(out, text, (x0 + tw // 2, y0 + th // 2), th, ink, rng, font)
        lines.append((kind, box))
    return out, lines
