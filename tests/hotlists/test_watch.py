"""``alpr watch``: each dropped file ingested exactly once, across restarts and kills (policy 462.4); processed
files to done/, unreadable ones to quarantine/ with a reason; exit status 0 / 3 with --once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from alpr_lib.records.audit_log import AuditFilter
from alpr_lib.store.store import Store
from alpr_lib.watch import watch_folder
from tests.hotlists.conftest import reads, recent

ALPR = str(Path(sys.executable).parent / "alpr")


def _watch(kit, folder: Path, tmp_path: Path, *extra: str, fault: str | None = None,
           user: str = "operator") -> subprocess.CompletedProcess:
    secret = tmp_path / f"{user}.pw"
    secret.write_text(kit.passwords[user] + "\n")
    secret.chmod(0o600)
    env = dict(os.environ, ALPR_PASSWORD_FILE=str(secret))
    env.pop("ALPR_FAULT_INJECT", None)
    if fault:
        env["ALPR_FAULT_INJECT"] = fault
    return subprocess.run([ALPR, "watch", str(folder), "--store", str(kit.path), "--user", user, "--once", *extra],
                          env=env, capture_output=True, text=True, timeout=180)


def _drop(folder: Path, name: str, frame: pl.DataFrame) -> Path:
    """Write as a unit does: a .part file, renamed when complete."""
    part = folder / (name + ".part")
    if name.endswith(".csv"):
        frame.write_csv(part)
    elif name.endswith(".parquet"):
        frame.write_parquet(part)
    else:
        frame.with_columns(pl.col("captured_at").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ")).write_ndjson(part)
    os.replace(part, folder / name)
    return folder / name


def _state(kit) -> tuple[int, int, int]:
    """(reads held, reads the audit log says were ingested, alerts)."""
    store = Store.open(kit.path)
    try:
        claimed = sum(r["result_count"] or 0 for r in store.audit.rows(AuditFilter(action="reads.ingest",
                                                                                   outcome="allowed")))
    finally:
        store.close()
    return kit.login("admin").store_summary()["reads"], claimed, kit.login("operator").alerts.list().height


@pytest.fixture
def drops(tmp_path):
    folder = tmp_path / "drops"
    folder.mkdir()
    return folder


def test_once_ingests_every_format_and_exits_0(hot, drops, tmp_path):
    _drop(drops, "unit12-0001.csv", reads([("7ABC123", "CA", "CAM1", recent()), ("9ZZZ999", "CA", "CAM1", recent(1))],
                                         prefix="C"))
    _drop(drops, "unit12-0002.jsonl", reads([("8DPR224", "CA", "CAM2", recent())], prefix="J"))
    _drop(drops, "site4-0001.parquet", reads([("5SAM781", "NV", "CAM3", recent())], prefix="P"))
    (drops / "unit12-0003.csv.part").write_text("half written")  # not complete: left alone
    (drops / ".hidden.csv").write_text("x")
    done = _watch(hot, drops, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in (drops / "done").iterdir()) == ["site4-0001.parquet", "unit12-0001.csv",
                                                                  "unit12-0002.jsonl"]
    assert sorted(p.name for p in drops.iterdir() if p.is_file()) == [".hidden.csv", "unit12-0003.csv.part"]
    assert list((drops / "quarantine").iterdir()) == []
    assert _state(hot) == (4, 4, 3)
    assert "1 new alert" in done.stdout


def test_malformed_files_are_quarantined_with_a_reason_and_exit_3(hot, drops, tmp_path):
    (drops / "broken.parquet").write_bytes(b"not parquet at all")
    (drops / "notes.docx").write_text("?")
    mixed = reads([("7ABC123", "CA", "CAM1", recent()), ("8DPR224", "CA", "CAM1", recent(1))], prefix="M")
    mixed = mixed.with_columns(pl.when(pl.col("read_id") == "M00001").then(pl.lit(999.0)).otherwise(pl.col("lat"))
                               .alias("lat"))
    _drop(drops, "mixed.csv", mixed)
    done = _watch(hot, drops, tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    quarantine = drops / "quarantine"
    names = sorted(p.name for p in quarantine.iterdir())
    assert names == ["broken.parquet", "broken.parquet.reason.txt", "mixed.csv.rejected.csv", "notes.docx",
                     "notes.docx.reason.txt"]
    assert "cannot read" in (quarantine / "broken.parquet.reason.txt").read_text()
    assert "unknown kind of file" in (quarantine / "notes.docx.reason.txt").read_text()
    rejected = pl.read_csv(quarantine / "mixed.csv.rejected.csv")
    assert rejected["column"].to_list() == ["lat"]
    assert (drops / "done" / "mixed.csv").is_file()
    assert _state(hot) == (1, 1, 1)
    assert oct((quarantine / "broken.parquet.reason.txt").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("point", ["ingest:after-first-file", "ingest:before-commit", "ingest:in-commit",
                                   "ingest:after-commit"])
def test_a_killed_watcher_loses_and_duplicates_nothing(hot, drops, tmp_path, point):
    _drop(drops, "a.csv", reads([("7ABC123", "CA", "CAM1", recent()), ("9ZZZ999", "CA", "CAM1", recent(1))],
                                prefix="A"))
    _drop(drops, "b.csv", reads([("8DPR224", "CA", "CAM2", recent(2))], prefix="B"))
    killed = _watch(hot, drops, tmp_path, fault=point)
    assert killed.returncode == 70, killed.stdout + killed.stderr  # died at the fault point, mid-file
    held, claimed, _ = _state(hot)
    assert held == claimed
    restarted = _watch(hot, drops, tmp_path)  # restart recovery
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert sorted(p.name for p in (drops / "done").iterdir()) == ["a.csv", "b.csv"]
    assert [p for p in drops.iterdir() if p.is_file()] == []
    assert _state(hot) == (3, 3, 2)
    again = _watch(hot, drops, tmp_path)  # nothing left to do
    assert again.returncode == 0 and _state(hot) == (3, 3, 2)


def test_the_same_file_dropped_twice_is_ingested_once(hot, drops, tmp_path):
    batch = reads([("7ABC123", "CA", "CAM1", recent())], prefix="D")
    _drop(drops, "x.csv", batch)
    assert _watch(hot, drops, tmp_path).returncode == 0
    _drop(drops, "x.csv", batch)  # resent by the unit
    out = _watch(hot, drops, tmp_path)
    assert out.returncode == 0 and "already ingested" in out.stdout
    assert sorted(p.name for p in (drops / "done").iterdir()) == ["x.csv", "x.csv~1"]
    assert _state(hot) == (1, 1, 1)


def test_a_running_watcher_picks_up_a_dropped_file(hot, drops):
    session = hot.login("operator")
    stop = threading.Event()
    seen = []
    thread = threading.Thread(target=watch_folder, args=(session, drops),
                              kwargs={"poll_s": 0.1, "stop": stop.is_set, "on_file": seen.append}, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)
        _drop(drops, "live.csv", reads([("5SAM781", "NV", "CAM9", recent())], prefix="L"))
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
    assert [o.status for o in seen] == ["ingested"] and seen[0].alerts == 1
    assert hot.login("operator").alerts.list()["plate"].to_list() == ["5SAM781"]


def test_the_operator_role_runs_the_watcher_but_an_analyst_may_not(hot, drops, tmp_path):
    _drop(drops, "a.csv", reads([("7ABC123", "CA", "CAM1", recent())], prefix="Q"))
    refused = _watch(hot, drops, tmp_path, user="analyst")
    assert refused.returncode == 1 and "may not" in refused.stderr and "Traceback" not in refused.stderr
    assert (drops / "a.csv").is_file() and list((drops / "quarantine").iterdir()) == []  # the file is not at fault
    assert _watch(hot, drops, tmp_path).returncode == 0 and _state(hot) == (1, 1, 1)


def test_a_dropped_plate_image_is_recognised_and_its_alert_carries_the_crop(hot, drops, tmp_path):
    import shutil

    images = Path(__file__).resolve().parents[2] / "data_samples" / "images"
    listed = tmp_path / "img.csv"
    listed.write_text("plate,state,category,entered_at,expires_at,notes\n684DLR,CA,stolen plate,2020-01-01,,\n"
                      "RZASNRA,CA,stolen vehicle,2020-01-01,,\n")
    hot.login("supervisor").hotlists.import_list(listed, "images", "department")
    for name in ("car_01", "car_02"):
        shutil.copy(images / f"{name}.json", drops / f"{name}.json")  # the sidecar first: the image completes it
        shutil.copy(images / f"{name}.jpg", drops / f".{name}.jpg")
        os.replace(drops / f".{name}.jpg", drops / f"{name}.jpg")
    done = _watch(hot, drops, tmp_path, "--camera", "MPD-F001", "--lat", "37.43", "--lon", "-121.9")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {"car_01.jpg", "car_02.jpg"} <= {p.name for p in (drops / "done").iterdir()}
    alerts = hot.login("operator").alerts.list()
    assert set(alerts["entry_plate"]) & {"684DLR", "RZASNRA"}, alerts
    alert = hot.login("operator").alerts.get(alerts["alert_id"][0])
    assert alert["image"][:3] == b"\xff\xd8\xff" and alert["image_ref"].startswith("store:")
    assert not (drops / ".crops").exists() or list((drops / ".crops").iterdir()) == []  # the store keeps its copy
