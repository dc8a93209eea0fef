"""Result tables and error lines in a real JupyterLab and in Voila (headless Debian Chromium): the itables widget
renders offline (no request beyond the loopback server), a header click sorts, typing filters, and a wrong
password shows the one-line message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from tests.conftest import StoreKit, random_reads
from tests.jupyterlab import (
    _free_port,
    jupyterlab,
    keep_for_docs,
    needs_chromium,
    notebook_page,
    run_all,
    served,
    watched_page,
)

pytestmark = [pytest.mark.browser, needs_chromium]

TABLE = ".alpr-table-widget"
#: the values of one column of the first table, as the page shows them (DataTables splits head and body)
COLUMN_JS = """([label]) => {
  const root = document.querySelector('.alpr-table-widget');
  const heads = [...root.querySelectorAll('.dt-scroll-head th, thead th')].map(th => th.innerText.trim());
  const at = heads.indexOf(label);
  return [...root.querySelectorAll('.dt-scroll-body tbody tr, table.dataTable > tbody > tr')]
    .map(tr => tr.children[at] ? tr.children[at].innerText.trim() : null);
}"""


def _notebook(path: Path, store: Path) -> Path:
    cells = [
        "import alpr_lib as alpr\nalpr.notebook.setup()",
        f"s = alpr.login(store={str(store)!r})\nhits = s.search_plates('7AB*', purpose='stolen plates')\nhits",
        f"alpr.login('analyst', 'not-the-password', {str(store)!r})",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def _setup(kit: StoreKit, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store with reads, the analyst's password file, and the notebook; the kernel logs in from ALPR_*."""
    kit.login("ingest").ingest_reads(random_reads(400, seed=5), progress=False)
    secret = tmp_path / "analyst.pw"
    secret.write_text(kit.passwords["analyst"] + "\n")
    secret.chmod(0o600)
    source = tmp_path / "src"
    source.mkdir()
    return _notebook(source / "display.ipynb", kit.path), {"ALPR_USER": "analyst", "ALPR_PASSWORD_FILE": str(secret)}


def test_table_sorts_filters_offline_and_errors_are_one_line(kit: StoreKit, tmp_path: Path):
    notebook, env = _setup(kit, tmp_path)
    with jupyterlab(notebook, env, tmp_path) as (base, token, work), \
            notebook_page(base, token, notebook.name) as (page, blocked):
        run_all(page)
        page.wait_for_selector(f"{TABLE} table.dataTable", timeout=120_000)
        page.wait_for_selector(".alpr-error", timeout=60_000)
        table_text = page.locator(TABLE).first.inner_text()
        assert "times in America/Los_Angeles" in table_text and "reads" in table_text
        assert "shape:" not in table_text and "datetime[" not in table_text and "f32" not in table_text

        header = page.locator(f"{TABLE} th", has_text="confidence (%)").first
        header.click()
        page.wait_for_function(
            "() => document.querySelector('.alpr-table-widget th.dt-ordering-asc') !== null", timeout=10_000)
        ascending = [float(v) for v in page.evaluate(COLUMN_JS, ["confidence (%)"]) if v]
        assert len(ascending) >= 5 and ascending == sorted(ascending)
        header.click()
        page.wait_for_function(
            "() => document.querySelector('.alpr-table-widget th.dt-ordering-desc') !== null", timeout=10_000)
        descending = [float(v) for v in page.evaluate(COLUMN_JS, ["confidence (%)"]) if v]
        assert descending == sorted(descending, reverse=True) and descending[0] >= ascending[-1]

        page.locator(f"{TABLE} .dt-search input").first.fill("7ABX129")
        page.wait_for_function(
            "() => { const rows = document.querySelectorAll('.alpr-table-widget .dt-scroll-body tbody tr');"
            " return rows.length > 0 && [...rows].every(r => r.innerText.includes('7ABX129')); }", timeout=10_000)

        error = page.locator(".alpr-error").first.inner_text()
        assert "Login failed: unknown username or wrong password" in error
        outputs = page.locator(".jp-OutputArea").all_inner_texts()
        assert not any("Traceback" in text or "login.py" in text for text in outputs)
        page.screenshot(path=str(work / "display.png"))
        keep_for_docs(work / "display.png")
        assert blocked == [], f"requests left the machine: {blocked}"


def test_table_renders_and_sorts_in_voila(kit: StoreKit, tmp_path: Path):
    """Plain ``voila NOTEBOOK`` (its default template, run outside the repository so no project configuration
    applies): the table and the error line come from the kernel; the table makes no request of its own (the
    default template's Font Awesome stylesheets are the only blocked ones, and the repository's Voila template
    serves those locally)."""
    notebook, env = _setup(kit, tmp_path)
    port = _free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", str(notebook)]
    with served(command, port=port, cwd=notebook.parent, env={**os.environ, **env}, log_path=tmp_path / "voila.log",
                what="Voila"), \
            watched_page(f"http://127.0.0.1:{port}/", wait_until="commit") as (page, blocked, _console):
        page.wait_for_selector(f"{TABLE} table.dataTable", timeout=120_000)
        page.wait_for_selector(".alpr-error", timeout=60_000)
        assert "times in America/Los_Angeles" in page.locator(TABLE).first.inner_text()
        page.locator(f"{TABLE} th", has_text="plate").first.click()
        page.wait_for_function(
            "() => document.querySelector('.alpr-table-widget th.dt-ordering-asc') !== null", timeout=10_000)
        plates = [v for v in page.evaluate(COLUMN_JS, ["plate"]) if v]
        assert plates and plates == sorted(plates)
        assert "Login failed: unknown username or wrong password" in page.locator(".alpr-error").inner_text()
        assert "Traceback" not in page.inner_text("body")
    assert [u for u in blocked if "fontawesome" not in u] == [], blocked
