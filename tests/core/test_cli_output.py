"""What the ``alpr`` commands print for people: sentences for empty results, readable tables in the department's
time zone, refusals that say what to do, and an ``alpr lab`` that stops its JupyterLab when it is stopped."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from click.testing import CliRunner

import alpr_lib as alpr
from alpr_lib.cli._common import TableView, render_table
from alpr_lib.cli.audit import known_actions
from alpr_lib.cli.main import cli
from alpr_lib.review.query_text import compact_query
from tests.conftest import StoreKit, random_reads

ROOT = Path(__file__).resolve().parents[2]
ZONE = "America/Los_Angeles"
DTYPE_ROW = re.compile(r"\b(str|i64|i32|f32|f64)\b|datetime\[")


@pytest.fixture
def run(monkeypatch, tmp_path):
    def invoke(user: str, kit: StoreKit, *args: str):
        file = tmp_path / f"pw-{user}"
        file.write_text(kit.passwords[user])
        monkeypatch.setenv("ALPR_PASSWORD_FILE", str(file))
        monkeypatch.setenv("COLUMNS", "120")  # a terminal's width, whatever runs the tests
        command, rest = args[0].split(), args[1:]
        return CliRunner().invoke(cli, [*command, "--store", str(kit.path), "--user", user, *rest])
    return invoke


@pytest.fixture
def reads_kit(kit: StoreKit) -> StoreKit:
    kit.login("ingest").ingest_reads(random_reads(200, seed=4))
    return kit


def _local(moment) -> str:
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M:%S")


def test_an_empty_search_says_no_reads_matched_and_exits_0(run, reads_kit):
    result = run("analyst", reads_kit, "search", "QQQQ999", "--purpose", "stolen plates")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no reads matched QQQQ999"
    history = run("analyst", reads_kit, "history", "QQQQ999", "--purpose", "stolen plates")
    assert history.exit_code == 0 and "no reads matched" in history.stdout


def test_a_search_table_is_for_people(run, reads_kit):
    hits = reads_kit.login("analyst").search_plates("7ABK123", purpose="stolen plates")
    assert hits.height > 2
    result = run("analyst", reads_kit, "search", "7ABK123", "--purpose", "stolen plates")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "shape:" not in out and not DTYPE_ROW.search(out), out
    assert f"{hits.height} reads matched 7ABK123" in out and out.count(ZONE) == 1  # the zone named once
    for row in hits.iter_rows(named=True):  # every read, at its local time, confidence rounded
        line = next(x for x in out.splitlines() if x.startswith(row["read_id"]))
        assert _local(row["captured_at"]) in line and row["captured_at"].strftime("%H:%M:%S") not in line  # not UTC
        assert f"{row['plate_confidence']:.1f}" in line.split()
    assert "99999" not in out and "null" not in out
    wide = run("analyst", reads_kit, "search", "7ABK123", "--purpose", "stolen plates", "--wide", "--limit", "2")
    assert wide.exit_code == 0, wide.output
    assert "plate_raw" in wide.stdout and "source" in wide.stdout.splitlines()[1]
    assert f"showing the first 2 of {hits.height} reads" in wide.stdout


def test_history_refuses_a_pattern_with_a_clear_message(run, reads_kit):
    result = run("analyst", reads_kit, "history", "7AB?123", "--purpose", "stolen plates")
    assert result.exit_code == 1
    assert "plate history takes one full plate" in result.output and "alpr search" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    analyst = reads_kit.login("analyst")
    for pattern in ("7AB*", "7AB[B8]123"):
        with pytest.raises(alpr.ValidationError, match=r"takes one full plate.*search_plates"):
            analyst.plate_history(pattern, purpose="stolen plates")


def test_audit_show_lists_every_record_with_purpose_and_local_times(run, reads_kit):
    analyst = reads_kit.login("analyst")
    for _ in range(15):
        analyst.search_plates("7ABK123", purpose="stolen plates")
    with pytest.raises(alpr.AccessDenied):
        analyst.search_plates("7ABK123", purpose="criminal investigation")
    records = reads_kit.login("auditor").audit_records()
    assert records.height > 30
    result = run("auditor", reads_kit, "audit show")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "shape:" not in out and not DTYPE_ROW.search(out), out
    header = out.splitlines()[1].split()
    assert header[:6] == ["seq", "time", "username", "action", "outcome", "purpose"] and "client" in header
    assert f"times in {ZONE}" in out.splitlines()[0]
    rows = {int(m[1]): m[0] for m in re.finditer(r"^\s*(\d+)  \d{4}-.*$", out, re.M)}
    assert set(rows) >= set(records["seq"].to_list())  # all of them, not ten
    for row in records.iter_rows(named=True):
        assert _local(row["time"]) in rows[row["seq"]]
        if row["purpose"]:
            assert row["purpose"] in rows[row["seq"]]
    assert "plate_pattern=7ABK123" in out and '{"' not in out  # the query as key=value text, not cut JSON
    assert re.search(r"^\s+reason: .*case number", out, re.M)  # why the denied search was refused
    capped = run("auditor", reads_kit, "audit show", "--limit", "5")
    assert capped.exit_code == 0 and "showing the newest 5 of" in capped.stdout
    assert len(re.findall(r"^\s*\d+  \d{4}-", capped.stdout, re.M)) == 5


def test_audit_show_escapes_control_characters_people_typed(run, reads_kit):
    with pytest.raises(alpr.ValidationError):  # refused, and audited with the pattern as typed
        reads_kit.login("analyst").search_plates("7AB\x1b[2J\r\u202e123", purpose="stolen plates")
    out = run("auditor", reads_kit, "audit show", "--action", "reads.search").stdout
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert "7AB\\x1b[2J\\x0d\\u202e123" in out


def test_audit_show_refuses_an_unknown_action_listing_the_known_ones(run, reads_kit):
    result = run("auditor", reads_kit, "audit show", "--action", "bogus.action")
    assert result.exit_code != 0
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "unknown action 'bogus.action'" in message
    for name in ("reads.search", "reads.history", "login", "store.init", "audit.anchor", "audit.read"):
        assert name in message
    assert "did you mean reads.search" in run("auditor", reads_kit, "audit show", "--action", "reads.serch").output
    assert {"login", "store.init", "store.upgrade", "audit.anchor"} <= set(known_actions())
    recorded = set(reads_kit.login("auditor").audit_records()["action"].to_list())
    assert recorded <= set(known_actions())  # every action the log holds is one show accepts
    nobody = run("auditor", reads_kit, "audit show", "--for-user", "nobody")
    assert nobody.exit_code == 0 and nobody.stdout.strip() == "no audit records matched (--for-user nobody)"
    bad_outcome = run("auditor", reads_kit, "audit show", "--outcome", "maybe")
    assert bad_outcome.exit_code != 0 and "allowed" in bad_outcome.output


def test_compact_query_reads_as_text():
    zone = ZoneInfo(ZONE)
    text = json.dumps({"plate_pattern": "7AB?12*", "cameras": None, "exact": False, "start": "2026-06-01",
                       "start_utc": "2026-06-01T07:00:00+00:00", "completed_at": None,
                       "completed_at_utc": "2026-06-02T20:30:00+00:00", "plates_returned": ["7ABK123", "7A8K123"],
                       "settings": {"lockout_failures": 5}, "regions": []})
    assert compact_query(text, zone) == ("plate_pattern=7AB?12*; exact=no; start=2026-06-01; "
                                         "completed_at=2026-06-02 13:30:00; plates_returned=7ABK123, 7A8K123; "
                                         "settings.lockout_failures=5; regions=(none)")
    assert compact_query("{}", zone) == ""
    # the dashboard shows long lists cut, and a demo's planted record says so in both
    planted = json.dumps({"plates_returned": [f"P{i}" for i in range(30)], "synthetic_clock": True})
    assert compact_query(planted, zone, max_items=3) == "plates_returned=P0, P1, P2 ...; synthetic_clock=yes"
    assert compact_query(planted, zone).count(", ") == 29


def test_long_text_wraps_to_the_terminal_and_wide_shows_it_whole():
    frame = pl.DataFrame({"seq": [1], "note": ["word " * 60], "long_detail": ["x" * 500]})
    view = TableView(columns=("seq", "note"), wrap=("note",), details=("long_detail",))
    lines, cut = render_table(frame, view, width=80)
    assert cut and all(len(line) <= 80 for line in lines) and lines[-1].rstrip().endswith("…")
    wide, cut_wide = render_table(frame, view, width=80, wide=True)
    assert not cut_wide and len(wide) == 3 and ("x" * 500) in wide[2] and wide[0].split() == ["seq", "note",
                                                                                                "long_detail"]


# --- alpr lab ----------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited: it only waits for its parent to collect it
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_alpr_lab_stops_its_jupyterlab(kit, tmp_path, signum):
    port, runtime = _free_port(), tmp_path / "rt"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab"))
    alpr_cli = Path(sys.executable).with_name("alpr")
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen([str(alpr_cli), "lab", "--store", str(kit.path), "--no-browser", f"--port={port}",
                             "--ServerApp.token=t0k", "--ServerApp.ip=127.0.0.1"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    lab_pid = None
    try:
        deadline = time.time() + 90
        while time.time() < deadline and lab_pid is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=t0k", timeout=2)
                lab_pid = int(next(runtime.glob("jpserver-*.json")).stem.split("-")[1])
            except (OSError, StopIteration):
                assert proc.poll() is None, (tmp_path / "lab.log").read_text()
                time.sleep(0.5)
        assert lab_pid is not None and lab_pid != proc.pid, "JupyterLab did not start"
        url = f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification?token=t0k"
        with urllib.request.urlopen(url, timeout=10) as response:
            notification = json.load(response)
        assert notification["schema"]["properties"]["fetchNews"]["default"] == "false"  # no news toast
        proc.send_signal(signum)  # to `alpr lab` only, as a service manager or `kill` would
        assert proc.wait(timeout=60) == 0
        deadline = time.time() + 30
        while _alive(lab_pid) and time.time() < deadline:
            time.sleep(0.2)
        assert not _alive(lab_pid), "JupyterLab kept serving after alpr lab was stopped"
    finally:
        if proc.poll() is None or (lab_pid and _alive(lab_pid)):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=t0k", timeout=2)
