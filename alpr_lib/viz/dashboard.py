"""The shared frame of every Voila dashboard: a login form, one place for messages, the view after login.

A dashboard notebook is one cell::

    from alpr_lib.viz.dashboard import Dashboard
    Dashboard("Alerts", build).show()

``build(session, dash)`` runs after a successful login and returns the view (an ipywidgets widget). It calls
only Session actions, so every piece of data the dashboard shows is an audited access; a refusal it meets (an
``AccessDenied`` from the door, itself audited) is shown as one line in the ``alpr-error`` area and the login
form stays, so a user of the wrong role reads why instead of a traceback. Button callbacks go through
:meth:`Dashboard.guard` for the same reason, and :meth:`Dashboard.every` refreshes a view while the page is open.

The login form is a small anywidget with plain ``<input>`` elements carrying the CSS classes the acceptance
checks use (``alpr-login-user``, ``alpr-login-password``, ``alpr-login-submit``): ipywidgets would put a class on a
wrapper ``div``, not on the input a person types into. The password reaches the kernel in one custom message
when the form is submitted, is used to log in and is dropped; it is never a synced trait, so it is not kept
in the widget state or shown again. Dashboards never resume a JupyterLab ticket: Voila always asks.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets
from IPython.display import display

from alpr_lib.errors import AlprError, AuthError
from alpr_lib.notebook import error_message

__all__ = ["Dashboard", "LoginForm"]

log = logging.getLogger(__name__)

_LOGIN_ESM = """
function render({ model, el }) {
  const form = document.createElement("form");
  form.className = "alpr-login";
  form.autocomplete = "off";
  const field = (label, type, css, auto) => {
    const row = document.createElement("label");
    row.className = "alpr-login-row";
    const text = document.createElement("span");
    text.textContent = label;
    const input = document.createElement("input");
    input.type = type;
    input.className = css;
    input.autocomplete = auto;
    row.append(text, input);
    form.append(row);
    return input;
  };
  const user = field("Username", "text", "alpr-login-user", "username");
  const password = field("Password", "password", "alpr-login-password", "current-password");
  const submit = document.createElement("button");
  submit.type = "submit";
  submit.className = "alpr-login-submit";
  submit.textContent = "Log in";
  form.append(submit);
  const sync = () => {
    const busy = model.get("busy");
    submit.disabled = busy;
    submit.textContent = busy ? "Logging in\\u2026" : "Log in";
  };
  model.on("change:busy", sync);
  model.on("msg:custom", (msg) => { if (msg && msg.type === "clear") { password.value = ""; } });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (model.get("busy")) { return; }
    model.send({ type: "login", username: user.value, password: password.value });
  });
  sync();
  el.append(form);
  user.focus();
}
export default { render };
"""

_LOGIN_CSS = """
.alpr-login { display: flex; flex-direction: column; gap: 8px; max-width: 320px; font-family: sans-serif; }
.alpr-login-row { display: flex; flex-direction: column; gap: 2px; font-size: 13px; color: #333; }
.alpr-login input { padding: 6px 8px; font-size: 14px; border: 1px solid #999; border-radius: 3px; }
.alpr-login-submit { padding: 6px 12px; font-size: 14px; background: #1a5fb4; color: white; border: none;
                     border-radius: 3px; cursor: pointer; align-self: flex-start; }
.alpr-login-submit:disabled { background: #777; cursor: wait; }
"""


class LoginForm(anywidget.AnyWidget):
    """Username, password and a submit button; calls ``on_submit(username, password)`` once per submission."""

    _esm = traitlets.Unicode(_LOGIN_ESM).tag(sync=True)
    _css = traitlets.Unicode(_LOGIN_CSS).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)

    def __init__(self, on_submit: Callable[[str, str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_submit = on_submit
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "login":
            return
        username = str(content.get("username") or "")
        password = str(content.get("password") or "")
        self.send({"type": "clear"})
        self._on_submit(username, password)

    def submit(self, username: str, password: str) -> None:
        """What the browser's submit does, for headless use and tests of the kernel side."""
        self._message(self, {"type": "login", "username": username, "password": password}, None)


class Dashboard:
    """A Voila dashboard: login, then ``build(session, dashboard)``'s view, with one message area."""

    def __init__(self, title: str, build: Callable[[Any, Dashboard], widgets.Widget], *,
                 store: str | os.PathLike | None = None) -> None:
        self.title = title
        self._build = build
        self._store = store
        self.session: Any = None
        self._tasks: list[asyncio.Task] = []
        self.form = LoginForm(self._log_in)
        self.error_area = widgets.HTML("")
        self.error_area.add_class("alpr-error")
        self.error_area.layout.display = "none"
        self.notice = widgets.HTML("")
        self.notice.add_class("alpr-notice")
        self.header = widgets.HTML(f"<h2 style='margin:4px 0'>{html.escape(title)}</h2>")
        self.signed_in = widgets.HTML("")
        self.signed_in.add_class("alpr-signed-in")
        self.logout_button = widgets.Button(description="Log out", icon="sign-out-alt",
                                            layout=widgets.Layout(width="auto", display="none"))
        self.logout_button.add_class("alpr-logout")
        self.logout_button.on_click(lambda _b: self.log_out())
        self.body = widgets.VBox([self.form])
        self.body.add_class("alpr-dashboard-body")
        bar = widgets.HBox([self.signed_in, self.logout_button], layout=widgets.Layout(align_items="center"))
        self.widget = widgets.VBox([self.header, bar, self.error_area, self.notice, self.body])
        self.widget.add_class("alpr-dashboard")

    # -- messages -------------------------------------------------------------------------------------------
    def error(self, text: str) -> None:
        """Show one line in the ``alpr-error`` area (an empty text hides it)."""
        self.error_area.value = (f"<div style='color:#b00020;padding:6px 0'>&#9888; {html.escape(text)}</div>"
                                 if text else "")
        self.error_area.layout.display = "block" if text else "none"

    def message(self, text: str) -> None:
        """Show a short confirmation (e.g. "Alert 12 verified"); an empty text clears it."""
        self.notice.value = f"<div style='color:#1b5e20;padding:4px 0'>{html.escape(text)}</div>" if text else ""

    def guard(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a callback so that an ``AlprError`` shows as one line in the error area, never a traceback;
        anything else shows a generic line (and is logged in the Voila server's log) for the same reason."""

        def guarded(*args: Any, **kwargs: Any) -> Any:
            self.error("")
            try:
                return fn(*args, **kwargs)
            except AlprError as exc:
                self.error(error_message(exc))
            except Exception:  # a bug must not print a traceback into a command-staff page
                log.exception("dashboard %s: callback failed", self.title)
                self.error("Something went wrong showing this view; the administrator can find the details in "
                           "the dashboard server's log.")
            return None

        return guarded

    # -- login and logout -----------------------------------------------------------------------------------
    def _log_in(self, username: str, password: str) -> None:
        from alpr_lib.login import login

        self.error("")
        if not username.strip() or not password:
            self.error("Enter your username and password.")
            return
        self.form.busy = True
        try:
            session = login(username.strip(), password, self._store, client="dashboard")
        except AlprError as exc:  # the notebook wording ("run the login cell again") means the form here
            self.error(error_message(exc).replace("run the login cell again", "try again"))
            return
        finally:
            self.form.busy = False
        self._open(session, username)

    def sign_on_through_hub(self) -> bool:
        """Under JupyterHub (server mode: ``ALPR_SERVER`` and the Hub token the user's server holds), the Hub
        login is the dashboard's login: the session is opened with the Hub token, no form. False elsewhere."""
        from alpr_lib.login import login

        hub_user = os.environ.get("JUPYTERHUB_USER")
        if not (self._store is None and os.environ.get("ALPR_SERVER") and os.environ.get("JUPYTERHUB_API_TOKEN")
                and hub_user):
            return False
        try:
            session = login(hub_user, None, client="dashboard")
        except AlprError as exc:
            self.error(error_message(exc))
            return False
        self._open(session, hub_user)
        return self.session is not None

    def _open(self, session: Any, username: str) -> None:
        self.session = session
        view = self.guard(self._build)(session, self)
        if view is None:  # refused (the door audited it) or failed: the message is shown; log out again
            with suppress(AlprError):
                session.logout()
            self.session = None
            return
        name = html.escape(getattr(session, "username", username))
        self.signed_in.value = f"<span style='color:#444'>Signed in as <b>{name}</b></span>&nbsp;"
        self.logout_button.layout.display = "inline-flex"
        self.body.children = [view]

    def log_out(self) -> None:
        """End the session and go back to the login form."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self.session is not None:
            with suppress(AlprError):
                self.session.logout()
        self.session = None
        self.signed_in.value = ""
        self.logout_button.layout.display = "none"
        self.message("")
        self.error("")
        self.body.children = [self.form]

    # -- live views -----------------------------------------------------------------------------------------
    def every(self, seconds: float, fn: Callable[[], Any]) -> None:
        """Run ``fn`` every ``seconds`` while logged in (on the kernel's event loop: the page updates without a
        reload). An ``AlprError`` (e.g. the session expired) shows in the error area and stops the refresh."""
        if seconds <= 0:
            raise ValueError("a refresh interval must be positive")

        async def loop() -> None:
            while self.session is not None:
                await asyncio.sleep(seconds)
                if self.session is None:
                    return
                try:
                    fn()
                except AlprError as exc:
                    self.error(error_message(exc))
                    if isinstance(exc, AuthError):
                        return
                except Exception:
                    log.exception("dashboard %s: refresh failed", self.title)

        try:  # the kernel's loop (running while a message is handled), else the thread's current loop
            event_loop = asyncio.get_running_loop()
        except RuntimeError:
            try:
                event_loop = asyncio.get_event_loop_policy().get_event_loop()
            except RuntimeError:  # no loop at all: not in a kernel, so no page to refresh
                log.info("dashboard %s: no event loop; the view will not refresh itself", self.title)
                return
        self._tasks.append(event_loop.create_task(loop()))

    def show(self) -> None:
        """Display the dashboard: its view at once under JupyterHub's single sign-on, else the login form."""
        self.sign_on_through_hub()
        display(self.widget)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
