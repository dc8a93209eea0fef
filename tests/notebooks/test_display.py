"""Results shown for people and errors shown as messages (issue 11, items 3 and 4).

Tables: no shape line or dtype row, local times with the zone named once, rounded numbers, lists as text,
thumbnails from bytes the caller holds, pandas/GeoPandas frames too. Errors: an AlprError is one line in a
kernel (in-process IPython and a notebook executed by nbclient), any other exception keeps its traceback; the
purpose and case-number refusals read as text with an example, not a Python list or a regex.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.notebook import error_message
from alpr_lib.viz.tables import readable_frame, show
from tests.conftest import StoreKit, random_reads

ZONE = "America/Los_Angeles"
DTYPE_TEXT = ("shape:", "datetime[", "f32", "f64", "i64", "list[", "---")
#: a 1x1 PNG: what a stored plate crop looks like to the table
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
                       "RU5ErkJggg==")


@pytest.fixture
def searched(kit: StoreKit) -> tuple[StoreKit, pl.DataFrame]:
    kit.login("ingest").ingest_reads(random_reads(300, seed=11), progress=False)
    hits = kit.login("analyst").search_plates("7AB*", purpose="stolen plates")
    assert hits.height > 3
    return kit, hits


def test_search_table_reads_as_a_table_not_as_polars(searched):
    _, hits = searched
    table = show(hits, title="Plates like 7AB*")
    page = table.html()
    for text in DTYPE_TEXT:
        assert text not in page and text not in table.text()
    assert page.count(f"times in {ZONE}") == 1 and "Plates like 7AB*" in table.caption
    assert "-07:00" not in page and "+00:00" not in page and "UTC" not in page
    # local times shown, the UTC twin hidden: the frame's captured_local, never captured_at
    local = hits.get_column("captured_local").dt.strftime("%Y-%m-%d %H:%M:%S").to_list()
    utc = hits.get_column("captured_at").dt.strftime("%Y-%m-%d %H:%M:%S").to_list()
    assert all(t in page for t in local) and not any(t in page for t in utc)
    shown = table.frame
    assert "captured" in shown.columns and "image_ref" not in shown.columns
    assert all(re.fullmatch(r"\d+(\.\d)?", str(v)) for v in shown.get_column("confidence (%)").to_list())
    assert hits.schema["captured_local"] == pl.Datetime("us", ZONE)  # code still gets the polars frame as it was


def test_numbers_lists_booleans_and_utc_only_frames():
    frame = pl.DataFrame({
        "rank": [1, 2], "plate": ["7ABK123", "8XYZ999"],
        "plate_confidence": pl.Series([94.599998, 71.25], dtype=pl.Float32),
        "score": [0.123456, 0.5], "distance_m": [12.6, 230.2],
        "cameras": [["MPD-F003", "MPD-F007"], [f"C{i}" for i in range(10)]],
        "before_and_after": [True, False],
        "first_seen": [datetime(2026, 6, 1, 19, 30, tzinfo=UTC), None],  # a convoy frame: UTC only
    })
    table = show(frame)
    shown = table.frame
    assert shown.get_column("confidence (%)").to_list() == [94.6, 71.3]
    assert shown.get_column("score").to_list() == [0.123, 0.5]
    assert shown.get_column("distance (m)").to_list() == [13, 230]
    assert shown.get_column("cameras").to_list() == ["MPD-F003, MPD-F007", "C0, C1, C2, C3, C4, C5 … (+4 more)"]
    assert shown.get_column("before and after").to_list() == ["yes", "no"]
    assert shown.get_column("first seen").to_list() == ["2026-06-01 12:30:00", None]  # 19:30 UTC is 12:30 PDT
    assert table.caption == f"2 rows · times in {ZONE}"
    assert "94.599998" not in table.html() and '["MPD-F003"' not in table.html()


def test_incident_frame_shows_one_local_start_and_an_explicit_zone_wins():
    start = datetime(2026, 5, 16, 5, 40, tzinfo=UTC)
    frame = pl.DataFrame({"incident_id": ["INC-1"], "occurred_start": [start], "occurred_end": [start],
                          "created_at": [start]}).with_columns(
        pl.col("occurred_start").dt.convert_time_zone(ZONE).alias("occurred_local"))
    shown = readable_frame(frame)
    assert "occurred start" not in shown.columns and shown.get_column("occurred").item() == "2026-05-15 22:40:00"
    assert shown.get_column("created at").item() == "2026-05-15 22:40:00"  # a UTC column, shown local
    assert show(frame, zone="America/New_York").frame.get_column("created at").item() == "2026-05-16 01:40:00"


def test_geodataframe_and_thumbnails():
    gpd = pytest.importorskip("geopandas")
    import pandas as pd

    local = pd.Timestamp("2026-06-01 10:15:00", tz=ZONE)
    canvass = gpd.GeoDataFrame({"read_id": ["R1", "R2"], "plate": ["7ABK123", "6XYZ111"],
                                "captured_local": [local, local], "lat": [37.43, 37.44], "lon": [-121.9, -121.91]},
                               geometry=gpd.points_from_xy([-121.9, -121.91], [37.43, 37.44]), crs="EPSG:4326")
    table = show(canvass, images={"R1": PNG, "R2": None})
    assert "geometry" not in table.frame.columns and "POINT" not in table.html()
    assert table.frame.get_column("captured").to_list() == ["2026-06-01 10:15:00"] * 2
    assert table.frame.columns[0] == "plate crop"
    assert table.html().count('<img alt="plate crop" src="data:image/png;base64,') == 1


def test_refusals_read_as_text_with_an_example(kit: StoreKit):
    analyst = kit.login("analyst")
    year = f"{datetime.now(ZoneInfo(ZONE)).year % 100:02d}"  # this year, in the department's zone
    with pytest.raises(alpr.AccessDenied) as refused:
        analyst.search_plates("7AB*", purpose="curiosity")
    text = str(refused.value)
    assert "[" not in text and "stolen plates, missing persons" in text
    assert "criminal investigation (needs a case number)" in text
    with pytest.raises(alpr.AccessDenied) as refused:
        analyst.search_plates("7AB*", purpose="criminal investigation")
    assert str(refused.value).endswith(f"requires a case number, for example {year}-004512")
    with pytest.raises(alpr.AccessDenied) as refused:
        analyst.search_plates("7AB*", purpose="criminal investigation", case_number="2024-1234")
    assert "\\d" not in str(refused.value) and f"for example {year}-004512" in str(refused.value)
    assert error_message(refused.value).startswith("Access refused: case number '2024-1234' does not match")


def test_custom_case_format_gets_its_own_example(kit: StoreKit):
    kit.login("admin").admin.set_setting("case_number_pattern", r"^MPD-\d{4}$")
    with pytest.raises(alpr.AccessDenied, match=r"department format \(for example MPD-4512\)"):
        kit.login("analyst").search_plates("7AB*", purpose="criminal investigation", case_number="24-001234")


@pytest.mark.parametrize("error, line", [
    (alpr.AuthError("login failed: unknown username or wrong password"),
     "Login failed: unknown username or wrong password; check both and run the login cell again"),
    (alpr.AuthError("your session expired because it was idle; log in again with alpr.login()"),
     "Session ended: your session expired because it was idle; log in again with alpr.login()"),
    (alpr.ValidationError("a pattern needs at least 3 known characters"),
     "Invalid input: a pattern needs at least 3 known characters"),
    (alpr.NotFound("no read with id 'X'"), "Not found: no read with id 'X'"),
])
def test_error_message_names_the_kind_in_words(error, line):
    assert error_message(error) == line


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    alpr.notebook.setup()
    yield shell
    alpr.notebook.teardown()
    InteractiveShell.clear_instance()


def test_exception_handler_prints_one_line_and_leaves_other_tracebacks(shell, capsys):
    result = shell.run_cell("from alpr_lib import AccessDenied\nraise AccessDenied('state the purpose of this access')")
    out = capsys.readouterr().out
    assert not result.success and out.strip() == "Access refused: state the purpose of this access"
    result = shell.run_cell("raise ValueError('a bug')")
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)  # IPython colours its tracebacks
    assert not result.success and "Traceback" in out and "ValueError: a bug" in out


def test_frames_at_the_end_of_a_cell_use_the_readable_table(shell):
    shell.user_ns["frame"] = pl.DataFrame({"plate": ["7ABK123"], "plate_confidence": [94.599998]})
    data, _ = shell.display_formatter.format(shell.user_ns["frame"])
    assert "confidence (%)" in data["text/html"] and "94.6" in data["text/plain"]
    assert not any(text in data["text/plain"] for text in DTYPE_TEXT)
    alpr.notebook.teardown()
    data, _ = shell.display_formatter.format(shell.user_ns["frame"])
    assert "shape:" in data["text/plain"] and shell.custom_exceptions == ()
    shell.run_line_magic("load_ext", "alpr_lib.notebook")  # the same, as an IPython extension
    data, _ = shell.display_formatter.format(shell.user_ns["frame"])
    assert "shape:" not in data["text/plain"] and shell.custom_exceptions == (alpr.AlprError,)


def test_utc_only_frames_follow_the_department_zone_of_the_notebook_session(shell, kit: StoreKit):
    kit.login("admin").admin.set_setting("timezone", "America/New_York")
    shell.user_ns["s"] = kit.login("analyst")
    convoy = pl.DataFrame({"plate": ["7ABK123"], "first_seen": [datetime(2026, 6, 1, 19, 30, tzinfo=UTC)]})
    table = show(convoy)
    assert table.caption.endswith("times in America/New_York")
    assert table.frame.get_column("first seen").item() == "2026-06-01 15:30:00"
    alpr.notebook.setup(zone="America/Chicago")  # the notebook may name the zone itself
    assert show(convoy).caption.endswith("times in America/Chicago")


@pytest.mark.notebook
def test_executed_notebook_shows_a_wrong_password_as_one_line(searched, tmp_path: Path):
    import nbformat
    from nbclient import NotebookClient

    kit, _ = searched
    store = str(kit.path)
    cells = [
        "import alpr_lib as alpr\nalpr.notebook.setup()",
        f"s = alpr.login('analyst', 'not-the-password', {store!r})",
        f"s = alpr.login('analyst', {kit.passwords['analyst']!r}, {store!r})\n"
        "hits = s.search_plates('7AB*', purpose='stolen plates')\nhits",
        "raise ValueError('a bug keeps its traceback')",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    login, search, bug = notebook.cells[1].outputs, notebook.cells[2].outputs, notebook.cells[3].outputs
    login_text = [o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in login]
    assert [o["output_type"] for o in login] == ["display_data"]
    assert login_text == ["Login failed: unknown username or wrong password; check both and run the login cell again"]
    assert "Traceback" not in str(login) and "login.py" not in str(login) and "users.py" not in str(login)
    page = search[-1]["data"]["text/html"]
    assert f"times in {ZONE}" in page and not any(text in page for text in DTYPE_TEXT)
    assert "application/vnd.jupyter.widget-view+json" in search[-1]["data"]  # interactive in a live kernel
    assert bug[0]["output_type"] == "error" and any("Traceback" in line for line in bug[0]["traceback"])


def test_forms_show_the_same_readable_line(searched):
    from alpr_lib.viz.forms import plate_form
    from alpr_lib.viz.search_form import PlateSearchForm

    kit, _ = searched

    def refuse(values: dict) -> None:
        raise alpr.AccessDenied("over the limit")

    form = plate_form(plate="9FJR553", purposes=["criminal investigation"], offense_types=["robbery"], on_run=refuse)
    assert form.submit() is None and "Access refused: over the limit" in form.message.value
    search = PlateSearchForm(kit.login("analyst"), pattern="7AB*", purpose="criminal investigation")
    assert search.run() is None
    message = search.message.value
    assert "Access refused: the purpose 'criminal investigation' requires a case number, for example" in message
    assert "AccessDenied" not in message and "\\d" not in message
