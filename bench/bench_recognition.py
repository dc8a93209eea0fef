"""Benchmark the plate recognition engine against the rapidocr whole-image baseline (run by hand).

    .venv/bin/python bench/bench_recognition.py                       # both engines, us-endtoend
    .venv/bin/python bench/bench_recognition.py --engine builtin --floor-top1 0.85 --floor-topn 0.90

Both engines are scored by the same code as ``alpr eval-recognition`` (alpr_lib.recognition.evaluate):
exact top-1, top-N, top-1 with O/0 and I/1 folded, detection recall at IoU 0.3, seconds per image.
The baseline is rapidocr 3 with its default models on the whole photo (``use_cls=False``), the
plate-like line picked by a simple heuristic (5-8 alphanumerics with a digit, then OCR score and height).
Results go to bench/out/ (git-ignored). With --floor-* the script exits 1 when the engine falls short.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from alpr_lib.recognition.evaluate import evaluate, read_groundtruth, summarise, write_failures, write_predictions
from alpr_lib.recognition.pipeline import Candidate, PlateRecognizer, PlateResult, Recognition
from alpr_lib.recognition.postprocess import matches_template, normalise_plate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "benchmarks" / "us-endtoend"


class RapidOcrBaseline:
    """rapidocr on the whole photo; the most plate-like text line is the answer."""

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        self.engine = RapidOCR(params={"Global.use_cls": False, "Global.log_level": "error"})

    def recognize(self, image: np.ndarray) -> Recognition:
        t0 = time.perf_counter()
        out = self.engine(image, use_cls=False)
        results = []
        boxes = out.boxes if out.boxes is not None else []
        for box, text, score in zip(boxes, out.txts or (), out.scores or (), strict=False):
            plate = normalise_plate(text)
            if not plate:
                continue
            quad = np.asarray(box, np.float32).reshape(4, 2)
            height = float(np.linalg.norm(quad[3] - quad[0]))
            plausible = 5 <= len(plate) <= 8 and any(c.isdigit() for c in plate)
            s = (2.0 if plausible else 0.0) + float(score) + 0.01 * height
            conf = 100.0 * float(score)
            cand = Candidate(plate, conf, matches_template(plate), s)
            results.append(PlateResult(plate, conf, cand.matches_template, "", 0.0, quad, (cand,), (), text, s))
        results.sort(key=lambda r: -r.score)
        ih, iw = image.shape[:2]
        return Recognition(tuple(results), iw, ih, (time.perf_counter() - t0) * 1000)


def categorise(rows) -> dict[str, int]:
    """Failure categories of the top-1 misses (each miss counted once, first matching category)."""
    cats: dict[str, int] = {}
    for r in rows:
        if r.top1:
            continue
        if r.error:
            cat = "unreadable image"
        elif not r.predicted:
            cat = "no plate found"
        elif r.iou is not None and r.iou < 0.3:
            cat = "wrong text line / region picked"
        elif len(r.predicted) != len(r.truth):
            cat = "character dropped or added"
        else:
            cat = "character misread (same length)"
        if r.rank is not None:
            cat += " (truth in top-N)"
        cats[cat] = cats.get(cat, 0) + 1
    return dict(sorted(cats.items(), key=lambda kv: -kv[1]))


def run(name: str, recognizer, image_dir: Path, gt: Path, top_n: int, out_dir: Path) -> dict:
    truths = read_groundtruth(gt)
    rows = evaluate(image_dir, truths, recognizer, top_n=top_n)
    fig = summarise(rows, top_n)
    fig["failure_categories"] = categorise(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(fig, indent=2) + "\n")
    write_predictions(rows, out_dir / f"{name}-predictions.csv")
    write_failures(rows, out_dir / f"{name}-failures.csv")
    return fig


def fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, default=DEFAULT_SET)
    ap.add_argument("--groundtruth", type=Path, default=None)
    ap.add_argument("--engine", choices=["both", "builtin", "rapidocr"], default="both")
    ap.add_argument("--top-n", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--floor-top1", type=float, default=None)
    ap.add_argument("--floor-topn", type=float, default=None)
    args = ap.parse_args()
    gt = args.groundtruth or args.images / "groundtruth.csv"
    if not gt.is_file():
        print(f"ground truth not found: {gt} (the shared benchmarks live in ../shared/benchmarks)", file=sys.stderr)
        return 2
    figs = {}
    if args.engine in ("both", "builtin"):
        figs["builtin"] = run(
            "builtin", PlateRecognizer(top_n=max(10, args.top_n)), args.images, gt, args.top_n, args.out
        )
    if args.engine in ("both", "rapidocr"):
        figs["rapidocr"] = run("rapidocr", RapidOcrBaseline(), args.images, gt, args.top_n, args.out)
    keys = ["n", "top1", "topn", "folded", "detection_recall", "median_s", "p95_s", "peak_rss_mb"]
    print("| engine | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, fig in figs.items():
        print(f"| {name} | " + " | ".join(fmt(fig.get(k)) for k in keys) + " |")
    for name, fig in figs.items():
        print(f"\n{name}: top-1 misses by category")
        for cat, count in fig["failure_categories"].items():
            print(f"  {count:4d}  {cat}")
    ok = True
    if "builtin" in figs:
        if args.floor_top1 is not None and figs["builtin"]["top1"] < args.floor_top1:
            ok = False
        if args.floor_topn is not None and figs["builtin"]["topn"] < args.floor_topn:
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
