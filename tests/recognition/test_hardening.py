"""Recognition hardening (issue 10, item 8): only regular files are opened, sidecar values are validated.

A FIFO named like an image used to hang ``alpr recognize`` forever (its metadata was read, i.e. the FIFO
opened, before the is-a-file check); sidecar values such as lat 999, NaN or year 2999 went into the reads.
Every call that could block on a FIFO runs in a subprocess or thread with a timeout, so a regression
fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import cv2
import polars as pl
import pytest
from click.testing import CliRunner
from PIL import Image

from alpr_lib.cli.recognize import recognize
from alpr_lib.errors import RecognitionError, ValidationError
from alpr_lib.recognition.batch import recognize_paths
from alpr_lib.recognition.image import load_image, read_image_file
from alpr_lib.recognition.metadata import image_metadata

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")

TIMEOUT_S = 120
GOOD = {"captured_at": "2024-05-01T12:00:00Z", "lat": 34.05, "lon": -118.25}


def _within(fn, timeout: float = TIMEOUT_S):
    """fn() in a daemon thread; fails (instead of hanging) when it blocks, e.g. on opening a FIFO."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"{fn} did not return within {timeout}s (blocked on a FIFO?)"
    if "error" in box:
        raise box["error"]
    return box["value"]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``alpr recognize ARGS`` in a subprocess that is killed (and the test failed) if it hangs."""
    code = "from alpr_lib.cli.main import cli; cli()"
    try:
        return subprocess.run(
            [sys.executable, "-c", code, "recognize", *args, "--no-progress"],
            capture_output=True, text=True, timeout=TIMEOUT_S, cwd=cwd,
        )
    except subprocess.TimeoutExpired as exc:  # pragma: no cover - the regression this file guards against
        pytest.fail(f"alpr recognize hung for {TIMEOUT_S}s: {exc}")


@pytest.fixture()
def car(tmp_path, scenes) -> Path:
    """A folder holding one real camera-like image, car.jpg, with a good sidecar."""
    d = tmp_path / "cam"
    d.mkdir()
    cv2.imwrite(str(d / "car.jpg"), scenes[0].image)
    (d / "car.json").write_text(json.dumps(GOOD))
    return d


def _errors(res) -> dict[str, str]:
    return {Path(e.path).name: e.message for e in res.errors}


# ---------------------------------------------------------------- paths that are not regular files


def test_fifo_in_a_folder_fails_and_the_other_file_is_processed(car, tmp_path):
    os.mkfifo(car / "x.jpg")
    (car / "y.jpg").mkdir()  # a directory named like an image: walked, never opened
    out = tmp_path / "reads.parquet"
    proc = _cli(str(car), "--camera", "CAM-1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "x.jpg: not a regular file (a FIFO)" in proc.stderr
    assert "y.jpg" not in proc.stderr
    assert "2 files" in proc.stderr and "1 errors" in proc.stderr
    frame = pl.read_parquet(out)
    assert frame.height >= 1 and set(frame["image_ref"]) == {str(car / "car.jpg")}
    assert frame["lat"][0] == 34.05  # from the good sidecar


def test_folder_with_only_a_fifo_exits_non_zero(tmp_path):
    d = tmp_path / "only"
    d.mkdir()
    os.mkfifo(d / "x.jpg")
    proc = _cli(str(d / "x.jpg"), "--camera", "CAM-1", "--lat", "34", "--lon", "-118")  # named directly
    assert proc.returncode == 1, proc.stderr
    assert "x.jpg: not a regular file (a FIFO)" in proc.stderr
    proc = _cli(str(d), "--camera", "CAM-1", "--lat", "34", "--lon", "-118")  # found in a folder
    assert proc.returncode == 1, proc.stderr
    assert "not a regular file (a FIFO)" in proc.stderr and "1 files, 0 plates, 1 errors" in proc.stderr


def test_library_batch_with_a_fifo_symlinks_and_devices(car, monkeypatch):
    os.mkfifo(car / "x.jpg")
    (car / "to_fifo.jpg").symlink_to(car / "x.jpg")
    (car / "to_car.png").symlink_to(car / "car.jpg")  # a link to a regular file is fine
    (car / "to_car.json").write_text(json.dumps(GOOD))
    (car / "broken.jpg").symlink_to(car / "nowhere.jpg")
    if os.path.exists("/dev/null"):
        (car / "null.jpg").symlink_to("/dev/null")
    monkeypatch.chdir(car)  # a short relative name: AF_UNIX paths are limited to ~100 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("s.jpg")
        res = _within(lambda: recognize_paths([car], "CAM-1"))
    errors = _errors(res)
    assert "not a regular file (a FIFO)" in errors["x.jpg"]
    assert "not a regular file (a FIFO)" in errors["to_fifo.jpg"]
    assert "not a regular file (a socket)" in errors["s.jpg"]
    assert "broken symbolic link" in errors["broken.jpg"]
    if os.path.exists("/dev/null"):
        assert "not a regular file (a character device)" in errors["null.jpg"]
    assert "car.jpg" not in errors and "to_car.png" not in errors
    refs = {Path(r).name for r in res.reads["image_ref"]}
    assert refs == {"car.jpg", "to_car.png"}
    assert res.files == len(errors) + 2


def test_file_functions_refuse_non_regular_files_without_opening(car):
    os.mkfifo(car / "x.jpg")
    (car / "y.jpg").mkdir()
    (car / "link.jpg").symlink_to(car / "x.jpg")
    for name, kind in (("x.jpg", "a FIFO"), ("link.jpg", "a FIFO"), ("y.jpg", "a directory")):
        for fn in (image_metadata, read_image_file, load_image):
            with pytest.raises(RecognitionError, match=rf"not a regular file \({kind}\)"):
                _within(lambda fn=fn, name=name: fn(car / name))
    assert load_image(car / "car.jpg").ndim == 3


def test_a_directory_named_like_an_image_is_walked(car, scenes):
    sub = car / "y.jpg"
    sub.mkdir()
    cv2.imwrite(str(sub / "inner.jpg"), scenes[1].image)
    (sub / "inner.json").write_text(json.dumps(GOOD))
    res = _within(lambda: recognize_paths([sub], "CAM-1"))
    assert res.errors == () and res.files == 1
    assert {Path(r).name for r in res.reads["image_ref"]} == {"inner.jpg"}


def test_sidecar_that_is_a_fifo_or_too_big(car, scenes):
    cv2.imwrite(str(car / "a.jpg"), scenes[1].image)
    os.mkfifo(car / "a.json")
    cv2.imwrite(str(car / "b.jpg"), scenes[2].image)
    (car / "b.json").write_text(json.dumps({**GOOD, "note": "x" * 1000}) + " " * (3 * 1024 * 1024))
    res = _within(lambda: recognize_paths([car], "CAM-1"))
    errors = _errors(res)
    assert "sidecar" in errors["a.jpg"] and "a.json: not a regular file (a FIFO)" in errors["a.jpg"]
    assert "sidecar" in errors["b.jpg"] and "over the 2 MB limit" in errors["b.jpg"]
    assert set(errors) == {"a.jpg", "b.jpg"} and res.reads.height >= 1  # car.jpg still read


# ---------------------------------------------------------------- sidecar values

BAD_SIDECARS = [
    # (sidecar text, field named in the reason, the reason)
    (json.dumps({**GOOD, "lat": 999}), "'lat' = 999", r"outside \[-90, 90\]"),
    (json.dumps({**GOOD, "lon": -500}), "'lon' = -500", r"outside \[-180, 180\]"),
    ('{"captured_at": "2024-05-01T12:00:00Z", "lat": NaN, "lon": 2}', "'lat' = nan", "not a finite number"),
    (json.dumps({**GOOD, "lat": "inf"}), "'lat' = 'inf'", "not a finite number"),
    ('{"captured_at": "2024-05-01T12:00:00Z", "lat": 1, "lon": -Infinity}', "'lon' = -inf", "not a finite number"),
    ('{"captured_at": "2024-05-01T12:00:00Z", "lat": 1, "lon": 2, "heading": 1e400}', "'heading' = inf",
     "not a finite number"),
    (json.dumps({**GOOD, "lat": True}), "'lat' = True", "not a number"),
    (json.dumps({**GOOD, "captured_at": "2999-01-01T00:00:00Z"}), "'captured_at' = '2999-01-01T00:00:00Z'",
     "in the future"),
    (json.dumps({**GOOD, "captured_at": 32503680000}), "'captured_at' = 32503680000", "in the future"),
    (json.dumps({**GOOD, "captured_at": "1999-12-31T23:59:59Z"}), "'captured_at'", "before 2000-01-01"),
    (json.dumps({**GOOD, "captured_at": "next tuesday"}), "'captured_at' = 'next tuesday'", "not a readable time"),
    (json.dumps({**GOOD, "captured_at": "2" * 1_000_000}), "'captured_at'", "longer than 64 characters"),
    (json.dumps({**GOOD, "note": "x" * 1_000_000}), "'note'", r"\(1000000 characters\) is longer than 1024"),
    (json.dumps({**GOOD, "captured_at": "2024-05-01T12:00:00Z\x1b[2J"}), "'captured_at'", "control characters"),
    (json.dumps({**GOOD, "camera_id": "CAM\x00-1"}), "'camera_id'", "control characters"),
    (json.dumps({**GOOD, "note": "ok\u202eexe.gpj"}), "'note'", "control characters"),  # a bidi override
    (json.dumps({**GOOD, "camera_id": "C" * 65}), "'camera_id'", "longer than 64 characters"),
    (json.dumps({**GOOD, "unit": "   "}), "'unit'", "is blank"),
    (json.dumps({**GOOD, "extra": {"inner": [1, float("nan")]}}), "'extra.inner[1]' = nan", "not a finite number"),
    ('{"captured_at": "2024-05-01T12:00:00Z", "lat": 1, "lat": 999, "lon": 2}', "'lat'", "given twice"),
    (json.dumps({**GOOD, "latitude": 35.0}), "'latitude' = 35.0", "disagrees with field 'lat'"),
]


@pytest.mark.parametrize(("text", "field", "reason"), BAD_SIDECARS, ids=lambda v: str(v)[:30])
def test_bad_sidecar_values_are_refused_naming_the_field(tmp_path, text, field, reason):
    img = tmp_path / "a.jpg"
    Image.new("RGB", (64, 48)).save(img)
    (tmp_path / "a.json").write_text(text)
    with pytest.raises(ValidationError, match=r"sidecar .*a\.json: field ") as info:
        image_metadata(img, "UTC")
    message = str(info.value)
    assert field in message
    assert re.search(reason, message), message
    assert "\x1b" not in message and "\x00" not in message and len(message) < 400  # escaped and short


def test_each_bad_sidecar_fails_its_file_and_the_batch_goes_on(car, scenes):
    for i, (text, _field, _reason) in enumerate(BAD_SIDECARS):
        cv2.imwrite(str(car / f"bad{i:02d}.jpg"), scenes[1].image)
        (car / f"bad{i:02d}.json").write_text(text)
    res = _within(lambda: recognize_paths([car], "CAM-1", default_lat=1.0, default_lon=2.0))
    errors = _errors(res)
    assert set(errors) == {f"bad{i:02d}.jpg" for i in range(len(BAD_SIDECARS))}
    for i, (_text, field, _reason) in enumerate(BAD_SIDECARS):
        msg = errors[f"bad{i:02d}.jpg"]
        assert f"bad{i:02d}.json" in msg and field in msg, msg
    assert {Path(r).name for r in res.reads["image_ref"]} == {"car.jpg"}
    lats, lons = res.reads["lat"].to_list(), res.reads["lon"].to_list()
    assert all(-90 <= v <= 90 for v in lats) and all(-180 <= v <= 180 for v in lons)


def test_good_sidecar_forms_are_still_accepted(tmp_path):
    img = tmp_path / "a.jpg"
    Image.new("RGB", (64, 48)).save(img)
    (tmp_path / "a.jpg.json").write_text(json.dumps({
        "timestamp": "2024-05-01 05:00:00", "latitude": "34.05", "lng": -118.25, "bearing": -90,
        "camera_id": "MPD-F001", "camera": {"make": "Axis", "model": "P1445-LE"}, "notes": ["front", "lane 2"],
    }))
    meta = image_metadata(img, "America/Los_Angeles")
    assert meta.source == "sidecar" and meta.lat == 34.05 and meta.lon == -118.25 and meta.heading == 270.0
    assert meta.captured_at == datetime(2024, 5, 1, 12, tzinfo=UTC)


# ---------------------------------------------------------------- EXIF and file times


def test_exif_position_out_of_range_fails_the_file(tmp_path):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 05:00:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (999.0, 0.0, 0.0), "W", (118.0, 15.0, 0.0)
    img = tmp_path / "e.jpg"
    Image.new("RGB", (64, 48)).save(img, exif=exif)
    with pytest.raises(ValidationError, match=r"EXIF GPS latitude 999\.0 is outside \[-90, 90\]"):
        image_metadata(img)


def test_implausible_file_time_fails_the_file(tmp_path, scenes):
    img = tmp_path / "old.jpg"
    cv2.imwrite(str(img), scenes[0].image)
    os.utime(img, (0, 0))  # 1970: no sidecar, no EXIF, so the file time would be the capture time
    res = _within(lambda: recognize_paths([img], "CAM-1", default_lat=1.0, default_lon=2.0))
    assert res.reads.height == 0
    assert "modification time 1970-01-01T00:00:00Z is before 2000-01-01" in _errors(res)["old.jpg"]


# ---------------------------------------------------------------- the command's arguments and output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lat", "nan", "--lon", "2"], "--lat"),
        (["--lat", "1", "--lon", "-500"], "--lon"),
        (["--lat", "999", "--lon", "2"], "--lat"),
        (["--tz", "Mars/Olympus"], "unknown time zone"),
        (["--unit", "U\x1b[2J"], "control characters"),
    ],
)
def test_bad_arguments_are_usage_errors(car, args, message):
    res = CliRunner().invoke(recognize, [str(car), "--camera", "CAM-1", *args, "--no-progress"])
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_bad_camera_id_and_library_arguments(car):
    res = CliRunner().invoke(recognize, [str(car), "--camera", "C" * 65, "--no-progress"])
    assert res.exit_code == 2 and "over the 64 limit" in res.output
    with pytest.raises(ValidationError, match="default_lat nan is not a finite number"):
        recognize_paths([car], "CAM-1", default_lat=float("nan"), default_lon=1.0)
    with pytest.raises(ValidationError, match="unknown time zone"):
        recognize_paths([car], "CAM-1", tz="../../etc/passwd")
    with pytest.raises(ValidationError, match="control characters"):
        recognize_paths([car], "CAM\n-1")


def test_hostile_file_names_are_escaped_in_the_output(tmp_path):
    d = tmp_path / "names"
    d.mkdir()
    (d / "evil\x1b[2J.jpg").write_bytes(b"not an image at all" * 4)
    res = CliRunner().invoke(recognize, [str(d), "--camera", "CAM-1", "--lat", "1", "--lon", "2", "--no-progress"])
    assert res.exit_code == 1, res.output  # every file failed
    assert "\x1b" not in res.output and "evil\\x1b[2J.jpg" in res.output
