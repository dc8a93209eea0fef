"""Render the demo scene images in data_samples/images/ (synthetic cars with US plates).

    .venv/bin/python data_samples/make_plate_images.py [--count 15] [--seed 462]

Each image gets a JSON sidecar (capture time and place, as a camera would record it) so that
``alpr recognize data_samples/images --camera DEMO-1`` works without --lat/--lon, and the plates are
listed in data_samples/images/groundtruth.csv (the shared benchmark format) for
``alpr eval-recognition data_samples/images --groundtruth data_samples/images/groundtruth.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from alpr_lib.recognition.render import random_plate_text, render_scene

OUT = Path(__file__).resolve().parent / "images"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=15)
    ap.add_argument("--seed", type=int, default=462)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    start = datetime(2024, 5, 1, 15, 0, tzinfo=UTC)
    rows = []
    for i in range(args.count):
        text, _region = random_plate_text(rng)
        while not 5 <= len(text) <= 7:
            text, _region = random_plate_text(rng)
        scene = render_scene(text, rng, size=(480, 360), plate_height=int(rng.integers(34, 48)))
        name = f"car_{i + 1:02d}.jpg"
        cv2.imwrite(str(args.out / name), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        side = {
            "captured_at": (start + timedelta(minutes=7 * i)).isoformat().replace("+00:00", "Z"),
            "lat": round(34.05 + 0.002 * i, 6),
            "lon": round(-118.25 - 0.0015 * i, 6),
            "heading": float((90 * i) % 360),
        }
        (args.out / f"car_{i + 1:02d}.json").write_text(json.dumps(side, indent=2) + "\n")
        x0, y0 = scene.quad.min(0)
        x1, y1 = scene.quad.max(0)
        rows.append([name, int(x0), int(y0), int(x1 - x0), int(y1 - y0), scene.text])
    with open(args.out / "groundtruth.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "x", "y", "width", "height", "plate"])
        w.writerows(rows)
    print(f"wrote {len(rows)} images to {args.out}")


if __name__ == "__main__":
    main()
