"""Scoring the engine against a ground-truth CSV (the shared openalpr benchmark format).

Ground truth: ``image,x,y,width,height,plate`` (end-to-end photos, plate box in pixels) or
``image,region,plate`` (crops, no box). Every listed image is scored; an image that cannot be read or in
which no plate is found counts as a miss, never as skipped.

Figures (fractions): ``top1`` exact match of the best plate; ``topn`` the plate among the first N distinct
candidates (the best plate's candidates, then other regions'); ``folded`` top-1 with O->0 and I->1 folded
on both sides; ``detection_recall`` a returned plate polygon overlaps the true box at IoU >= 0.3;
``median_s``/``p95_s`` wall seconds per image (decode + recognition, one process).
"""

from __future__ import annotations

import csv
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RecognitionError, ValidationError
from ..private_files import atomic_private
from .image import decode_image, read_image_file
from .pipeline import PlateRecognizer, Recognition
from .postprocess import normalise_plate

__all__ = ["EvalRow", "GroundTruth", "evaluate", "fold", "read_groundtruth", "summarise"]

PREDICTION_COLUMNS = ["image", "rank", "plate", "confidence", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"]


@dataclass(frozen=True)
class GroundTruth:
    image: str
    plate: str
    box: tuple[float, float, float, float] | None  # x, y, width, height


@dataclass(frozen=True)
class EvalRow:
    image: str
    truth: str
    predicted: str
    confidence: float
    rank: int | None  # 1-based rank of the truth among the candidates, None if absent
    iou: float | None
    seconds: float
    error: str
    candidates: tuple[tuple[str, float, tuple[float, ...]], ...]

    @property
    def top1(self) -> bool:
        return self.rank == 1


def fold(plate: str) -> str:
    return plate.replace("O", "0").replace("I", "1")


def read_groundtruth(path: str | Path) -> list[GroundTruth]:
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"ground-truth CSV not found: {p}")
    with open(p, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or [])
        if not {"image", "plate"} <= cols:
            raise ValidationError(
                f"{p} must have columns image,plate (and x,y,width,height for boxes); has {sorted(cols)}"
            )
        has_box = {"x", "y", "width", "height"} <= cols
        out = []
        for i, row in enumerate(reader, start=2):
            try:
                box = tuple(float(row[k]) for k in ("x", "y", "width", "height")) if has_box else None
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"{p} line {i}: bad box {row}") from exc
            out.append(GroundTruth(row["image"], normalise_plate(row["plate"]), box))  # type: ignore[arg-type]
    if not out:
        raise ValidationError(f"{p} lists no images")
    return out


def _iou_quad_box(quad: np.ndarray, box: tuple[float, float, float, float]) -> float:
    x0, y0 = quad.min(0)
    x1, y1 = quad.max(0)
    bx, by, bw, bh = box
    ix = max(0.0, min(x1, bx + bw) - max(x0, bx))
    iy = max(0.0, min(y1, by + bh) - max(y0, by))
    inter = ix * iy
    union = (x1 - x0) * (y1 - y0) + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0


def evaluate(
    image_dir: str | Path,
    truths: list[GroundTruth],
    recognizer: PlateRecognizer,
    top_n: int = 5,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> list[EvalRow]:
    rows = []
    items = progress(truths) if progress else truths
    for gt in items:
        t0 = time.perf_counter()
        error, rec = "", None
        try:
            rec = recognizer.recognize(decode_image(read_image_file(Path(image_dir) / gt.image), what=gt.image))
        except RecognitionError as exc:
            error = str(exc)
        seconds = time.perf_counter() - t0
        rows.append(_score(gt, rec, top_n, seconds, error))
    return rows


def _score(gt: GroundTruth, rec: Recognition | None, top_n: int, seconds: float, error: str) -> EvalRow:
    ranked = rec.ranked(top_n) if rec is not None else []
    plates = [p for p, _c, _q in ranked]
    rank = plates.index(gt.plate) + 1 if gt.plate in plates else None
    iou = None
    if gt.box is not None:
        quads = [r.quad for r in rec.results] if rec is not None else []
        iou = max((_iou_quad_box(q, gt.box) for q in quads), default=0.0)
    cands = tuple((p, round(float(c), 2), tuple(float(v) for v in q.reshape(-1))) for p, c, q in ranked)
    return EvalRow(
        gt.image,
        gt.plate,
        plates[0] if plates else "",
        float(ranked[0][1]) if ranked else 0.0,
        rank,
        iou,
        seconds,
        error,
        cands,
    )


def summarise(rows: list[EvalRow], top_n: int) -> dict[str, float | int | None]:
    n = len(rows)
    secs = np.array([r.seconds for r in rows]) if rows else np.zeros(1)
    ious = [r.iou for r in rows if r.iou is not None]
    return {
        "n": n,
        "top_n": top_n,
        "top1": sum(r.top1 for r in rows) / n if n else 0.0,
        "topn": sum(r.rank is not None for r in rows) / n if n else 0.0,
        "folded": sum(fold(r.predicted) == fold(r.truth) for r in rows) / n if n else 0.0,
        "detection_recall": (sum(i >= 0.3 for i in ious) / len(ious)) if ious else None,
        "median_s": float(np.median(secs)),
        "p95_s": float(np.percentile(secs, 95)),
        "errors": sum(bool(r.error) for r in rows),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def write_predictions(rows: list[EvalRow], path: str | Path) -> None:
    with atomic_private(path, "w", encoding="utf-8") as f:  # plates: 0600 whatever the umask
        w = csv.writer(f)
        w.writerow(PREDICTION_COLUMNS)
        for r in rows:
            if not r.candidates:
                w.writerow([r.image, 1, "", 0.0] + [""] * 8)
            for i, (plate, conf, coords) in enumerate(r.candidates, start=1):
                w.writerow([r.image, i, plate, f"{conf:.2f}"] + [f"{v:.1f}" for v in coords])


def write_failures(rows: list[EvalRow], path: str | Path) -> None:
    with atomic_private(path, "w", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["image", "truth", "predicted", "confidence", "truth_rank", "iou", "seconds", "error", "candidates"])
        for r in rows:
            if r.top1:
                continue
            w.writerow(
                [
                    r.image,
                    r.truth,
                    r.predicted,
                    f"{r.confidence:.2f}",
                    r.rank or "",
                    "" if r.iou is None else f"{r.iou:.2f}",
                    f"{r.seconds:.3f}",
                    r.error,
                    " ".join(p for p, _c, _q in r.candidates),
                ]
            )
