"""``alpr lab``: start JupyterLab on the curated notebooks with the store configured."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

import click

from alpr_lib.stores import store_banner

#: a Jupyter config directory whose labconfig/default_setting_overrides.json turns the "Would you like to get
#: notified about official Jupyter news?" toast off (fetchNews "false"): the workbench asks no analyst to let
#: JupyterLab contact a third party. A default only: a user's own setting still wins.
JUPYTER_CONFIG = Path(__file__).resolve().parents[1] / "data" / "jupyter"

#: passed on to JupyterLab, so stopping `alpr lab` (Ctrl-C, kill, a service manager) stops the server too
_FORWARDED = (signal.SIGINT, signal.SIGTERM)


def run_forwarding(args: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``args`` and wait for it, passing SIGINT and SIGTERM sent to this process on to it; its exit status.

    The two signals are blocked here and taken with ``sigtimedwait``, so neither can end this process before
    the child has been told (which left JupyterLab serving, orphaned). The child starts with them unblocked
    and at their default action. A signal the kernel sent to the whole foreground process group (Ctrl-C in
    the terminal: no sending process) reached JupyterLab already and is not sent twice, so JupyterLab's own
    "Shutdown this Jupyter server (y/[n])?" still works. Handlers forward too, for a signal that another
    thread of this process (a database pool's) happens to take."""
    if not hasattr(signal, "sigtimedwait"):  # macOS: no sigtimedwait; forward from handlers instead
        return _run_forwarding_with_handlers(args, env)
    child: list[int] = []

    def forward(signum: int, frame: object) -> None:
        for pid in child:
            with suppress(ProcessLookupError):
                os.kill(pid, signum)

    handlers = {signum: signal.signal(signum, forward) for signum in _FORWARDED}
    watched = {*_FORWARDED, signal.SIGCHLD}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    try:
        pid = os.posix_spawn(args[0], list(args), dict(env), setsigmask=previous, setsigdef=_FORWARDED)
        child.append(pid)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return 128 - code if code < 0 else code  # killed by a signal: the shell's 128 + N
            info = signal.sigtimedwait(watched, 0.5)
            if info is not None and info.si_signo in _FORWARDED and info.si_pid != 0:
                forward(info.si_signo, None)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def _run_forwarding_with_handlers(args: Sequence[str], env: Mapping[str, str]) -> int:
    """The same where the platform lacks ``sigtimedwait``: handlers pass both signals on (a Ctrl-C in the
    terminal then reaches JupyterLab twice, which stops it without its confirmation prompt)."""
    import subprocess

    child = subprocess.Popen(list(args), env=dict(env))

    def forward(signum: int, frame: object) -> None:
        with suppress(ProcessLookupError):
            child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in _FORWARDED}
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--store", envvar="ALPR_STORE", required=True, type=click.Path(file_okay=False),
              help="Store directory (or set ALPR_STORE).")
@click.option("--notebooks", type=click.Path(file_okay=False), default=None,
              help="Notebook directory (default: ./notebooks when present).")
@click.argument("jupyter_args", nargs=-1, type=click.UNPROCESSED)
def lab(store: str, notebooks: str | None, jupyter_args: tuple[str, ...]) -> None:
    """Start JupyterLab on the notebooks, with ALPR_STORE set. Extra arguments go to jupyter lab.

    SIGINT and SIGTERM are passed on to JupyterLab, and this command exits with its status. JupyterLab
    fetches no news and shows no news toast."""
    banner = store_banner(store)  # fail early and clearly on a wrong path
    click.echo(f"opening JupyterLab on {banner}")
    directory = Path(notebooks) if notebooks else (Path("notebooks") if Path("notebooks").is_dir() else Path.cwd())
    # ours last: a department's own JUPYTER_CONFIG_PATH entries take precedence
    config_path = os.pathsep.join(p for p in (os.environ.get("JUPYTER_CONFIG_PATH", ""), str(JUPYTER_CONFIG)) if p)
    env = dict(os.environ, ALPR_STORE=str(Path(store).resolve()), ALPR_CLIENT="notebook",
               JUPYTER_CONFIG_PATH=config_path)
    args = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={directory}", "--LabApp.news_url=None"]
    if os.geteuid() == 0:
        args.append("--allow-root")
    raise SystemExit(run_forwarding([*args, *jupyter_args], env))
