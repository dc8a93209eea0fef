"""Choose the second reader's window, weight and cap (rerank.py) on validation scenes (run by hand).

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_rerank.py        # ~2 min on one core

The us-crops *validation* plates (never trained on; ``training/prepare_crops.py`` makes the cache) are
pasted into synthetic car scenes at plate heights 24-48 px with two scene seeds (700 scenes). The engine
reads each scene without the second reader; the second reader then scores the best plate's candidates
through a few windows, and every (window, weight, cap) is scored by top-1 / top-5 on both seeds. The
end-to-end photos are never used here.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

from validate_scenes import scenes  # noqa: E402

from alpr_lib.recognition.pipeline import PlateRecognizer, expand_quad  # noqa: E402
from alpr_lib.recognition.rerank import SecondReader  # noqa: E402

HEIGHTS = (24, 30, 36, 42, 48)
WINDOWS = ((1.0, 1.0), (0.97, 0.95), (1.04, 1.15), (1.08, 1.3))


def collect(cache: str, seed: int, reader: SecondReader) -> list[dict]:
    engine = PlateRecognizer(second_reader=False)
    rows = []
    for s in scenes(cache, heights=HEIGHTS, seed=seed):
        rec = engine.recognize(s.image)
        row = {"truth": s.text, "ranked": [p for p, _c, _q in rec.ranked(5)], "cands": None, "ll": None}
        if rec.results:
            best = rec.results[0]
            row["cands"] = [(c.plate, c.score) for c in best.candidates]
            plates = [c.plate for c in best.candidates]
            row["ll"] = {w: reader.log_likelihoods(s.image, expand_quad(best.quad, *w), plates) for w in WINDOWS}
        rows.append(row)
    return rows


def score(rows: list[dict], window, weight: float, cap: float, pool: int = 10) -> tuple[float, float]:
    """Top-1 / top-5 when the second reader re-ranks the best plate's first ``pool`` candidates."""
    top1 = top5 = 0
    for r in rows:
        ranked = r["ranked"]
        if r["cands"] is not None and weight:
            ll = r["ll"][window]
            cands = r["cands"][:pool]
            best = max(ll[p] for p, _s in cands)
            order = sorted(cands, key=lambda c: -(c[1] + weight * max(ll[c[0]] - best, -cap)))
            first = [p for p, _s in order]
            ranked = (first + [p for p in ranked if p not in first])[:5]
        top1 += bool(ranked) and ranked[0] == r["truth"]
        top5 += r["truth"] in ranked
    return top1 / len(rows), top5 / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crops-cache", default=str(ROOT / "training" / "cache" / "crops.pkl"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 11])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "rerank_scenes.pkl")
    ap.add_argument("--fresh", action="store_true", help="re-read the scenes (after a model change)")
    args = ap.parse_args()
    if args.out.is_file() and not args.fresh:
        sets = pickle.loads(args.out.read_bytes())
    else:
        reader = SecondReader()
        sets = {seed: collect(args.crops_cache, seed, reader) for seed in args.seeds}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(pickle.dumps(sets))
    print("| window | weight | cap | " + " | ".join(f"seed {s} top-1 / top-5" for s in sets) + " |")
    print("|---|---|---|" + "---|" * len(sets))
    base = " | ".join("{:.3f} / {:.3f}".format(*score(rows, None, 0.0, 0.0)) for rows in sets.values())
    print(f"| (none) | 0 | - | {base} |")
    for window in WINDOWS:
        for weight in (0.3, 0.5, 1.0):
            for cap in (1.0, 2.0, 5.0):
                cells = " | ".join(
                    "{:.3f} / {:.3f}".format(*score(rows, window, weight, cap)) for rows in sets.values()
                )
                print(f"| {window} | {weight} | {cap} | {cells} |")
    print("\nHow many of the best plate's candidates to re-rank (window (1.0, 1.0), weight 0.5, cap 2):")
    for pool in (3, 5, 10):
        cells = " | ".join("{:.3f} / {:.3f}".format(*score(rows, (1.0, 1.0), 0.5, 2.0, pool)) for rows in sets.values())
        print(f"| pool {pool} | {cells} |")


if __name__ == "__main__":
    main()
