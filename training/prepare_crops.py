"""Cache the us-crops training set: each crop at 96 px tall, its label, and the main text line.

The main text line is found with the same text detector the engine uses on photos, so that training
windows are cut around the plate characters exactly the way the engine cuts them at inference.
Split: a crop is in validation when crc32(filename) % 10 == 0 (about 75 of 746), never trained on.

    .venv/bin/python training/prepare_crops.py --crops ../shared/benchmarks/us-crops
"""

from __future__ import annotations

import argparse
import csv
import pickle
import zlib
from pathlib import Path

import cv2
import numpy as np

from alpr_lib.recognition.detector import TextLineDetector

HEIGHT = 96
PAD = 40
DET_HEIGHT = 30


def main_line(det: TextLineDetector, img: np.ndarray) -> np.ndarray | None:
    # the plate at the size it has in a photo at the detector's resolution (~30 px tall)
    k = DET_HEIGHT / img.shape[0]
    small = cv2.resize(img, (round(img.shape[1] * k), DET_HEIGHT), interpolation=cv2.INTER_AREA)
    padded = cv2.copyMakeBorder(small, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
    props = [p for p in det(padded) if not p.merged]
    best, best_key = None, -1.0
    for p in props:
        if p.width < 1.2 * p.height:
            continue
        cy = p.quad[:, 1].mean() - PAD
        if not 0.2 * DET_HEIGHT < cy < 0.8 * DET_HEIGHT:
            continue
        key = p.height * min(p.width, 3 * DET_HEIGHT)
        if key > best_key:
            best, best_key = p, key
    if best is None:
        return None
    return (best.quad - PAD) / k


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops", default="../shared/benchmarks/us-crops")
    ap.add_argument("--out", default="training/cache/crops.pkl")
    args = ap.parse_args()
    det = TextLineDetector(max_side=2000, threads=1)
    with open(Path(args.crops) / "groundtruth.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    items, missing = [], 0
    for r in rows:
        img = cv2.imread(str(Path(args.crops) / r["image"]))
        if img is None:
            continue
        w = round(img.shape[1] * HEIGHT / img.shape[0])
        img = cv2.resize(img, (w, HEIGHT), interpolation=cv2.INTER_AREA)
        quad = main_line(det, img)
        if quad is None:
            missing += 1
            quad = np.float32(
                [
                    [0.06 * w, 0.25 * HEIGHT],
                    [0.94 * w, 0.25 * HEIGHT],
                    [0.94 * w, 0.8 * HEIGHT],
                    [0.06 * w, 0.8 * HEIGHT],
                ]
            )
        split = "val" if zlib.crc32(r["image"].encode()) % 10 == 0 else "train"
        items.append(
            {
                "image": img,
                "plate": r["plate"],
                "region": r["region"].upper(),
                "quad": quad,
                "split": split,
                "name": r["image"],
            }
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as f:
        pickle.dump(items, f)
    print(f"{len(items)} crops, {sum(i['split'] == 'val' for i in items)} val, {missing} without a detected line")


if __name__ == "__main__":
    main()
