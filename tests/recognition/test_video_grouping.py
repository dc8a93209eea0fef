"""Video plate grouping (issue 17, part 4): one fused read per vehicle, on synthetic read lists and on a
clip generated from a real crop (or a rendered plate where ../shared is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from alpr_lib.recognition import recognize_paths, render_plate
from alpr_lib.recognition.grouping import FrameRead, fuse_group, group_and_fuse, group_reads

CROPS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "us-crops"


def _quad(cx: float, cy: float, w: float) -> np.ndarray:
    h = w / 2
    return np.float32([[cx - w / 2, cy - h / 2], [cx + w / 2, cy - h / 2], [cx + w / 2, cy + h / 2],
                       [cx - w / 2, cy + h / 2]])


def _read(t, plate, conf, cx, cy=300.0, w=100.0, **kw) -> FrameRead:
    return FrameRead(t=t, plate=plate, confidence=conf, quad=_quad(cx, cy, w), **kw)


def test_one_vehicle_one_fused_read():
    texts = ["7ABC123", "7ABC128", "7A8C123", "7ABC123", "ABC123", "7ABC1233", "7ABC123"]
    reads = [_read(0.1 * k, t, 80.0, 200 + 15 * k, w=100 + 4 * k) for k, t in enumerate(texts)]
    fused = group_and_fuse(reads)
    assert len(fused) == 1
    f = fused[0]
    assert f.plate == "7ABC123" and f.frames == len(texts)
    assert f.best.plate == "7ABC123" and 0 < f.confidence <= 100


def test_confidence_weights_the_vote():
    reads = [_read(0, "5XYZ901", 95, 100), _read(0.1, "5XY2901", 40, 110), _read(0.2, "5XY2901", 40, 120)]
    assert fuse_group(reads).plate == "5XYZ901"  # 95 > 40 + 40
    per_char = [_read(0, "5XYZ901", 60, 100, char_confidences=(1, 1, 1, 0.1, 1, 1, 1)),
                _read(0.1, "5XY2901", 60, 110, char_confidences=(1, 1, 1, 0.9, 1, 1, 1))]
    assert fuse_group(per_char).plate == "5XY2901"  # the per-character confidences decide


def test_two_vehicles_interleaved_stay_apart():
    a = [_read(0.1 * k, "7ABC123", 85, 200 + 10 * k) for k in range(6)]
    b = [_read(0.1 * k + 0.01, "KXM4821", 85, 700 - 10 * k) for k in range(6)]
    fused = group_and_fuse(a + b)
    assert sorted(f.plate for f in fused) == ["7ABC123", "KXM4821"]
    assert all(f.frames == 6 for f in fused)


def test_same_text_far_away_or_later_is_another_vehicle():
    reads = [_read(0, "7ABC123", 85, 100), _read(0.1, "7ABC123", 85, 110),
             _read(0.2, "7ABC123", 85, 900),  # across the frame: too far for one step
             _read(9.0, "7ABC123", 85, 120)]  # seen again much later
    assert [len(g) for g in group_reads(reads)] == [2, 1, 1]


def test_one_read_per_frame_and_group():
    reads = [_read(0, "7ABC123", 85, 100, frame=0), _read(0, "7ABC128", 60, 130, frame=0)]
    assert len(group_reads(reads)) == 2


def test_constant_velocity_prediction():
    # a plate speeding up: 1.5 widths per step is over max_shift=1.2 from its last position, but it is
    # where the last two reads say it is heading
    reads = [_read(k * 1.0, "7ABC123", 85, x) for k, x in enumerate([100, 200, 350, 500, 650])]
    assert [len(g) for g in group_reads(reads, max_shift=1.2)] == [5]
    jump = [_read(0, "7ABC123", 85, 100), _read(1, "7ABC123", 85, 250)]  # no velocity yet: too far
    assert len(group_reads(jump, max_shift=1.2)) == 2


def test_region_vote():
    reads = [_read(0, "7ABC123", 85, 100, region="ca", region_confidence=90),
             _read(0.1, "7ABC123", 85, 110, region="ca", region_confidence=70),
             _read(0.2, "7ABC123", 85, 120, region="nv", region_confidence=30),
             _read(0.3, "7ABC123", 85, 130)]
    f = fuse_group(reads)
    assert f.region == "ca" and 0 < f.region_confidence < 80
    with pytest.raises(ValueError):
        fuse_group([_read(0, "", 0, 0)])


def _crop() -> tuple[np.ndarray, str]:
    if (CROPS / "groundtruth.csv").is_file():
        with open(CROPS / "groundtruth.csv", encoding="utf-8") as f:
            row = next(r for r in csv.DictReader(f) if r["region"] == "ca")  # the first California crop
        return cv2.imread(str(CROPS / row["image"])), row["plate"]
    p = render_plate("6KDE251", np.random.default_rng(5), region="CA", height=160)
    return p.image, "6KDE251"


def _clip(path: Path, crop: np.ndarray, frames: int = 8, fps: float = 5.0) -> None:
    rng = np.random.default_rng(1)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 400))
    assert writer.isOpened()
    for k in range(frames):
        frame = np.full((400, 640, 3), (90, 110, 120), np.uint8)
        cv2.rectangle(frame, (150 + 8 * k, 120), (470 + 8 * k, 330), (40, 40, 160), -1)  # the car
        pw = 120 + 8 * k
        ph = int(pw * crop.shape[0] / crop.shape[1])
        x0, y0 = 250 + 8 * k - pw // 2 + 60, 220 - ph // 2
        frame[y0 : y0 + ph, x0 : x0 + pw] = cv2.resize(crop, (pw, ph), interpolation=cv2.INTER_AREA)
        frame = cv2.GaussianBlur(frame, (0, 0), 0.6 + 0.1 * (k % 3))
        _ok, enc = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 80))])
        writer.write(cv2.imdecode(enc, cv2.IMREAD_COLOR))
    writer.release()


def test_generated_clip_yields_one_fused_read(tmp_path):
    crop, plate = _crop()
    clip = tmp_path / "drive.mp4"
    _clip(clip, crop)
    (tmp_path / "drive.mp4.json").write_text('{"captured_at": "2026-05-01T10:00:00-07:00", "lat": 34.1, "lon": -118.3}')
    per_frame = recognize_paths([clip], "CAM-V1", frame_step_s=0.2, group_video=False, detect_region=False)
    assert not per_frame.errors
    assert per_frame.reads.height >= 6  # one read per frame (8 frames)
    crops = tmp_path / "crops"
    grouped = recognize_paths([clip], "CAM-V1", frame_step_s=0.2, crops_dir=crops)
    assert not grouped.errors
    assert grouped.reads.height == 1, grouped.reads
    read = grouped.reads.row(0, named=True)
    assert read["plate"] == plate
    assert read["image_ref"].startswith(f"{clip}#t=")
    assert read["region"] in (None, "CA")
    assert list(grouped.crops) == [read["read_id"]] and Path(grouped.crops[read["read_id"]]).is_file()
    assert len(list(crops.iterdir())) == 1  # only the kept crop is written


def test_a_format_guess_votes_once():
    from alpr_lib.recognition.postprocess import guess_region

    fmt_region, fmt_conf = guess_region("5D2772")
    assert fmt_region and fmt_region != "ne"
    reads = [_read(0.1 * k, "5D2772", 85, 100 + 5 * k, region=fmt_region, region_confidence=fmt_conf)
             for k in range(12)]
    reads += [_read(1.3 + 0.1 * k, "5D2772", 85, 170 + 5 * k, region="ne", region_confidence=90) for k in range(3)]
    assert fuse_group(reads).region == "ne"  # three frames read NEBRASKA; the format prior is one vote
