"""Validate the whole pipeline on the us-crops *validation* split pasted into synthetic car scenes.

A proxy for photos that uses no end-to-end photo: each validation crop (never trained on) is placed in a
car-like scene (alpr_lib.recognition.render.render_scene) at plate heights 30 and 42 px, and the full
engine (detector + OCR + ranking) reads the scene. Used to choose pipeline settings.

    .venv/bin/python training/validate_scenes.py
"""

from __future__ import annotations

import argparse
import pickle

import numpy as np

from alpr_lib.recognition.pipeline import PlateRecognizer
from alpr_lib.recognition.render import render_scene


def scenes(cache: str, heights=(30, 42), seed: int = 7):
    with open(cache, "rb") as f:
        items = [i for i in pickle.load(f) if i["split"] == "val"]
    rng = np.random.default_rng(seed)
    for it in items:
        for h in heights:
            yield render_scene(it["plate"], rng, size=(640, 480), plate_height=h, plate_image=it["image"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops-cache", default="training/cache/crops.pkl")
    args = ap.parse_args()
    engine = PlateRecognizer()
    n = top1 = top5 = 0
    for s in scenes(args.crops_cache):
        ranked = [p for p, _c, _q in engine.recognize(s.image).ranked(5)]
        n += 1
        top1 += bool(ranked) and ranked[0] == s.text
        top5 += s.text in ranked
    print(f"scenes={n} top1={top1 / n:.3f} top5={top5 / n:.3f}")


if __name__ == "__main__":
    main()
