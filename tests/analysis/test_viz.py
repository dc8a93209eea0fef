"""Maps open centred on the data with the department's basemap; layers are pandas/GeoDataFrames, never polars."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import polars as pl
import pytest

from alpr_lib.analysis.geo import haversine_m
from alpr_lib.samples import roads_gdf
from alpr_lib.viz import basemap_style, canvass_form, incident_shapes, plate_form, plate_tracks, reads_map
from tests.analysis.conftest import PURPOSE, incident_args


def test_canvass_map_is_centred_and_layered(analyst, key):
    incident = analyst.create_incident(**incident_args(key, "26-004512"))
    hits = analyst.canvass(incident, 300, 30, 30, purpose=PURPOSE, case_number="26-004512")
    m = reads_map(hits, incidents=[incident], radius_m=300, roads=roads_gdf(), tracks=True)
    state = m.config["config"]["mapState"]
    assert haversine_m(state["latitude"], state["longitude"], incident.lat, incident.lon) < 300
    assert 14 <= state["zoom"] <= 17
    assert set(m.data) == {"roads", "street_names", "scenes", "incidents", "reads", "cameras", "tracks"}
    for name, frame in m.data.items():
        assert isinstance(frame, pd.DataFrame), name
    layers = {layer["config"]["dataId"]: layer for layer in m.config["config"]["visState"]["layers"]}
    assert layers["reads"]["type"] == "point" and layers["reads"]["config"]["columns"] == {"lat": "lat", "lng": "lon"}
    assert layers["roads"]["type"] == "geojson"
    assert m.config["config"]["mapStyle"] == {"styleType": "no_map"}  # no third-party tile requests by default


def test_incident_circle_has_the_canvass_radius(analyst, key):
    incident = analyst.create_incident(**incident_args(key, "26-004512"))
    circle = incident_shapes([incident], 300).geometry.iloc[0]
    ring = np.asarray(circle.exterior.coords)
    d = haversine_m(incident.lat, incident.lon, ring[:, 1], ring[:, 0])
    assert np.allclose(d, 300, atol=1.0)
    frame = analyst.incidents(case_number="26-004512")
    assert len(incident_shapes(frame, 100)) == len(frame)


def test_basemap_is_configurable():
    assert basemap_style("https://tiles.example.gov/style.json")["mapStyles"]["department"]["url"] \
        == "https://tiles.example.gov/style.json"
    assert basemap_style("dark-matter") == {"styleType": "dark-matter"}
    assert basemap_style("") == {"styleType": "no_map"}


def test_tracks_follow_time_order():
    reads = pl.DataFrame({"plate": ["A1", "A1", "A1", "B2"], "lat": [37.0, 37.2, 37.1, 37.3],
                          "lon": [-121.0, -121.2, -121.1, -121.3],
                          "captured_at": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 12:00",
                                                         "2026-01-01 11:00", "2026-01-01 10:00"], utc=True)})
    lines = plate_tracks(reads)
    assert isinstance(lines, gpd.GeoDataFrame) and list(lines["plate"]) == ["A1"]
    assert [c[1] for c in lines.geometry.iloc[0].coords] == [37.0, 37.1, 37.2]


def test_forms_have_stable_classes_and_show_errors_in_place():
    calls = []
    form = canvass_form([("case", "INC-1")], purposes=["criminal investigation"], case_number="26-000001",
                        on_run=lambda v: calls.append(v) or "ran")
    assert "alpr-canvass" in form.widget._dom_classes
    assert "alpr-canvass-run" in form.button._dom_classes
    assert "alpr-canvass-radius-m" in form.fields["radius_m"]._dom_classes
    assert form.submit() == "ran" and calls[0]["incident"] == "INC-1" and calls[0]["radius_m"] == 300

    def refuse(values):
        from alpr_lib.errors import AccessDenied

        raise AccessDenied("over the limit")

    form = plate_form(plate="9FJR553", purposes=["criminal investigation"], offense_types=["robbery"], on_run=refuse)
    assert form.submit() is None and "over the limit" in form.message.value  # one message, in the form
    assert "Traceback" not in form.message.value


@pytest.mark.parametrize("frame_type", ["polars", "pandas"])
def test_reads_map_accepts_polars_and_pandas(frame_type):
    reads = pl.DataFrame({"plate": ["A1", "B2"], "lat": [37.43, 37.44], "lon": [-121.9, -121.91],
                          "camera_id": ["C1", "C2"], "plates": [["A1"], ["B2", "82"]]})
    m = reads_map(reads if frame_type == "polars" else reads.drop("plates").to_pandas())
    assert isinstance(m.data["reads"], pd.DataFrame)
