"""Export a training checkpoint to ONNX, ship it in the package and pin its SHA-256.

    .venv/bin/python training/export.py training/runs/crnn/best.pt

Writes alpr_lib/recognition/models/plate_crnn.onnx (+ .sha256, + plate_crnn.json with provenance) and
checks that onnxruntime reproduces the torch outputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import INPUT_H, INPUT_W, PlateCRNN

MODELS = Path(__file__).resolve().parent.parent / "alpr_lib" / "recognition" / "models"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--out", default=str(MODELS / "plate_crnn.onnx"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.checkpoint, weights_only=False, map_location="cpu")
    model = PlateCRNN()
    model.load_state_dict(ck["model"])
    model.eval()
    x = torch.rand(2, 3, INPUT_H, INPUT_W) - 0.5
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (x,),
        str(out),
        input_names=["image"],
        output_names=["logprobs"],
        dynamic_axes={"image": {0: "n"}, "logprobs": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    import onnxruntime as ort

    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    ref = model(x).detach().numpy()
    got = sess.run(None, {"image": x.numpy()})[0]
    err = float(np.abs(ref - got).max())
    assert err < 1e-3, f"onnx output differs from torch by {err}"
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_name(out.name + ".sha256").write_text(f"{digest}  {out.name}\n", encoding="ascii")
    meta = {
        "model": "PlateCRNN (conv x6 + BiLSTM 96 + CTC)",
        "params": sum(p.numel() for p in model.parameters()),
        "input": "N x 3 x 32 x 128 BGR / 255 - 0.5",
        "alphabet": "blank + 0-9 A-Z",
        "checkpoint_step": ck.get("step"),
        "val_exact_us_crops": ck.get("val"),
        "training_data": (
            "openalpr benchmarks us-crops train split (AGPL-3.0) + synthetic plates (alpr_lib.recognition.render)"
        ),
        "sha256": digest,
    }
    out.with_name("plate_crnn.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(
        f"exported {out} ({out.stat().st_size / 1e6:.2f} MB) sha256={digest} "
        f"step={ck.get('step')} val={ck.get('val')} max_err={err:.2e}"
    )


if __name__ == "__main__":
    main()
