#!/usr/bin/env bash
# Train recognizer candidates on a GPU host that has python3 with torch, opencv, onnx, onnxruntime and
# pillow but not the project's environment. Run from the repository root, after
# `.venv/bin/python training/pack_for_gpu.py` here and with training/cache/gpu copied there:
#
#     bash training/gpu_train.sh MINUTES [OUT]        # OUT: training/runs/gpu (or $OUT)
#
# Samples are drawn by all cores but one (drawing, not the GPU, bounds such a run); three models step on
# the same batches: two from scratch (different initial weights) and one from the shipped model. OUT gets
# train.log and m{0,1,2}_{best,last}.pt without optimizer state; export.py turns one into a candidate.
set -u
MIN="${1:?minutes}"
OUT="${2:-${OUT:-training/runs/gpu}}"
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
W=$(($(nproc) - 1)) # before OMP_NUM_THREADS=1, which nproc obeys
echo "== workers=$W"
nvidia-smi --query-gpu=name,memory.used --format=csv,noheader || true
python3 -c "import torch, cv2, onnx, onnxruntime, PIL; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" || exit 3
# the renderer looks for its fonts in the system's font folder
mkdir -p /usr/share/fonts/truetype/dejavu && cp -n training/cache/gpu/fonts/*.ttf /usr/share/fonts/truetype/dejavu/
# alpr_lib without its package __init__ (which imports the whole product): training needs recognition only
pkg=$(mktemp -d)
mkdir -p "$pkg/alpr_lib" && : >"$pkg/alpr_lib/__init__.py"
cp alpr_lib/errors.py "$pkg/alpr_lib/" && cp -r alpr_lib/recognition "$pkg/alpr_lib/"
export PYTHONPATH="$pkg" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONUNBUFFERED=1
python3 - "$pkg/crops.pkl" <<'PY' || exit 4
import pickle, sys, cv2, numpy as np
items = pickle.load(open("training/cache/gpu/crops_png.pkl", "rb"))
for it in items:
    it["image"] = cv2.imdecode(np.frombuffer(it["image"], np.uint8), cv2.IMREAD_COLOR)
pickle.dump(items, open(sys.argv[1], "wb"))
print("crops", len(items))
PY
timeout $((${MIN%.*} * 60 + 120)) python3 training/train.py --crops-cache "$pkg/crops.pkl" --out "$pkg/runs" \
  --minutes "$MIN" --workers "$W" --device "${DEVICE:-cuda}" --ckpt-every "${CKPT:-500}" --seed 100 \
  --inits scratch scratch alpr_lib/recognition/models/plate_crnn.onnx --lrs 2e-3 2e-3 8e-4 2>&1 | tee "$OUT/train.log"
python3 - "$pkg/runs" "$OUT" <<'PY'
import pathlib, sys, torch
runs, out = (pathlib.Path(a) for a in sys.argv[1:])
for d in sorted(runs.glob("m*")):
    for name in ("best", "last"):
        if (d / f"{name}.pt").exists():
            ck = torch.load(d / f"{name}.pt", weights_only=False, map_location="cpu")
            ck.pop("opt", None)
            torch.save(ck, out / f"{d.name}_{name}.pt")
            print(d.name, name, "step", ck["step"], "val", round(ck["val"], 4))
PY
