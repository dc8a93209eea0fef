import csv
import json

import cv2
import polars as pl
from click.testing import CliRunner

from alpr_lib.cli.recognize import eval_recognition, recognize
from alpr_lib.store.schema import READ_SCHEMA


def _write_set(tmp_path, scenes):
    d = tmp_path / "set"
    d.mkdir()
    rows = []
    for i, s in enumerate(scenes[:3]):
        cv2.imwrite(str(d / f"car{i}.jpg"), s.image)
        x0, y0 = s.quad.min(0)
        x1, y1 = s.quad.max(0)
        rows.append([f"car{i}.jpg", int(x0), int(y0), int(x1 - x0), int(y1 - y0), s.text])
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    rows.append(["broken.jpg", 0, 0, 10, 10, "NOPE1"])
    with open(d / "groundtruth.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "x", "y", "width", "height", "plate"])
        w.writerows(rows)
    return d


def test_eval_recognition_scores_every_image(tmp_path, scenes):
    d = _write_set(tmp_path, scenes)
    out_json, preds, fails = tmp_path / "fig.json", tmp_path / "pred.csv", tmp_path / "fail.csv"
    res = CliRunner().invoke(
        eval_recognition,
        [
            str(d),
            "--groundtruth",
            str(d / "groundtruth.csv"),
            "--top-n",
            "5",
            "--json",
            str(out_json),
            "--predictions",
            str(preds),
            "--failures",
            str(fails),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "top-1 exact" in res.output and "detection recall" in res.output
    fig = json.loads(out_json.read_text())
    assert {"n", "top1", "topn", "folded", "detection_recall", "median_s", "p95_s"} <= set(fig)
    assert fig["n"] == 4 and fig["errors"] == 1
    assert 0 <= fig["top1"] <= fig["topn"] <= 0.75  # the broken image is a miss, never skipped
    assert fig["detection_recall"] >= 0.5
    with open(preds) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["image", "rank", "plate", "confidence", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"]
    assert {r["image"] for r in rows} == {"car0.jpg", "car1.jpg", "car2.jpg", "broken.jpg"}
    broken = [r for r in rows if r["image"] == "broken.jpg"]
    assert len(broken) == 1 and broken[0]["plate"] == ""
    assert "broken.jpg" in fails.read_text()


def test_recognize_writes_reads_and_reports_bad_files(tmp_path, scenes):
    d = _write_set(tmp_path, scenes)
    (d / "car0.json").write_text(json.dumps({"captured_at": "2024-05-01T12:00:00Z", "lat": 1.0, "lon": 2.0}))
    out, crops = tmp_path / "reads.parquet", tmp_path / "crops"
    res = CliRunner().invoke(
        recognize,
        [
            str(d),
            "--camera",
            "CAM-9",
            "--lat",
            "34.0",
            "--lon",
            "-118.0",
            "--out",
            str(out),
            "--crops-dir",
            str(crops),
            "--no-progress",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "broken.jpg" in res.output and "1 errors" in res.output
    frame = pl.read_parquet(out)
    assert {k: frame.schema[k] for k in READ_SCHEMA} == READ_SCHEMA
    assert frame.height >= 2 and set(frame["camera_id"]) == {"CAM-9"}
    car0 = frame.filter(pl.col("image_ref").str.ends_with("car0.jpg"))
    assert car0["lat"].to_list()[0] == 1.0  # from the sidecar
    assert all((crops / f"{rid}.jpg").is_file() for rid in frame["read_id"])


def test_recognize_csv_and_usage_errors(tmp_path, scenes):
    d = _write_set(tmp_path, scenes)
    out = tmp_path / "reads.csv"
    res = CliRunner().invoke(
        recognize,
        [str(d / "car1.jpg"), "--camera", "C", "--lat", "1", "--lon", "2", "--out", str(out), "--no-progress"],
    )
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("read_id,plate,")
    res = CliRunner().invoke(recognize, [str(d / "car1.jpg"), "--camera", "C", "--lat", "1", "--no-progress"])
    assert res.exit_code != 0 and "--lon" in res.output
    res = CliRunner().invoke(recognize, [str(d / "broken.jpg"), "--camera", "C", "--no-progress"])
    assert res.exit_code == 1


def test_recognize_video_frames_and_workers(tmp_path, scenes):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (480, 360))
    assert writer.isOpened()
    for _ in range(10):  # two seconds at 5 fps
        writer.write(scenes[1].image)
    writer.release()
    (tmp_path / "clip.json").write_text(json.dumps({"captured_at": "2024-05-01T12:00:00Z", "lat": 3.0, "lon": 4.0}))
    cv2.imwrite(str(tmp_path / "still.png"), scenes[2].image)
    out = tmp_path / "reads.parquet"
    args = [str(video), str(tmp_path / "still.png"), "--camera", "V", "--lat", "1", "--lon", "2"]
    res = CliRunner().invoke(recognize, [*args, "--workers", "2", "--out", str(out), "--no-progress",
                                         "--no-group-video"])
    assert res.exit_code == 0, res.output
    frame = pl.read_parquet(out)
    refs = set(frame["image_ref"])
    assert {f"{video}#t=0.000", f"{video}#t=1.000"} <= refs
    at = frame.filter(pl.col("image_ref") == f"{video}#t=1.000")["captured_at"][0]
    assert at.isoformat().startswith("2024-05-01T12:00:01")
    # grouped (the default): the parked car seen in both sampled frames is one read
    res = CliRunner().invoke(recognize, [*args, "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    video_reads = pl.read_parquet(out).filter(pl.col("image_ref").str.starts_with(f"{video}#t="))
    assert video_reads.height == 1
