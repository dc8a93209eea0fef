"""``alpr lab``: start JupyterLab on the curated notebooks with the store configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from alpr_lib.stores import store_banner


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--store", envvar="ALPR_STORE", required=True, type=click.Path(file_okay=False),
              help="Store directory (or set ALPR_STORE).")
@click.option("--notebooks", type=click.Path(file_okay=False), default=None,
              help="Notebook directory (default: ./notebooks when present).")
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED)
def lab(store: str, notebooks: str | None, jupyter_args: tuple[str, ...]) -> None:
    """Start JupyterLab on the notebooks, with ALPR_STORE set. Extra arguments go to jupyter lab."""
    banner = store_banner(store)  # fail early and clearly on a wrong path
    click.echo(f"opening JupyterLab on {banner}")
    directory = Path(notebooks) if notebooks else (Path("notebooks") if Path("notebooks").is_dir() else Path.cwd())
    env = dict(os.environ, ALPR_STORE=str(Path(store).resolve()), ALPR_CLIENT="notebook")
    args = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={directory}", "--LabApp.news_url=None"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    raise SystemExit(subprocess.call([*args, *jupyter_args], env=env))
