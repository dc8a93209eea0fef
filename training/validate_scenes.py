"""Validate the whole pipeline on the us-crops *validation* split pasted into synthetic car scenes.

A proxy for photos that uses no end-to-end photo: each validation crop (never trained on) is placed in a
car-like scene (alpr_lib.recognition.render.render_scene) at plate heights 30 and 42 px, and the full
engine (detector + OCR + ranking) reads the scene. Used to choose pipeline settings.

    .venv/bin/python training/validate_scenes.py                       # heights 30, 42; seed 7
    .venv/bin/python training/validate_scenes.py --heights 24 30 36 42 48 --seed 11 --detect-region
    .venv/bin/python training/validate_scenes.py --no-second-reader --verifier-weight 0   # ablations
    .venv/bin/python training/validate_scenes.py --painted 2     # with fleet/phone/DOT numbers, stickers, ...
    .venv/bin/python training/validate_scenes.py --model CAND.onnx [--members A.onnx B.onnx]   # a candidate
"""

from __future__ import annotations

import argparse
import pickle

import numpy as np

from alpr_lib.recognition.ocr import PlateOCR
from alpr_lib.recognition.pipeline import PlateRecognizer
from alpr_lib.recognition.reads import MIN_REGION_CONFIDENCE
from alpr_lib.recognition.render import paint_distractors, render_scene


def scenes(cache: str, heights=(30, 42), seed: int = 7, with_state: bool = False):
    """Each validation crop in a synthetic scene per height (``with_state``: (scene, the crop's state))."""
    with open(cache, "rb") as f:
        items = [i for i in pickle.load(f) if i["split"] == "val"]
    rng = np.random.default_rng(seed)
    for it in items:
        for h in heights:
            s = render_scene(it["plate"], rng, size=(640, 480), plate_height=h, plate_image=it["image"])
            yield (s, it["region"]) if with_state else s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops-cache", default="training/cache/crops.pkl")
    ap.add_argument("--heights", type=int, nargs="+", default=[30, 42])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--detect-region", action="store_true", help="read the state too (and use its formats)")
    ap.add_argument("--no-second-reader", action="store_true")
    ap.add_argument("--state-prior", action="store_true", help="with --detect-region: the state's formats")
    ap.add_argument("--verifier-weight", type=float, default=None, help="plate/not-plate weight (0: off)")
    ap.add_argument("--painted", type=int, default=0, help="paint this many non-plate lines in each scene")
    ap.add_argument("--model", default=None, help="a candidate plate_crnn.onnx (with its .sha256 beside it), alone")
    ap.add_argument("--members", nargs="*", default=None, help="with --model: ensemble members read with it")
    args = ap.parse_args()
    engine = PlateRecognizer(
        ocr=PlateOCR(args.model, companions=args.members) if args.model else None,
        detect_region=args.detect_region,
        second_reader=not args.no_second_reader,
        state_prior=args.state_prior,
        **({} if args.verifier_weight is None else {"verifier_weight": args.verifier_weight}),
    )
    rng = np.random.default_rng(args.seed + 1000)
    n = top1 = top5 = answered = right_state = 0
    for s, state in scenes(args.crops_cache, tuple(args.heights), args.seed, with_state=True):
        image = paint_distractors(s.image, rng, s.quad, args.painted)[0] if args.painted else s.image
        rec = engine.recognize(image)
        ranked = [p for p, _c, _q in rec.ranked(5)]
        n += 1
        top1 += bool(ranked) and ranked[0] == s.text
        top5 += s.text in ranked
        if rec.results and rec.results[0].region and rec.results[0].region_confidence >= MIN_REGION_CONFIDENCE:
            answered += 1
            right_state += rec.results[0].region.upper() == state
    line = f"scenes={n} top1={top1 / n:.3f} top5={top5 / n:.3f}"
    if args.detect_region:
        right = right_state / max(1, answered)
        line += f" region>={MIN_REGION_CONFIDENCE:g}: answered={answered / n:.3f} right={right:.3f}"
    print(line)


if __name__ == "__main__":
    main()
