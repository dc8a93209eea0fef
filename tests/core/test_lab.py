"""``alpr lab`` starts a real JupyterLab server on the notebooks with ALPR_STORE set."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_lab_serves_the_notebooks(kit, tmp_path):
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"))
    alpr = Path(sys.executable).with_name("alpr")
    proc = subprocess.Popen([str(alpr), "lab", "--store", str(kit.path), "--no-browser", f"--port={port}",
                             "--ServerApp.token=t0k", "--ServerApp.ip=127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 90
        listing = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token=t0k", timeout=2) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, "JupyterLab did not start"
        names = {item["name"] for item in listing["content"]}
        assert "01_partial_plate_search.ipynb" in names
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "opening JupyterLab on ALPR store" in output


def test_lab_refuses_a_wrong_store(tmp_path):
    from click.testing import CliRunner

    from alpr_lib.cli.main import cli

    result = CliRunner().invoke(cli, ["lab", "--store", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "not an ALPR store" in result.output
