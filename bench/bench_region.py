"""Benchmark the plate-state (region) classifier on the us-crops (run by hand).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/bench_region.py            # all variants
    .venv/bin/python bench/bench_region.py --variants lines --limit 60              # quick look

The crops are split in two halves by ``crc32(name) % 2``: the threshold (the only tuned value of the
classifier) is chosen on the "tune" half (the lowest threshold whose accuracy where it answers is >= the
target, 85%, then the most coverage) and every figure is reported on the "test" half, overall and per state.
Variants: ``lines`` (the engine's text detector on the crop, every line but the plate's read), ``strips``
(one strip above, one below the plate characters, no detector), and ``photoNNN``: the crop shrunk to
NNN px wide with JPEG noise, as a plate is in a camera photo, then cut to 320x160 as the pipeline does
(``region.plate_crop``) and read with ``lines``. The lines read are cached in bench/out/region_cache.json
(git-ignored) so that the sweep can be rerun without OCR. Never run on ../shared/benchmarks/us-endtoend
(it has no states, and nothing is tuned on it).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from alpr_lib.recognition.postprocess import guess_region
from alpr_lib.recognition.region import RegionClassifier, combine_with_format, guess_from_lines, plate_crop

ROOT = Path(__file__).resolve().parent.parent
CROPS = ROOT.parent / "shared" / "benchmarks" / "us-crops"
OUT = ROOT / "bench" / "out"
TARGET_ACC, TARGET_COV = 0.85, 0.60


def half(name: str) -> str:
    return "tune" if zlib.crc32(name.encode()) % 2 == 0 else "test"


def photo_scale(crop: np.ndarray, width: int, rng: np.random.Generator) -> np.ndarray:
    """The crop as a plate ``width`` px wide in a JPEG photo, then cut back to 320x160 like the pipeline."""
    h, w = crop.shape[:2]
    small = cv2.resize(crop, (width, max(8, round(h * width / w))), interpolation=cv2.INTER_AREA)
    _ok, enc = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 90))])
    small = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    sh, sw = small.shape[:2]
    # a photo around it (replicated border) and the quad the engine would give: the plate's box
    pad = max(sh, sw)
    photo = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    quad = np.float32([[pad, pad + 0.1 * sh], [pad + sw, pad + 0.1 * sh], [pad + sw, pad + 0.9 * sh],
                       [pad, pad + 0.9 * sh]])
    return plate_crop(photo, quad)


def collect(variants: list[str], limit: int | None) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    cache_path = OUT / "region_cache.json"
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    with open(CROPS / "groundtruth.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if limit:
        rows = rows[:: max(1, len(rows) // limit)][:limit]
    clf = RegionClassifier(threshold=0.0)
    rng = np.random.default_rng(0)
    for v in variants:
        done = cache.setdefault(v, {})
        t_start = time.perf_counter()
        for k, r in enumerate(rows):
            if r["image"] in done:
                continue
            crop = cv2.imread(str(CROPS / r["image"]))
            if crop is None:
                continue
            mode = "strips" if v.endswith("strips") else "lines"
            if v.startswith("photo"):
                crop = photo_scale(crop, int(v[5:].split("-")[0]), rng)
            t0 = time.perf_counter()
            lines = clf.read_lines(crop, r["plate"], mode)
            done[r["image"]] = {"lines": lines, "ms": (time.perf_counter() - t0) * 1000}
            if k % 50 == 0:
                print(f"{v}: {k}/{len(rows)} {time.perf_counter() - t_start:.0f}s", file=sys.stderr)
                cache_path.write_text(json.dumps(cache))
        cache_path.write_text(json.dumps(cache))
    return cache


def metrics(items: list[tuple[str, str]]) -> tuple[float, float, int, int, int]:
    """items: (truth, answer or "") -> (accuracy where answered, coverage, correct, answered, n)."""
    answered = [(t, a) for t, a in items if a]
    correct = sum(t == a for t, a in answered)
    n = len(items)
    return (correct / len(answered) if answered else 0.0, len(answered) / n if n else 0.0, correct, len(answered), n)


def choose_threshold(tune: dict[str, list[tuple[str, str, float]]], floor: float) -> float:
    """The lowest threshold (so the most coverage) at which every variant's accuracy where it answers,
    on the tune half, is at least ``floor``."""
    for th in np.arange(5.0, 100.0, 2.5):
        if all(metrics([(t, b if c >= th else "") for t, b, c in s])[0] >= floor for s in tune.values()):
            return float(th)
    return 100.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", default="lines,strips,photo150,photo100")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--choose-on", default="strips,photo150-strips,photo100-strips",
                    help="variants whose tune halves choose the threshold (those of the shipped mode)")
    ap.add_argument("--accuracy-floor", type=float, default=0.99,
                    help="accuracy where it answers required on each --choose-on tune half (target: 0.85)")
    args = ap.parse_args()
    variants = args.variants.split(",")
    choose_on = [v for v in args.choose_on.split(",") if v in variants] or variants
    with open(CROPS / "groundtruth.csv", encoding="utf-8") as f:
        truth = {r["image"]: (r["region"].upper(), r["plate"]) for r in csv.DictReader(f)}
    cache = collect(variants, args.limit)
    report: dict = {}
    all_scored = {}
    for v in variants:
        scored = all_scored[v] = {"tune": [], "test": []}
        for name, d in cache[v].items():
            g = guess_from_lines(d["lines"], threshold=0.0)
            scored[half(name)].append((truth[name][0], g.best, g.best_confidence))
    th = choose_threshold({v: all_scored[v]["tune"] for v in choose_on}, args.accuracy_floor)
    print(f"threshold {th}: the lowest at which every tune half of {choose_on} is >= {args.accuracy_floor:.0%} right")
    for v in variants:
        data = cache[v]
        scored = all_scored[v]
        per_state = defaultdict(list)
        combined = []
        ms = [d["ms"] for d in data.values()]
        for name, d in data.items():
            if half(name) != "test":
                continue
            t, plate = truth[name]
            g = guess_from_lines(d["lines"], threshold=th)
            per_state[t].append((t, g.best if g.region else ""))
            fr, fc = guess_region(plate)
            region, _conf = combine_with_format(g, fr, fc, threshold=th)
            combined.append((t, region.upper() if region and (g.region or _conf >= 50) else ""))
        test = [(t, b if c >= th else "") for t, b, c in scored["test"]]
        acc, cov, correct, answered, n = metrics(test)
        tacc, tcov, *_ = metrics([(t, b if c >= th else "") for t, b, c in scored["tune"]])
        cacc, ccov, *_ = metrics(combined)
        fmt = metrics([(t, (guess_region(truth[nm][1])[0].upper() if guess_region(truth[nm][1])[1] >= 50 else ""))
                       for nm, t in ((nm, truth[nm][0]) for nm in data if half(nm) == "test")])
        report[v] = {
            "threshold": th,
            "tune": {"accuracy": tacc, "coverage": tcov, "n": len(scored["tune"])},
            "test": {"accuracy": acc, "coverage": cov, "correct": correct, "answered": answered, "n": n},
            "test_text_plus_format": {"accuracy": cacc, "coverage": ccov},
            "test_format_only": {"accuracy": fmt[0], "coverage": fmt[1]},
            "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)),
            "per_state": {
                s: dict(zip(("accuracy", "coverage", "correct", "answered", "n"), metrics(items), strict=True))
                for s, items in sorted(per_state.items())
            },
        }
        print(f"{v}: threshold {th} | tune acc {tacc:.3f} cov {tcov:.3f} | test acc {acc:.3f} ({correct}/{answered}) "
              f"cov {cov:.3f} ({answered}/{n}) | +format acc {cacc:.3f} cov {ccov:.3f} | format only acc "
              f"{fmt[0]:.3f} cov {fmt[1]:.3f} | median {np.median(ms):.0f} ms p95 {np.percentile(ms, 95):.0f} ms")
    (OUT / "region_report.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
