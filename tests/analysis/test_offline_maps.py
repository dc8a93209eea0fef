"""Maps that explain themselves and ask no third party: the map config, and the map in a real browser.

The unit tests check what each kind of thing on a map gets (its own layer, colour, name, popup, labels) and
that an empty ``basemap_style_url`` leaves kepler no third-party style to fetch. The browser tests render a
map of a small store's canvass in headless Chromium, in JupyterLab and in plain ``voila`` started in the
repository root (so the repository's ``voila.json`` and its template apply), and count every request to a
host other than the loopback server: there must be none. They also find the legend's layer names in the
page and no console message from the map about Mapbox, styles or basemaps.
"""

from __future__ import annotations

import math
import os
import pickle
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pandas as pd
import polars as pl
import pytest

from alpr_lib.analysis.geo import haversine_m
from alpr_lib.samples import roads_gdf
from alpr_lib.viz import reads_map
from alpr_lib.viz.kepler import KINDS, basemap_styles
from alpr_lib.viz.layers import track_segments
from tests.analysis.conftest import PURPOSE, incident_args
from tests.jupyterlab import _free_port, jupyterlab, needs_chromium, notebook_page, run_all, served, watched_page

REPO = Path(__file__).resolve().parents[2]
#: Console text that would mean our map config made kepler reach for (or complain about) a basemap.
MAP_TROUBLE = re.compile(r"mapbox|basemap|map ?style|style\.json|cartocdn|access ?token", re.IGNORECASE)
LEGEND = ("Reads", "Incidents", "Cameras", "Tracks", "Canvass area (300 m)", "Street names", "Roads")


def _canvass(analyst, key) -> tuple[object, object]:
    scenario = key["canvass"]
    incident = analyst.create_incident(**incident_args(key, scenario["case_number"]))
    hits = analyst.canvass(incident, scenario["radius_m"], scenario["before_min"], scenario["after_min"],
                           purpose=PURPOSE, case_number=scenario["case_number"])
    return incident, hits


def _layers(m) -> dict[str, dict]:
    return {layer["config"]["dataId"]: layer for layer in m.config["config"]["visState"]["layers"]}


# --- the map config -----------------------------------------------------------------------------------------

def test_every_kind_has_its_own_named_layer_colour_and_shape(analyst, key):
    incident, hits = _canvass(analyst, key)
    m = reads_map(hits, incidents=[incident], radius_m=300, roads=roads_gdf(), tracks=True)
    layers = _layers(m)
    assert set(layers) == {"incidents", "reads", "cameras", "tracks", "scenes", "street_names", "roads"}
    labels = [layer["config"]["label"] for layer in layers.values()]
    assert len(set(labels)) == len(labels) and layers["scenes"]["config"]["label"] == "Canvass area (300 m)"
    colours = {n: tuple(layers[n]["config"]["color"]) for n in ("incidents", "reads", "cameras", "tracks")}
    assert len(set(colours.values())) == 4
    reads, cameras = layers["reads"]["config"]["visConfig"], layers["cameras"]["config"]["visConfig"]
    assert reads["filled"] and not cameras["filled"] and cameras["outline"]  # cameras are rings, reads are dots
    assert cameras["radius"] > reads["radius"]
    assert layers["tracks"]["type"] == "line" and layers["scenes"]["type"] == "geojson"
    assert layers["scenes"]["config"]["visConfig"]["filled"] is False  # a ring: the reads inside stay visible
    order = [layer["config"]["dataId"] for layer in m.config["config"]["visState"]["layers"]]
    assert order.index("reads") < order.index("incidents") < order.index("cameras") < order.index("roads")
    assert m.config["config"]["uiState"]["mapControls"]["mapLegend"]["active"] is True  # legend open


