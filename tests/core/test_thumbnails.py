"""Plate crops as thumbnails in result tables (issue 11, item 3): one audited call for a page of results."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import alpr_lib as alpr
from alpr_lib.viz import show
from tests.conftest import random_reads


@pytest.fixture
def kit(any_kit):
    return any_kit


def test_thumbnails_of_a_page_of_results_in_one_audited_call(kit):
    reads = random_reads(40, seed=5, plates=["7ABK123"])
    ok, jpeg = cv2.imencode(".jpg", np.full((24, 80, 3), 200, np.uint8))
    assert ok
    with_image = reads["read_id"][0]
    kit.login("ingest").ingest_reads(reads, progress=False, images={with_image: jpeg.tobytes()})
    analyst = kit.login("analyst")
    hits = analyst.search_plates("7ABK123", purpose="stolen plates", exact=True)
    images = analyst.read_thumbnails(hits["read_id"].to_list(), purpose="stolen plates")
    assert set(images) == {with_image} and images[with_image] == jpeg.tobytes()
    record = kit.login("auditor").audit_records(action="reads.thumbnails").row(-1, named=True)
    assert record["outcome"] == "allowed" and record["result_count"] == len(images)
    html = show(hits, images=images).html()
    assert html.count("<img") == 1
    with pytest.raises(alpr.ValidationError, match="at most 200"):
        analyst.read_thumbnails([f"x{i}" for i in range(201)], purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied):
        analyst.read_thumbnails(hits["read_id"].to_list())  # a purpose, as for any access to reads
