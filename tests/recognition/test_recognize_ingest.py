"""``alpr recognize --ingest``: recognised reads and their plate crops enter the store through the audited
Session, and read_details returns the crop."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from click.testing import CliRunner

from alpr_lib.cli.main import cli

IMAGES = Path(__file__).resolve().parents[2] / "data_samples" / "images"


def test_recognize_ingest_stores_reads_with_crops(kit, tmp_path, monkeypatch):
    secret = tmp_path / "pw"
    secret.write_text(kit.passwords["ingest"])
    monkeypatch.setenv("ALPR_PASSWORD_FILE", str(secret))
    images = sorted(IMAGES.glob("car_0[1-4].jpg"))
    result = CliRunner().invoke(cli, ["recognize", *map(str, images), "--camera", "MPD-F001", "--ingest",
                                      "--store", str(kit.path), "--user", "ingest", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "ingested:" in result.output
    truth = pl.read_csv(IMAGES / "groundtruth.csv").filter(pl.col("image").is_in([p.name for p in images]))
    analyst = kit.login("analyst")
    found = 0
    for plate in truth["plate"]:
        hits = analyst.plate_history(plate, purpose="stolen plates")
        if hits.height:
            found += 1
            details = analyst.read_details(hits["read_id"][0], purpose="stolen plates")
            assert details["image"][:3] == b"\xff\xd8\xff"  # the JPEG crop kept by the store
            assert details["camera_id"] == "MPD-F001" and details["image_ref"].startswith("store:")
    assert found >= 3  # the demo images are read 93% top-1
    ingests = kit.login("auditor").audit_records(action="reads.ingest", username="ingest")
    assert ingests.height == 1 and ingests["outcome"][0] == "allowed"


def test_recognize_ingest_needs_a_store_and_user(tmp_path):
    result = CliRunner().invoke(cli, ["recognize", str(IMAGES / "car_01.jpg"), "--camera", "C1", "--ingest"],
                                env={"ALPR_STORE": "", "ALPR_USER": ""})
    assert result.exit_code == 2 and "--ingest needs --store and --user" in result.output