def test_popups_show_plate_local_time_and_camera(analyst, key):
    incident, hits = _canvass(analyst, key)
    m = reads_map(hits, incidents=[incident], radius_m=300)
    tooltip = m.config["config"]["visState"]["interactionConfig"]["tooltip"]
    assert tooltip["enabled"]
    fields = {name: [f["name"] for f in shown] for name, shown in tooltip["fieldsToShow"].items()}
    assert fields["reads"][:3] == ["plate", "time", "camera_id"]
    assert fields["incidents"] == ["label", "location"] and "camera_id" in fields["cameras"]
    reads = m.data["reads"]
    expected = hits["captured_local"].dt.strftime("%Y-%m-%d, %H:%M:%S %Z").tolist()
    assert reads["time"].tolist() == expected and all(t.endswith((" PDT", " PST")) for t in expected)
    # kepler would take "<date> <time>" anywhere in a text for a timestamp and show epoch milliseconds
    assert not [t for t in expected if re.search(r"\d{2,4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d", t)]
    assert not [c for c in reads.columns if pd.api.types.is_datetime64_any_dtype(reads[c])]
    incidents = m.data["incidents"]
    assert incidents["label"].tolist() == ["26-004512 shooting"]
    assert haversine_m(incidents["lat"][0], incidents["lon"][0], incident.lat, incident.lon) < 1


def test_tracks_are_drawn_when_asked_one_hop_at_a_time(analyst, key):
    incident, hits = _canvass(analyst, key)
    assert "tracks" not in reads_map(hits, incidents=[incident], radius_m=300).data
    m = reads_map(hits, incidents=[incident], radius_m=300, tracks=True)
    hops = m.data["tracks"]
    assert len(hops) and list(hops.columns) == ["plate", "from_time", "to_time", "lat0", "lon0", "lat1", "lon1"]
    assert (hops["from_time"] < hops["to_time"]).all()  # same zone and format: text order is time order
    suspect = hops[hops["plate"] == key["canvass"]["suspect_plate"]]
    assert len(suspect) == 1  # read twice near the scene: one hop from the first read to the second
    layer = _layers(m)["tracks"]
    assert layer["config"]["columns"] == {"lat0": "lat0", "lng0": "lon0", "lat1": "lat1", "lng1": "lon1"}


def test_tracks_of_a_multi_scene_canvass_join_scenes_in_time_order(analyst, key):
    scenario = key["multi_scene"]
    incidents = [analyst.create_incident(**incident_args(key, c)) for c in scenario["case_numbers"]]
    near = analyst.canvass(incidents, 300, 30, 30, purpose=PURPOSE, case_number=scenario["case_numbers"][0])
    suspect = near[near["plate"] == scenario["suspect_plate"]]
    m = reads_map(suspect, incidents=incidents, radius_m=300, tracks=True)
    hops = m.data["tracks"]
    assert len(hops) == suspect["read_id"].nunique() - 1 >= 2  # every read once, joined in time order
    assert hops["from_time"].is_monotonic_increasing
    assert _layers(m)["tracks"]["visualChannels"]["colorField"]["name"] == "plate"  # the legend names the plate


def test_tracks_colour_by_plate_and_from_lines():
    reads = pl.DataFrame({"plate": ["A1", "A1", "A1", "B2", "B2"], "lat": [37.0, 37.2, 37.1, 37.3, 37.4],
                          "lon": [-121.0, -121.2, -121.1, -121.3, -121.4], "camera_id": ["C1"] * 5,
                          "captured_at": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 12:00", "2026-01-01 11:00",
                                                         "2026-01-01 10:00", "2026-01-01 10:05"], utc=True)})
    hops = track_segments(reads)
    assert hops[hops["plate"] == "A1"][["lat0", "lat1"]].values.tolist() == [[37.0, 37.1], [37.1, 37.2]]
    assert hops["from_time"].iloc[0] == "2026-01-01, 02:00:00 PST"  # UTC stored, shown in the department zone
    m = reads_map(reads, tracks=True)
    channels = _layers(m)["tracks"]["visualChannels"]
    assert channels["colorField"] == {"name": "plate", "type": "string"} and channels["colorScale"] == "ordinal"
    from alpr_lib.viz import plate_tracks

    lines = track_segments(plate_tracks(reads))  # a plate_tracks GeoDataFrame is drawn the same way
    assert len(lines) == 3 and set(lines["plate"]) == {"A1", "B2"}


