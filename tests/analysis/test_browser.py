"""Notebook 02 opened in JupyterLab in a real headless Chromium: run all, the kepler map canvas draws.

Hermetic: every request that is not to the loopback JupyterLab server is aborted (and counted), so the map
must draw its data layers (and the sample road network) with no basemap tiles from the internet.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_incident_canvass.ipynb"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium)")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(demo_env, tmp_path):
    """A JupyterLab server on a free loopback port, with a token, serving a copy of the notebook."""
    env = {**os.environ, **demo_env("analyst"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab")}
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--LabApp.news_url=None", "--expose-app-in-browser",
         f"--ServerApp.root_dir={work}", "--ServerApp.open_browser=False"],
        env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start: " + (tmp_path / "lab.log").read_text()[-2000:])
        yield base, token, work
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_canvass_notebook_draws_the_kepler_map_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    base, token, work = lab
    blocked: list[str] = []

    def guard(route) -> None:
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", guard)
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=60_000)
            select = page.locator(".jp-Dialog button.jp-mod-accept")
            if select.count():
                select.first.click()
            page.wait_for_function(
                "() => { const w = window.jupyterapp.shell.currentWidget;"
                " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=90_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_selector(".alpr-canvass .alpr-canvass-run", timeout=120_000)
            page.wait_for_function("() => document.body.innerText.includes('OK: 8MKT417')", timeout=180_000)
            canvas = page.locator(".jp-OutputArea-output canvas")
            canvas.first.wait_for(state="attached", timeout=120_000)
            box = canvas.first.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 200
            assert "Error" not in page.locator(".jp-OutputArea-output.jp-mod-error").all_inner_texts().__str__()
            canvas.first.scroll_into_view_if_needed()
            page.wait_for_timeout(3000)
            page.screenshot(path=str(work / "kepler.png"))  # kept in the test's tmp dir for a human to look at
        finally:
            browser.close()
    assert not [u for u in blocked if "127.0.0.1" in u]
