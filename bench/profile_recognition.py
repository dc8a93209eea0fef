"""Where the recognition engine's time goes: each ONNX model's share, and everything else (run by hand).

    OMP_NUM_THREADS=1 .venv/bin/python bench/profile_recognition.py            # the 144 shared photos
    OMP_NUM_THREADS=1 .venv/bin/python bench/profile_recognition.py --ops      # + the detector's ops

Every ``onnxruntime.InferenceSession.run`` of the engine is timed, by model file; what is left of a
photo's time is the Python and OpenCV around the models. ``--ops`` then runs the text detector under
onnxruntime's own profiler on the first photos and sums its nodes by operator. Whole-engine accuracy
and median time stay with ``bench_recognition.py``; this says which part a speed-up has to come from.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "benchmarks" / "us-endtoend"


class SessionTimer:
    """Times every ``InferenceSession.run`` in this process by model file name while active."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()
        self.items: collections.Counter[str] = collections.Counter()
        self._orig = ort.InferenceSession.run

    def __enter__(self) -> SessionTimer:
        timer, orig = self, self._orig

        def run(session, output_names, feeds, *args, **kwargs):
            t0 = time.perf_counter()
            out = orig(session, output_names, feeds, *args, **kwargs)
            name = Path(getattr(session, "_model_path", "") or "?").name
            timer.seconds[name] += time.perf_counter() - t0
            timer.calls[name] += 1
            timer.items[name] += int(next(iter(feeds.values())).shape[0])
            return out

        ort.InferenceSession.run = run
        return self

    def __exit__(self, *exc) -> None:
        ort.InferenceSession.run = self._orig

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
        self.items.clear()


def profile_models(images: list[np.ndarray]) -> dict:
    """Mean ms a photo in each model and outside them, over ``images`` (one warm-up photo first)."""
    from alpr_lib.recognition.pipeline import PlateRecognizer

    with SessionTimer() as timer:
        engine = PlateRecognizer(top_n=10)
        engine.recognize(images[0])
        timer.reset()
        t0 = time.perf_counter()
        for image in images:
            engine.recognize(image)
        total = time.perf_counter() - t0
    n = len(images)
    models = {
        name: {"ms_per_photo": 1000 * s / n, "calls": timer.calls[name], "items": timer.items[name]}
        for name, s in timer.seconds.most_common()
    }
    return {
        "photos": n,
        "ms_per_photo": 1000 * total / n,
        "models": models,
        "outside_models_ms_per_photo": 1000 * (total - sum(timer.seconds.values())) / n,
    }


def profile_detector_ops(images: list[np.ndarray]) -> dict[str, float]:
    """The text detector's ms a photo by operator type, from onnxruntime's profiler."""
    from alpr_lib.recognition.detector import TextLineDetector

    detector = TextLineDetector()
    inputs = [detector._prepare(image, detector.max_side) for image in images]
    with tempfile.TemporaryDirectory() as tmp:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(tmp) / "detector")
        session = ort.InferenceSession(str(detector.model_path), opts, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        for x in inputs:
            session.run(None, {name: x})
        events = json.loads(Path(session.end_profiling()).read_text())
    by_op: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] += e["dur"] / 1000 / len(inputs)
    return dict(by_op.most_common())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, default=DEFAULT_SET, help="a folder of .jpg/.png photos")
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all)")
    ap.add_argument("--ops", action="store_true", help="also profile the detector's operators (10 photos)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "recognition_profile.json")
    args = ap.parse_args(argv)
    files = sorted(p for p in args.images.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if args.limit:
        files = files[: args.limit]
    images = [im for im in (cv2.imread(str(p)) for p in files) if im is not None]
    if not images:
        print(f"no photos in {args.images} (the shared benchmarks live in ../shared/benchmarks)", file=sys.stderr)
        return 2
    report = profile_models(images)
    print(f"{report['photos']} photos, {report['ms_per_photo']:.1f} ms a photo (mean)")
    for name, m in report["models"].items():
        print(f"  {name:32s} {m['ms_per_photo']:7.1f} ms   {m['calls']} calls, {m['items']} inputs")
    print(f"  {'outside the models':32s} {report['outside_models_ms_per_photo']:7.1f} ms")
    if args.ops:
        report["detector_ops_ms_per_photo"] = ops = profile_detector_ops(images[:10])
        total = sum(ops.values())
        print(f"text detector by operator ({min(10, len(images))} photos, {total:.1f} ms a photo):")
        for op, ms in list(ops.items())[:10]:
            print(f"  {op:24s} {ms:7.1f} ms  {100 * ms / total:5.1f}%")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