def test_street_names_come_from_the_road_network():
    roads = roads_gdf()
    m = reads_map(pd.DataFrame({"plate": ["A1"], "lat": [37.43], "lon": [-121.90], "camera_id": ["C1"]}),
                  roads=roads)
    names = m.data["street_names"]
    assert set(names["street"]) == set(roads["street"])
    layer = _layers(m)["street_names"]
    assert layer["config"]["textLabel"][0]["field"]["name"] == "street"
    assert [f["name"] for f in m.config["config"]["visState"]["interactionConfig"]["tooltip"]["fieldsToShow"]
            ["roads"]] == ["street"]


def test_no_basemap_leaves_kepler_nothing_to_fetch():
    m = reads_map(pd.DataFrame({"plate": ["A1"], "lat": [37.43], "lon": [-121.90], "camera_id": ["C1"]}))
    assert m.config["config"]["mapStyle"] == {"styleType": "no_map"}
    assert m.replace_default_styles is True  # kepler's built-in (cartocdn, mapbox) styles are replaced
    [style] = m.map_styles
    assert style["id"] == "no_map" and style["url"] == "" and style["style"] == {"version": 8, "sources": {},
                                                                                   "layers": []}
    assert "http" not in str(m.map_styles)  # not even an icon from a CDN
    assert 'mapStylesReplaceDefault:!!' in m._esm and "if(this.props.mapStylesReplaceDefault)return;" in m._esm
    department, replace = basemap_styles("https://tiles.example.gov/style.json")
    assert replace and department[0]["url"] == "https://tiles.example.gov/style.json"
    assert basemap_styles("dark-matter") == ([], False)  # kepler's own basemaps: an explicit opt-in


def test_a_changed_keplergl_script_refuses_maps(tmp_path, monkeypatch):
    from alpr_lib.errors import ConfigError
    from alpr_lib.viz import offline_kepler

    script = tmp_path / "widget.js"
    script.write_text("export default {render(){}}")
    monkeypatch.setattr(offline_kepler, "_SCRIPT", script)
    offline_kepler.patched_widget_script.cache_clear()
    try:
        with pytest.raises(ConfigError, match="changed its widget script"):
            offline_kepler.patched_widget_script()
    finally:
        offline_kepler.patched_widget_script.cache_clear()


def test_kinds_are_declared_once_with_distinct_names():
    assert len({k.name for k in KINDS}) == len(KINDS) and len({k.label for k in KINDS}) == len(KINDS)


# --- in the browser ---------------------------------------------------------------------------------------

def _pixel(state: dict, box: dict, lat: float, lon: float) -> tuple[float, float]:
    """Where (lat, lon) is on the map canvas: Web Mercator around the config's centre, 512-px world tiles."""
    world = 512 * 2 ** state["zoom"]

    def xy(la: float, lo: float) -> tuple[float, float]:
        return ((lo + 180) / 360 * world,
                (math.pi - math.log(math.tan(math.pi / 4 + math.radians(la) / 2))) / (2 * math.pi) * world)

    (x, y), (x0, y0) = xy(lat, lon), xy(state["latitude"], state["longitude"])
    return box["x"] + box["width"] / 2 + x - x0, box["y"] + box["height"] / 2 + y - y0


MAP_CELL = """\
import pickle
from alpr_lib.samples import roads_gdf
from alpr_lib.viz import reads_map

with open({path!r}, "rb") as f:
    incident, hits = pickle.load(f)
reads_map(hits, incidents=[incident], radius_m=300, roads=roads_gdf(), tracks=True, basemap="")
"""


@pytest.fixture
def map_notebook(analyst, key, tmp_path) -> Path:
    """A one-cell notebook drawing the map of a canvass of the shared store (results pickled by the test)."""
    results = tmp_path / "canvass.pickle"
    results.write_bytes(pickle.dumps(_canvass(analyst, key)))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(MAP_CELL.format(path=str(results)))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "nb" / "canvass_map.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


