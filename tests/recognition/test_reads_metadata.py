import json
from datetime import UTC, datetime

import polars as pl
import pytest
from PIL import Image

from alpr_lib.errors import ValidationError
from alpr_lib.recognition.metadata import image_metadata, parse_time
from alpr_lib.recognition.reads import image_reads, reads_frame
from alpr_lib.store.schema import READ_SCHEMA


def test_reads_frame_has_the_store_schema(engine, scenes):
    rec = engine.recognize(scenes[0].image)
    reads = image_reads(rec, "cam/img1.jpg", datetime(2024, 5, 1, 12, tzinfo=UTC), 34.05, -118.25, 90.0)
    frame = reads_frame(reads, "CAM-1", unit="U7", source="TEST")
    assert dict(frame.schema) == READ_SCHEMA
    assert frame.height == len(rec.results) >= 1
    row = frame.row(0, named=True)
    assert row["camera_id"] == "CAM-1" and row["lat"] == 34.05 and 0 <= row["plate_confidence"] <= 100
    assert row["plate"] == row["plate"].upper() and row["read_id"].startswith("rec-")
    again = reads_frame(reads, "CAM-1", unit="U7", source="TEST")
    assert again["read_id"].to_list() == frame["read_id"].to_list()  # stable ids


def test_empty_reads_frame_and_naive_time(engine, scenes):
    assert dict(reads_frame([], "CAM").schema) == READ_SCHEMA
    rec = engine.recognize(scenes[0].image)
    with pytest.raises(ValidationError, match="timezone-aware"):
        image_reads(rec, "x", datetime(2024, 5, 1), 1.0, 2.0)
    with pytest.raises(ValidationError):
        reads_frame([], "")
    assert isinstance(reads_frame([], "CAM"), pl.DataFrame)


def test_parse_time():
    assert parse_time("2024:05:01 12:00:00", "UTC") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_time("2024-05-01T05:00:00-07:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_time("2024-01-01 04:00:00") == datetime(2024, 1, 1, 12, tzinfo=UTC)  # Los Angeles, PST
    with pytest.raises(ValidationError):
        parse_time("yesterday")


def test_sidecar_and_exif(tmp_path):
    img = tmp_path / "a.jpg"
    Image.new("RGB", (64, 48)).save(img)
    assert image_metadata(img).source == "none"
    (tmp_path / "a.json").write_text(json.dumps({"captured_at": "2024-05-01T12:00:00Z", "lat": 1.5, "lon": 2.5}))
    meta = image_metadata(img)
    assert meta.source == "sidecar" and meta.lat == 1.5 and meta.captured_at == datetime(2024, 5, 1, 12, tzinfo=UTC)

    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 05:00:00"
    exif.get_ifd(0x8769)[0x9011] = "-07:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (34.0, 3.0, 0.0), "W", (118.0, 15.0, 0.0)
    img2 = tmp_path / "b.jpg"
    Image.new("RGB", (64, 48)).save(img2, exif=exif)
    meta = image_metadata(img2)
    assert meta.source == "exif"
    assert meta.captured_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert meta.lat == pytest.approx(34.05) and meta.lon == pytest.approx(-118.25)
