"""Train the plate recognizer on us-crops (train split) + synthetic plates, on one CPU thread.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup .venv/bin/python training/train.py --minutes 90 \
        --out training/runs/crnn > training/runs/crnn.log 2>&1 &

``--init-onnx alpr_lib/recognition/models/plate_crnn.onnx`` continues from the shipped model (its
BatchNorm layers stay frozen, see ``warm_start.py``), e.g. with ``--lr 8e-4`` for a second run.

Checkpoints: OUT/last.pt every --ckpt-every steps, OUT/best.pt whenever validation exact-match improves
(validation: the us-crops val split, cut at three plate heights, two window sizes; never us-endtoend).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data
from model import PlateCRNN
from warm_start import freeze_batchnorm, from_onnx

from alpr_lib.recognition.formats import ALPHABET
from alpr_lib.recognition.ocr import cut_window, to_input


def encode(labels: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    idx = [ALPHABET.index(c) + 1 for lab in labels for c in lab]
    return torch.tensor(idx, dtype=torch.long), torch.tensor([len(lab) for lab in labels], dtype=torch.long)


def greedy(logp: np.ndarray) -> list[str]:
    out = []
    for seq in logp.argmax(-1):
        chars, prev = [], 0
        for k in seq:
            if k != prev and k != 0:
                chars.append(ALPHABET[k - 1])
            prev = k
        out.append("".join(chars))
    return out


def val_set(items: list[dict]) -> tuple[np.ndarray, list[str]]:
    import cv2

    wins, labels = [], []
    for it in items:
        img = it["image"]
        for ph in (24, 34, 48):
            k = ph / img.shape[0]
            small = cv2.resize(img, (int(img.shape[1] * k), ph), interpolation=cv2.INTER_AREA)
            small = cv2.copyMakeBorder(small, ph, ph, ph, ph, cv2.BORDER_REPLICATE)
            h, w = small.shape[:2]
            full = np.float32([[ph, ph], [w - ph, ph], [w - ph, h - ph], [ph, h - ph]])
            c = full.mean(0)
            for sc in ((1.0, 1.0), (1.08, 1.25)):
                wins.append(cut_window(small, (full - c) * sc + c))
                labels.append(it["plate"])
    return to_input(wins), labels


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops-cache", default="training/cache/crops.pkl")
    ap.add_argument("--out", default="training/runs/crnn")
    ap.add_argument("--minutes", type=float, default=90)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--real-fraction", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--resume", default=None)
    ap.add_argument("--init-onnx", default=None, help="start from this exported model (BatchNorm frozen)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(args.crops_cache, "rb") as f:
        items = pickle.load(f)
    train_items = [i for i in items if i["split"] == "train"]
    vx, vlabels = val_set([i for i in items if i["split"] == "val"])
    model = from_onnx(args.init_onnx) if args.init_onnx else PlateCRNN()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    step, best = 0, -1.0
    if args.resume:
        ck = torch.load(args.resume, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, best = ck["step"], ck.get("best", -1.0)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    deadline = time.time() + args.minutes * 60
    total_est = None
    t0, losses = time.time(), []
    print(
        f"params={sum(p.numel() for p in model.parameters())} train={len(train_items)} val={len(vlabels)}", flush=True
    )
    while time.time() < deadline:
        # cosine learning rate over the time budget (time-based: the budget is wall-clock minutes)
        frac = min(1.0, (time.time() - t0) / (deadline - t0))
        lr = args.lr * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * frac))) if step > 300 else args.lr * (step + 1) / 300
        for g in opt.param_groups:
            g["lr"] = lr
        wins, labels = [], []
        for _ in range(args.batch):
            if rng.random() < args.real_fraction:
                w, lab = data.real(rng, train_items[int(rng.integers(len(train_items)))])
            else:
                w, lab = data.synthetic(rng)
            wins.append(w)
            labels.append(lab)
        x = torch.from_numpy(to_input(wins))
        model.train()
        if args.init_onnx:
            freeze_batchnorm(model)
        logp = model(x)
        targets, tlens = encode(labels)
        loss = ctc(logp.permute(1, 0, 2), targets, torch.full((len(labels),), logp.shape[1], dtype=torch.long), tlens)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % args.ckpt_every == 0:
            model.eval()
            with torch.no_grad():
                pred = greedy(model(torch.from_numpy(vx)).numpy())
            acc = float(np.mean([p == t for p, t in zip(pred, vlabels, strict=True)]))
            ck = {
                "model": model.state_dict(),
                "opt": opt.state_dict(),
                "step": step,
                "best": max(best, acc),
                "val": acc,
            }
            torch.save(ck, out / "last.pt")
            if acc > best:
                best = acc
                torch.save(ck, out / "best.pt")
            el = time.time() - t0
            print(
                f"step={step} loss={np.mean(losses):.4f} val_exact={acc:.4f} best={best:.4f} lr={lr:.5f} "
                f"elapsed={el / 60:.1f}min",
                flush=True,
            )
            losses = []
    print("done", flush=True)
    del total_est


if __name__ == "__main__":
    main()
