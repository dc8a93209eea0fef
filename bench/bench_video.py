"""Benchmark video plate grouping on short synthetic clips built from real crops (run by hand).

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/bench_video.py --clips 8

Each clip: one real crop from ../shared/benchmarks/us-crops (the "test" half of bench_region's split,
never tuned on) pasted onto a car-coloured background, moving and growing across ``--frames`` frames (a
vehicle approaching), with blur and JPEG noise, written with cv2.VideoWriter to a temporary folder
(nothing is written into the repository). Every frame is read by the engine; the per-frame reads are
then grouped (``grouping.group_and_fuse``) exactly as ``alpr recognize`` does for videos. Reported:
reads before and after grouping, the per-frame exact accuracy, the fused read's exact accuracy, and the
accuracy of the best single frame (the frame the fused read keeps) for comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
import zlib
from pathlib import Path

import cv2
import numpy as np

from alpr_lib.recognition.grouping import FrameRead, group_and_fuse
from alpr_lib.recognition.pipeline import PlateRecognizer
from alpr_lib.recognition.postprocess import normalise_plate

ROOT = Path(__file__).resolve().parent.parent
CROPS = ROOT.parent / "shared" / "benchmarks" / "us-crops"
OUT = ROOT / "bench" / "out"


def make_clip(crop: np.ndarray, path: Path, rng: np.random.Generator, frames: int = 20, fps: float = 10.0,
              size: tuple[int, int] = (960, 540), widths: tuple[int, int] = (90, 170),
              blur: tuple[float, float] = (0.3, 1.3), jpeg: tuple[int, int] = (35, 75)) -> None:
    """A clip of ``crop`` on a car-like background, moving and scaling across ``frames`` frames."""
    w_img, h_img = size
    base = np.zeros((h_img, w_img, 3), np.uint8)
    base[:] = rng.integers(40, 120, 3)
    cv2.rectangle(base, (0, int(0.7 * h_img)), (w_img, h_img), (60, 60, 60), -1)  # road
    body = tuple(int(v) for v in rng.integers(30, 220, 3))
    x_start, x_end = rng.uniform(0.25, 0.4) * w_img, rng.uniform(0.45, 0.6) * w_img
    y_start, y_end = 0.45 * h_img, 0.62 * h_img
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w_img, h_img))
    if not writer.isOpened():
        raise RuntimeError("cv2.VideoWriter cannot write mp4v here")
    try:
        for k in range(frames):
            a = k / max(1, frames - 1)
            pw = int(widths[0] + a * (widths[1] - widths[0]))
            ph = max(8, int(pw * crop.shape[0] / crop.shape[1]))
            cx, cy = x_start + a * (x_end - x_start), y_start + a * (y_end - y_start)
            frame = base.copy()
            cv2.rectangle(frame, (int(cx - 1.6 * pw), int(cy - 1.1 * pw)), (int(cx + 1.6 * pw), int(cy + 0.6 * pw)),
                          body, -1)  # the car's rear
            plate = cv2.resize(crop, (pw, ph), interpolation=cv2.INTER_AREA)
            x0, y0 = int(cx - pw / 2), int(cy - ph / 2)
            frame[y0 : y0 + ph, x0 : x0 + pw] = plate
            sigma = float(rng.uniform(*blur))
            frame = cv2.GaussianBlur(frame, (0, 0), sigma)
            frame = np.clip(frame.astype(np.float32) + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8)
            _ok, enc = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*jpeg))])
            writer.write(cv2.imdecode(enc, cv2.IMREAD_COLOR))
    finally:
        writer.release()


def frames_of(path: Path):
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    k = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        yield k / fps, frame
        k += 1
    cap.release()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--hard", action="store_true",
                    help="smaller plates (50-100 px wide), more blur (0.6-1.8 px) and JPEG noise (quality 20-50)")
    args = ap.parse_args()
    style = dict(widths=(50, 100), blur=(0.6, 1.8), jpeg=(20, 50)) if args.hard else {}
    with open(CROPS / "groundtruth.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if zlib.crc32(r["image"].encode()) % 2 == 1]
    rng = np.random.default_rng(args.seed)
    picks = [rows[i] for i in rng.choice(len(rows), size=min(args.clips, len(rows)), replace=False)]
    engine = PlateRecognizer(detect_region=True)
    totals = {"frames": 0, "reads_before": 0, "reads_after": 0, "frame_correct": 0, "fused_correct": 0,
              "best_frame_correct": 0, "region_fused_correct": 0, "region_fused_answered": 0, "clips": 0}
    per_clip = []
    with tempfile.TemporaryDirectory(prefix="alpr-bench-video-") as tmp:
        for k, r in enumerate(picks):
            crop = cv2.imread(str(CROPS / r["image"]))
            clip = Path(tmp) / f"clip{k}.mp4"
            make_clip(crop, clip, rng, frames=args.frames, **style)
            truth = normalise_plate(r["plate"])
            reads, ms = [], []
            for t, frame in frames_of(clip):
                t0 = time.perf_counter()
                rec = engine.recognize(frame)
                ms.append((time.perf_counter() - t0) * 1000)
                totals["frames"] += 1
                for res in rec.results:
                    reads.append(FrameRead(t, normalise_plate(res.plate), res.confidence, res.quad,
                                           res.char_confidences if res.plate_raw == res.plate else (),
                                           res.region, res.region_confidence))
            fused = group_and_fuse(reads, max_gap_s=2.0)
            main_group = max(fused, key=lambda f: f.frames) if fused else None
            row = {
                "crop": r["image"], "truth": truth, "region": r["region"], "frames": args.frames,
                "reads_before": len(reads), "reads_after": len(fused),
                "frame_correct": sum(x.plate == truth for x in reads),
                "fused": main_group.plate if main_group else "", "fused_frames": main_group.frames if main_group else 0,
                "best_frame": main_group.best.plate if main_group else "",
                "fused_region": main_group.region if main_group else "",
                "median_ms": float(np.median(ms)),
            }
            per_clip.append(row)
            totals["clips"] += 1
            totals["reads_before"] += len(reads)
            totals["reads_after"] += len(fused)
            totals["frame_correct"] += row["frame_correct"]
            totals["fused_correct"] += row["fused"] == truth
            totals["best_frame_correct"] += row["best_frame"] == truth
            if row["fused_region"]:
                totals["region_fused_answered"] += 1
                totals["region_fused_correct"] += row["fused_region"] == r["region"].lower()
            print(json.dumps(row))
    totals["frame_accuracy"] = totals["frame_correct"] / max(1, totals["reads_before"])
    totals["fused_accuracy"] = totals["fused_correct"] / max(1, totals["clips"])
    OUT.mkdir(parents=True, exist_ok=True)
    name = "video_report_hard.json" if args.hard else "video_report.json"
    (OUT / name).write_text(json.dumps({"totals": totals, "clips": per_clip}, indent=1))
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
