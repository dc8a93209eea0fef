"""Train the plate / not-plate classifier on the detector's proposals in synthetic scenes (one CPU core).

    OMP_NUM_THREADS=1 .venv/bin/python training/train_verifier.py          # ~5 min; writes the model

Scenes: the us-crops *training* split and rendered plates in car scenes (640x480 and 1280x720, plates
16-60 px tall), with painted non-plate lines (``render.paint_distractors``: fleet, phone, business, DOT
numbers, web text, stickers, state names). The engine's detector proposes lines; a proposal is a plate
when its centre lies on the plate and it spans most of the plate's width, not one when it lies off the
plate or is a small line on it (state name, slogan); others are skipped. Held out: scenes of the
validation crops (never trained on), for the reported accuracy. Logistic regression (L2, full-batch
Newton steps) on standardised features; the end-to-end photos are never used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alpr_lib.recognition.detector import TextLineDetector  # noqa: E402
from alpr_lib.recognition.render import paint_distractors, render_scene  # noqa: E402
from alpr_lib.recognition.verifier import MODEL_NAME, context_features  # noqa: E402

MODELS = ROOT / "alpr_lib" / "recognition" / "models"


def labelled(det: TextLineDetector, items: list[dict], n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(n):
        size = (640, 480) if rng.random() < 0.6 else (1280, 720)
        ph = int(np.exp(rng.uniform(np.log(16), np.log(60))))
        if items and rng.random() < 0.5:
            it = items[int(rng.integers(len(items)))]
            s = render_scene(it["plate"], rng, size=size, plate_height=ph, plate_image=it["image"])
        else:
            s = render_scene(None, rng, size=size, plate_height=ph)
        img, _lines = paint_distractors(s.image, rng, s.quad, count=int(rng.integers(1, 4)))
        if rng.random() < 0.5:
            img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.0))
        if rng.random() < 0.5:
            _ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
            img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
        plate = s.quad.astype(np.float32)
        pw = float(np.linalg.norm(plate[1] - plate[0]))
        phh = float(np.linalg.norm(plate[3] - plate[0]))
        c = plate.mean(0)
        grown = (plate - c) * 1.15 + c
        props, labels = [], []
        for p in det(img):
            pc = tuple(float(v) for v in p.quad.mean(0))
            on = cv2.pointPolygonTest(plate, pc, False) >= 0
            near = cv2.pointPolygonTest(grown, pc, False) >= 0
            if on and p.height >= 0.3 * phh and p.width >= 0.45 * pw:
                label = 1
            elif not near or (on and p.height < 0.25 * phh):
                label = 0
            else:
                continue
            props.append(p)
            labels.append(label)
        if props:
            xs.append(context_features(img, props))
            ys.extend(labels)
        if (k + 1) % 250 == 0:
            print(f"  {k + 1}/{n} scenes, {len(ys)} proposals ({int(np.sum(ys))} plates)", flush=True)
    return np.concatenate(xs), np.asarray(ys, np.float32)


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 12) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (a few hundred features: exact and fast)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1), np.float32)]).astype(np.float64)
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg)
        w -= np.linalg.solve(hess, grad)
    return w[:-1].astype(np.float32), float(w[-1])


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = y == 1
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crops-cache", default=str(ROOT / "training" / "cache" / "crops.pkl"))
    ap.add_argument("--scenes", type=int, default=2400)
    ap.add_argument("--val-scenes", type=int, default=500)
    ap.add_argument("--l2", type=float, nargs="+", default=[1.0, 10.0, 100.0, 1000.0])
    ap.add_argument("--out", default=str(MODELS / MODEL_NAME))
    args = ap.parse_args()
    with open(args.crops_cache, "rb") as f:
        items = pickle.load(f)
    det = TextLineDetector(threads=1)
    print("training scenes (us-crops train split + rendered plates)", flush=True)
    x, y = labelled(det, [i for i in items if i["split"] == "train"], args.scenes, seed=1)
    print("validation scenes (us-crops validation split + rendered plates)", flush=True)
    vx, vy = labelled(det, [i for i in items if i["split"] == "val"], args.val_scenes, seed=2)
    mean, scale = x.mean(0), x.std(0) + 1e-3
    xs, vxs = (x - mean) / scale, (vx - mean) / scale
    best = None
    for l2 in args.l2:
        w, b = fit(xs, y, l2)
        s = vxs @ w + b
        acc = float(np.mean((s > 0) == (vy == 1)))
        a = auc(s, vy)
        print(f"l2={l2:g}: validation AUC {a:.4f}, accuracy {acc:.4f}", flush=True)
        if best is None or a > best[0]:
            best = (a, acc, l2, w, b)
    a, acc, l2, w, b = best
    out = Path(args.out)
    np.savez_compressed(
        out, mean=mean.astype(np.float32), scale=scale.astype(np.float32), weights=w, bias=np.float32(b)
    )
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_name(out.name + ".sha256").write_text(f"{digest}  {out.name}\n", encoding="ascii")
    meta = {
        "model": "logistic regression on HOG (64x32 grey context window) + log aspect",
        "features": int(x.shape[1]),
        "l2": l2,
        "train_proposals": len(y),
        "train_plates": int(y.sum()),
        "val_proposals": len(vy),
        "val_auc": round(a, 4),
        "val_accuracy": round(acc, 4),
        "training_data": "synthetic scenes: us-crops train split (AGPL-3.0) and rendered plates, painted distractors",
        "sha256": digest,
    }
    out.with_name("plate_verifier.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size / 1e3:.1f} kB) sha256={digest} l2={l2:g} AUC={a:.4f} acc={acc:.4f}")


if __name__ == "__main__":
    main()
