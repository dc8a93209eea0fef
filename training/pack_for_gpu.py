"""Pack what a GPU training run needs into one small folder, for a host without the project's environment.

    .venv/bin/python training/pack_for_gpu.py        # after prepare_crops.py; writes training/cache/gpu/

The folder holds the prepared crops with their images as PNG (29 MB against the cache's 42 MB, lossless)
and the TrueType fonts the plate renderer uses here, so that the synthetic plates drawn there are drawn
as here. ``training/gpu_train.sh`` reads it. Both stay git-ignored: the crops are the benchmark's data.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
from pathlib import Path

import cv2

from alpr_lib.recognition.render import _font_files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops-cache", default="training/cache/crops.pkl")
    ap.add_argument("--out", default="training/cache/gpu")
    args = ap.parse_args()
    out = Path(args.out)
    (out / "fonts").mkdir(parents=True, exist_ok=True)
    with open(args.crops_cache, "rb") as f:
        items = pickle.load(f)
    packed = []
    for it in items:
        ok, png = cv2.imencode(".png", it["image"])
        assert ok, it["name"]
        packed.append({**it, "image": png.tobytes()})
    with open(out / "crops_png.pkl", "wb") as f:
        pickle.dump(packed, f)
    fonts = _font_files()
    for path in fonts:
        shutil.copy2(path, out / "fonts" / Path(path).name)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(packed)} crops, {len(fonts)} fonts -> {out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
