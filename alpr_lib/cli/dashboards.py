"""``alpr dashboards``: serve every Voila dashboard in ``dashboards/`` with the store configured."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from alpr_lib.cli.lab import run_forwarding
from alpr_lib.stores import store_banner

#: the repository checkout this package runs from (dashboards/ and share/jupyter/ live beside alpr_lib/)
REPO = Path(__file__).resolve().parents[2]


def dashboards_dir(given: str | None) -> Path:
    """``--dashboards``, else ``./dashboards``, else the checkout's ``dashboards/``."""
    for candidate in (Path(given) if given else None, Path("dashboards"), REPO / "dashboards"):
        if candidate is not None and candidate.is_dir():
            return candidate.resolve()
    raise click.UsageError("no dashboards directory found: pass --dashboards DIR")


def voila_command(directory: Path, port: int, host: str) -> list[str]:
    """Voila on ``directory`` with the workbench's offline template and tracebacks off (as voila.json says)."""
    voila = Path(sys.executable).with_name("voila")
    program = [str(voila)] if voila.exists() else [sys.executable, "-m", "voila"]
    return [*program, str(directory), "--no-browser", f"--port={port}", f"--Voila.ip={host}",
            "--VoilaConfiguration.template=alpr", "--VoilaConfiguration.show_tracebacks=False"]


def voila_env(store: str) -> dict[str, str]:
    """The environment of the Voila server: the store, and the template's directory on the Jupyter path."""
    share = REPO / "share" / "jupyter"
    jupyter_path = os.pathsep.join(p for p in (os.environ.get("JUPYTER_PATH", ""),
                                               str(share) if share.is_dir() else "") if p)
    env = dict(os.environ, ALPR_STORE=str(Path(store).resolve()), ALPR_CLIENT="dashboard")
    if jupyter_path:
        env["JUPYTER_PATH"] = jupyter_path
    return env


@click.command()
@click.option("--store", envvar="ALPR_STORE", required=True, type=click.Path(file_okay=False),
              help="Store directory (or set ALPR_STORE).")
@click.option("--port", default=8866, show_default=True, type=click.IntRange(1, 65535), help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep loopback unless a TLS proxy is in front).")
@click.option("--dashboards", "directory", default=None, type=click.Path(file_okay=False),
              help="Dashboard directory (default: ./dashboards, else the checkout's).")
def dashboards(store: str, port: int, host: str, directory: str | None) -> None:
    """Serve the dashboards with Voila (each asks its user to log in; tracebacks are never shown).

    Open http://HOST:PORT/ for the list, or /voila/render/NAME.ipynb for one dashboard. Ctrl-C stops it."""
    banner = store_banner(store)  # fail early and clearly on a wrong path
    folder = dashboards_dir(directory)
    click.echo(f"serving the dashboards in {folder} on http://{host}:{port}/ for {banner}")
    raise SystemExit(run_forwarding(voila_command(folder, port, host), voila_env(store)))
