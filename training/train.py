"""Train the plate recognizer on us-crops (train split) + synthetic plates, on one CPU thread.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup .venv/bin/python training/train.py --minutes 90 \
        --out training/runs/crnn > training/runs/crnn.log 2>&1 &

On a machine with a GPU and many cores the samples are drawn by ``--workers`` processes and the
models step on ``--device cuda``; ``--inits scratch scratch SHIPPED.onnx`` trains several models on
the same stream of batches (each its own optimizer, ``--lrs`` each its own rate, OUT/m0, OUT/m1, ...),
since drawing samples, not the GPU, is what such a run spends its time on.

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


def make_batch(rng: np.random.Generator, train_items: list[dict], batch: int, real_fraction: float):
    """One batch of training windows (N x 32 x 128 x 3 BGR uint8: a quarter of the float input's bytes
    between processes) and their labels."""
    wins, labels = [], []
    for _ in range(batch):
        if rng.random() < real_fraction:
            w, lab = data.real(rng, train_items[int(rng.integers(len(train_items)))])
        else:
            w, lab = data.synthetic(rng)
        wins.append(w)
        labels.append(lab)
    return np.stack(wins), labels


def model_input(windows: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 N x 32 x 128 x 3 -> the model's N x 3 x 32 x 128 float input, as ``ocr.to_input`` computes it."""
    x = windows.to(device, non_blocking=True).float() / 255.0 - 0.5
    return x.permute(0, 3, 1, 2).contiguous()


class BatchStream(torch.utils.data.IterableDataset):
    """Endless batches; each DataLoader worker draws from its own generator (seed, worker id)."""

    def __init__(self, train_items: list[dict], batch: int, real_fraction: float, seed: int) -> None:
        self.train_items, self.batch, self.real_fraction, self.seed = train_items, batch, real_fraction, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        torch.set_num_threads(1)
        rng = np.random.default_rng([self.seed, info.id if info else 0])
        while True:
            yield make_batch(rng, self.train_items, self.batch, self.real_fraction)


def batches(args, train_items: list[dict]):
    if args.workers <= 0:  # in this process, from the run's own generator (the one-core recipe)
        rng = np.random.default_rng(args.seed)
        while True:
            x, labels = make_batch(rng, train_items, args.batch, args.real_fraction)
            yield torch.from_numpy(x), labels
    loader = torch.utils.data.DataLoader(
        BatchStream(train_items, args.batch, args.real_fraction, args.seed),
        batch_size=None,
        num_workers=args.workers,
        prefetch_factor=2,
        persistent_workers=True,
    )
    for x, labels in loader:
        yield torch.as_tensor(x), list(labels)


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
    ap.add_argument("--resume", default=None, help="continue a one-model run from its last.pt")
    ap.add_argument("--init-onnx", default=None, help="start from this exported model (BatchNorm frozen)")
    ap.add_argument("--inits", nargs="+", default=None, help="several models: 'scratch' or an exported .onnx each")
    ap.add_argument("--lrs", type=float, nargs="+", default=None, help="with --inits: a learning rate each")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=0, help="sample-drawing processes (0: in this process)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(args.crops_cache, "rb") as f:
        items = pickle.load(f)
    train_items = [i for i in items if i["split"] == "train"]
    vx_np, vlabels = val_set([i for i in items if i["split"] == "val"])
    vx = torch.from_numpy(vx_np).to(device)
    inits = args.inits or [args.init_onnx or "scratch"]
    lrs = args.lrs or [args.lr] * len(inits)
    assert len(lrs) == len(inits), "--lrs needs one rate per --inits entry"
    runs = []
    for k, (init, base_lr) in enumerate(zip(inits, lrs, strict=True)):
        torch.manual_seed(args.seed + k)
        model = PlateCRNN() if init == "scratch" else from_onnx(init)
        model.to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=1e-4)
        run = {"model": model, "opt": opt, "lr": base_lr, "warm": init != "scratch", "best": -1.0, "losses": []}
        run["dir"] = out if len(inits) == 1 else out / f"m{k}"
        run["dir"].mkdir(parents=True, exist_ok=True)
        runs.append(run)
    step = 0
    if args.resume:
        assert len(runs) == 1, "--resume continues a one-model run"
        ck = torch.load(args.resume, weights_only=False, map_location=device)
        runs[0]["model"].load_state_dict(ck["model"])
        runs[0]["opt"].load_state_dict(ck["opt"])
        step, runs[0]["best"] = ck["step"], ck.get("best", -1.0)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    deadline = time.time() + args.minutes * 60
    t0 = time.time()
    print(
        f"params={sum(p.numel() for p in runs[0]['model'].parameters())} train={len(train_items)} "
        f"val={len(vlabels)} models={inits} lrs={lrs} device={device} workers={args.workers}",
        flush=True,
    )
    stream = batches(args, train_items)
    while time.time() < deadline:
        # cosine learning rate over the time budget (time-based: the budget is wall-clock minutes)
        frac = min(1.0, (time.time() - t0) / (deadline - t0))
        scale = (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * frac))) if step > 300 else (step + 1) / 300
        xb, labels = next(stream)
        x = model_input(xb, device)
        targets, tlens = (t.to(device) for t in encode(labels))
        for run in runs:
            model, opt = run["model"], run["opt"]
            for g in opt.param_groups:
                g["lr"] = run["lr"] * scale
            model.train()
            if run["warm"]:
                freeze_batchnorm(model)
            logp = model(x)
            in_lens = torch.full((len(labels),), logp.shape[1], dtype=torch.long, device=device)
            loss = ctc(logp.permute(1, 0, 2), targets, in_lens, tlens)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            run["losses"].append(loss.detach())
        step += 1
        if step % args.ckpt_every == 0:
            el = time.time() - t0
            for k, run in enumerate(runs):
                model = run["model"]
                model.eval()
                with torch.no_grad():
                    pred = greedy(model(vx).cpu().numpy())
                acc = float(np.mean([p == t for p, t in zip(pred, vlabels, strict=True)]))
                ck = {
                    "model": {n: v.detach().cpu() for n, v in model.state_dict().items()},
                    "opt": run["opt"].state_dict(),
                    "step": step,
                    "best": max(run["best"], acc),
                    "val": acc,
                }
                torch.save(ck, run["dir"] / "last.pt")
                if acc > run["best"]:
                    run["best"] = acc
                    torch.save(ck, run["dir"] / "best.pt")
                loss_mean = float(torch.stack(run["losses"]).mean())
                run["losses"] = []
                tag = "" if len(runs) == 1 else f"model={k} "
                print(
                    f"{tag}step={step} loss={loss_mean:.4f} val_exact={acc:.4f} best={run['best']:.4f} "
                    f"lr={run['lr'] * scale:.5f} elapsed={el / 60:.1f}min",
                    flush=True,
                )
    print("done", flush=True)


if __name__ == "__main__":
    main()
