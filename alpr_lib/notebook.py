"""The notebook integration: readable result tables and one-line error messages, enabled with one call.

A notebook's first cell::

    import alpr_lib as alpr
    alpr.notebook.setup()        # before login, so that a wrong password is one line too
    s = alpr.login()

After it, a polars frame (or a GeoDataFrame, e.g. a canvass) at the end of a cell shows as the readable table
of :func:`alpr_lib.viz.tables.show` — code still gets the frame itself — and an :class:`~alpr_lib.AlprError`
(wrong password, lockout, refusal, bad pattern, bad input) shows as one line, its kind in words and the
message that says what to do, never a traceback. Every other exception keeps its traceback: those are bugs
and the traceback is what a developer needs.

It is opt-in (``setup()``, or ``%load_ext alpr_lib.notebook``, or ``c.InteractiveShellApp.extensions``) rather
than done on import or inside ``login()``: importing the library must not change how a kernel shows other
people's frames or errors, and ``login()`` also runs in scripts and the CLI. Importing this module is cheap;
IPython and the display code load only when ``setup()`` runs.
"""

from __future__ import annotations

import html
from typing import Any

from alpr_lib.errors import (
    AccessDenied,
    AlprError,
    AuditIntegrityError,
    AuthError,
    ConfigError,
    IngestError,
    NotFound,
    RecognitionError,
    StoreError,
    ValidationError,
)

__all__ = ["error_message", "load_ipython_extension", "setup", "teardown", "unload_ipython_extension"]

#: Each kind of error in words, most specific first (IngestError is a ValidationError).
_KINDS: tuple[tuple[type[AlprError], str], ...] = (
    (IngestError, "Ingest refused"),
    (ValidationError, "Invalid input"),
    (AccessDenied, "Access refused"),
    (NotFound, "Not found"),
    (AuditIntegrityError, "Audit log failed verification"),
    (StoreError, "Store problem"),
    (ConfigError, "Setting problem"),
    (RecognitionError, "Image not recognised"),
)
_FORMATTED_TYPES = (("polars.dataframe.frame", "DataFrame"), ("geopandas.geodataframe", "GeoDataFrame"))
_registered: dict[str, Any] = {}


def error_message(exc: AlprError) -> str:
    """One line for a person: the kind of error in words, then the library's message (which names the fix).

    ``Login failed: unknown username or wrong password; check both and run the login cell again``."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, AuthError):
        if "session" in text.lower():
            return f"Session ended: {text}"
        reason = text.removeprefix("login failed").removeprefix(":").strip() or "unknown username or wrong password"
        if reason.endswith("wrong password"):
            reason += "; check both and run the login cell again"
        elif "is now locked" in reason:
            reason += "; try again then or ask the ALPR administrator"
        return f"Login failed: {reason}"
    kind = next((words for cls, words in _KINDS if isinstance(exc, cls)), "Error")
    return f"{kind}: {text}"


def _show_error(shell: Any, etype: type[BaseException], value: BaseException, tb: Any,
                tb_offset: int | None = None) -> list[str]:
    """IPython's custom exception handler: the one line as the cell's output (text and HTML), no traceback."""
    line = error_message(value) if isinstance(value, AlprError) else f"{etype.__name__}: {value}"
    from IPython.display import display

    display({"text/plain": line,
             "text/html": f'<div class="alpr-error" style="color:#b00020;font-weight:600">&#9888; '
                          f"{html.escape(line)}</div>"}, raw=True)
    # The kernel's error reply (not shown by JupyterLab or Voila; nbclient puts it in CellExecutionError) carries
    # the last traceback the shell saw: make it this error, by its class name for whoever reads a CI log.
    shell._last_traceback = [f"{etype.__name__}: {value}"]
    return [line]


def _format_frame(frame: Any) -> dict[str, Any] | None:
    from alpr_lib.viz.tables import show

    try:
        return show(frame)._repr_mimebundle_()
    except Exception:  # never lose the output: fall back to the frame's own display
        return None


def setup(*, zone: str | None = None, tables: bool = True, errors: bool = True) -> None:
    """Enable readable tables and one-line AlprError messages in this IPython kernel (idempotent).

    ``zone`` fixes the zone tables show times in (default: the frame's local zone, else the logged-in Session's
    department zone). Does nothing outside IPython (scripts, the CLI)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the Jupyter stack
        return
    shell = get_ipython()
    if shell is None:
        return
    if zone is not None:
        from alpr_lib.viz.tables import DEFAULTS

        DEFAULTS.zone = zone
    if errors:
        shell.set_custom_exc((AlprError,), _show_error)
        _registered["errors"] = shell
    if tables:
        formatter = shell.display_formatter.mimebundle_formatter
        for module, name in _FORMATTED_TYPES:
            formatter.for_type_by_name(module, name, _format_frame)
        _registered["tables"] = shell


def teardown() -> None:
    """Undo :func:`setup`: frames and errors display as IPython shows them by default."""
    from alpr_lib.viz.tables import DEFAULTS

    DEFAULTS.zone = None
    shell = _registered.pop("errors", None)
    if shell is not None:
        shell.set_custom_exc((), None)
    shell = _registered.pop("tables", None)
    if shell is not None:
        formatter = shell.display_formatter.mimebundle_formatter
        for module, name in _FORMATTED_TYPES:
            formatter.deferred_printers.pop((module, name), None)
            for cls in list(formatter.type_printers):
                if (cls.__module__, cls.__name__) == (module, name):
                    formatter.type_printers.pop(cls)


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext alpr_lib.notebook`` (or a kernel's ``extensions`` setting) does what :func:`setup` does."""
    setup()


def unload_ipython_extension(shell: Any) -> None:
    teardown()