@contextmanager
def plain_voila(notebook: Path, env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``voila NOTEBOOK`` started in the repository root (its voila.json applies) on a free loopback port.

    ``JUPYTER_PATH`` names the repository's ``share/jupyter``, where Voila finds the ``alpr`` template that
    voila.json names (an installed environment has it on the Jupyter data path).
    """
    port = _free_port()
    env = {**os.environ, **env, "JUPYTER_PATH": str(REPO / "share" / "jupyter"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    voila = Path(sys.executable).with_name("voila")
    command = [str(voila), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", str(notebook)]
    with served(command, port=port, cwd=REPO, env=env, log_path=tmp_path / "voila.log", what="voila"):
        yield f"http://127.0.0.1:{port}/"


def _check_the_map(page, outside: list[str], console: list[tuple[str, str]], screenshot: Path,
                   legend: tuple[str, ...] = LEGEND) -> None:
    """The map drew, its legend names every layer, nothing went elsewhere, no console trouble from the map."""
    canvas = page.locator(".alpr-map canvas").first
    canvas.wait_for(state="attached", timeout=120_000)
    page.wait_for_function("() => document.querySelectorAll('.legend--layer_name').length > 0", timeout=60_000)
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(3000)  # let tiles of nothing, fonts and late requests happen if they were going to
    names = [n.strip() for n in page.locator(".legend--layer_name").all_inner_texts()]
    assert list(legend) == [n for n in names if n in legend], names
    box = canvas.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200
    page.screenshot(path=str(screenshot))  # kept in the test's tmp dir for a human to look at
    assert "Basemap by" not in page.locator("body").inner_text()
    assert outside == [], outside
    trouble = [text for kind, text in console if kind in ("error", "warning") and MAP_TROUBLE.search(text)]
    assert trouble == [], trouble


@pytest.mark.browser
@needs_chromium
def test_map_in_jupyterlab_asks_no_other_host(map_notebook, demo, tmp_path):
    with jupyterlab(map_notebook, demo.env(), tmp_path) as (base, token, work), \
            notebook_page(base, token, map_notebook.name) as (page, blocked):
        console: list[tuple[str, str]] = []
        page.on("console", lambda msg: console.append((msg.type, msg.text)))
        run_all(page)
        _check_the_map(page, blocked, console, work / "map-jupyterlab.png")


@pytest.mark.browser
@needs_chromium
def test_map_in_plain_voila_asks_no_other_host(map_notebook, demo, tmp_path):
    incident, hits = pickle.loads((map_notebook.parent.parent / "canvass.pickle").read_bytes())
    m = reads_map(hits, incidents=[incident], radius_m=300, roads=roads_gdf(), tracks=True)
    read = m.data["reads"].sort_values("distance_m").iloc[-1]  # the read farthest from the incident
    with plain_voila(map_notebook, demo.env(), tmp_path) as url, watched_page(url) as (page, outside, console):
        _check_the_map(page, outside, console, tmp_path / "map-voila.png")
        assert "cdn.jsdelivr.net" not in page.content()  # the alpr template dropped the Font Awesome links
        box = page.locator(".alpr-map canvas").first.bounding_box()
        page.mouse.move(*_pixel(m.config["config"]["mapState"], box, read["lat"], read["lon"]))
        page.wait_for_function("() => (document.querySelector('.map-popover') || {}).innerText", timeout=20_000)
        popup = page.locator(".map-popover").first.inner_text()
        assert read["plate"] in popup and read["time"] in popup and read["camera_id"] in popup, popup
        assert outside == []  # a hover fetches nothing either


MAP_NOTEBOOKS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb") if "reads_map(" in p.read_text())


@pytest.mark.browser
@needs_chromium
@pytest.mark.parametrize("name", MAP_NOTEBOOKS)
def test_repository_notebook_maps_in_plain_voila_ask_no_other_host(name, demo_env, tmp_path):
    """``voila notebooks/NAME.ipynb`` as an analyst would start it: the map draws, names its layers, stays home."""
    notebook = REPO / "notebooks" / f"{name}.ipynb"
    source = "".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    legend = ("Reads", "Tracks") if "tracks=" in source else ("Reads",)  # a track promised is a track drawn
    with plain_voila(notebook, demo_env("analyst"), tmp_path) as url, watched_page(url) as (page, outside, console):
        _check_the_map(page, outside, console, tmp_path / f"{name}-voila.png", legend=legend)
