"""Serving and driving the Voila dashboards in headless Debian Chromium (see tests/jupyterlab.py).

``voila_dashboard`` starts Voila the way ``alpr dashboards`` does (the same command line and environment, so
the offline ``alpr`` template applies and tracebacks are off) on a free loopback port, bounded and always
stopped; ``log_in`` fills the shared login form by its CSS classes and waits for the view or the message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alpr_lib.cli.dashboards import REPO, voila_command, voila_env
from tests.jupyterlab import _free_port, served

DASHBOARDS = REPO / "dashboards"
#: text that must never reach a dashboard page (Python's and Voila's traceback output)
TRACEBACK_MARKS = ("Traceback", 'File "/', "most recent call last")


@contextmanager
def voila_dashboard(notebook: str | Path, env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """Voila serving ``dashboards/`` (or the folder of ``notebook`` when it is a path elsewhere); yields the
    URL that renders ``notebook``. ``env`` must hold ``ALPR_STORE`` and ``HOME``."""
    path = Path(notebook)
    folder = path.parent if path.is_absolute() else DASHBOARDS
    name = path.name
    port = _free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("ALPR_")}
    full = {**voila_env(env["ALPR_STORE"]), **base, **env,
            "JUPYTER_CONFIG_DIR": str(tmp_path / "voila-cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "voila-rt")}
    full["JUPYTER_PATH"] = voila_env(env["ALPR_STORE"]).get("JUPYTER_PATH", "")
    full["ALPR_CLIENT"] = "dashboard"
    with served(voila_command(folder, port, "127.0.0.1"), port=port, cwd=tmp_path, env=full,
                log_path=tmp_path / f"voila-{name}.log", what="voila"):
        yield f"http://127.0.0.1:{port}/voila/render/{name}"


def log_in(page, username: str, password: str, *, timeout_ms: int = 60_000) -> str:
    """Log in through the form; returns "view" when the dashboard's view replaced the form, else the text of
    the error message."""
    page.wait_for_selector("input.alpr-login-user", timeout=120_000)
    page.fill("input.alpr-login-user", username)
    page.fill("input.alpr-login-password", password)
    # forget the last message, so the wait below sees this attempt's (the kernel re-renders what it sends)
    # (only the widget's content element: its view keeps writing into that one)
    page.evaluate("() => document.querySelectorAll('.alpr-error > *').forEach(e => { e.innerHTML = ''; })")
    page.click("button.alpr-login-submit")
    page.wait_for_function(
        "() => !document.querySelector('input.alpr-login-user') || "
        "[...document.querySelectorAll('.alpr-error')].some(e => e.innerText.trim().length > 0)",
        timeout=timeout_ms)
    if page.locator("input.alpr-login-user").count() == 0:
        return "view"
    return " ".join(t.strip() for t in page.locator(".alpr-error").all_inner_texts() if t.strip())


def page_text(page) -> str:
    return page.locator("body").inner_text()


def assert_no_traceback(page) -> None:
    text = page_text(page)
    for mark in TRACEBACK_MARKS:
        assert mark not in text, text[-2000:]
