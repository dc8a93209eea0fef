"""Driving a real JupyterLab in headless Debian Chromium (never a downloaded browser).

Hermetic: every request that is not to the loopback server is aborted and recorded.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(command: list[str], *, port: int, cwd: Path | None, env: dict[str, str], log_path: Path, what: str,
           ready_path: str | None = None) -> Iterator[subprocess.Popen]:
    """A server process on a loopback ``port``, ready once ``ready_path`` answers (else once the port accepts),
    bounded by a minute and always stopped; its log is quoted if it exits or never gets ready."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            for _ in range(120):
                if proc.poll() is not None:
                    pytest.fail(f"{what} exited: " + log_path.read_text()[-2000:])
                if _answers(port, ready_path):
                    break
                time.sleep(0.5)
            else:
                pytest.fail(f"{what} did not start: " + log_path.read_text()[-2000:])
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _answers(port: int, path: str | None) -> bool:
    if path is None:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
        return True
    except OSError:
        return False


@contextmanager
def jupyterlab(notebook: Path, env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A JupyterLab server on a free loopback port, with a token, serving a copy of ``notebook``."""
    from alpr_lib.cli.lab import JUPYTER_CONFIG  # the settings `alpr lab` gives JupyterLab (no news toast)

    env = {**os.environ, **env, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab"),
           "JUPYTER_CONFIG_PATH": str(JUPYTER_CONFIG)}
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(notebook, work / notebook.name)
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", "--LabApp.news_url=None", "--expose-app-in-browser",
               f"--ServerApp.root_dir={work}", "--ServerApp.open_browser=False"]
    with served(command, port=port, cwd=None, env=env, log_path=tmp_path / "lab.log", what="JupyterLab",
                ready_path=f"/api/status?token={token}"):
        yield f"http://127.0.0.1:{port}", token, work


@contextmanager
def watched_page(url: str, *, wait_until: str = "load") -> Iterator[tuple[object, list[str], list[tuple[str, str]]]]:
    """A Chromium page at ``url``; yields (page, URLs asked of other hosts — each aborted —, console messages)."""
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    console: list[tuple[str, str]] = []

    def guard(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", guard)
            page.on("console", lambda msg: console.append((msg.type, msg.text)))
            page.goto(url, timeout=120_000, wait_until=wait_until)
            yield page, outside, console
        finally:
            browser.close()


@contextmanager
def notebook_page(base: str, token: str, name: str) -> Iterator[tuple[object, list[str]]]:
    """A Chromium page with the notebook open and its kernel idle; yields (page, blocked request URLs)."""
    with watched_page(f"{base}/lab/tree/{name}?token={token}") as (page, blocked, _console):
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=60_000)
        select = page.locator(".jp-Dialog button.jp-mod-accept")
        if select.count():
            select.first.click()
        page.wait_for_function(
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
            " && w.sessionContext.session.kernel.status === 'idle'; }", timeout=90_000)
        yield page, blocked


def run_all(page) -> None:
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def keep_for_docs(screenshot: Path) -> None:
    """Copy a browser test's screenshot to ``$ALPR_SCREENSHOTS`` when set (``scripts/screenshots.sh`` sets
    it to docs/images for the user guide); the suite itself keeps them in its temporary directories."""
    target = os.environ.get("ALPR_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(screenshot, Path(target) / screenshot.name)
