"""JupyterHub signs people in with their ALPR accounts: one sign-on for every notebook and dashboard.

The password is checked by the same code as every other login (:func:`alpr_lib.access.authenticate.open_session`:
argon2id, lockout after repeated failures, disabled accounts, a reset password that must be changed), which
writes the ``login`` audit record with client ``hub``. In a department deployment the Hub never opens the
store: it asks the ALPR API service (``server_url``), which alone can read it; ``store`` is for a Hub that
runs as the store's own account. The session opened to check the password is closed at once: the kernels
get their own, from the Hub token they hold (the service maps the Hub user to the ALPR account of the same name).

With ``totp_dir`` set, the login form asks for a one-time code as well (:mod:`alpr_lib.hub.totp`), checked
before the password so that a stolen password alone neither logs in nor locks the account out.

Refusals are shown on the login form with the library's message (what to do), never a traceback.
"""

from __future__ import annotations

import asyncio
import pwd
from pathlib import Path

from jupyterhub.auth import Authenticator
from jupyterhub.handlers.login import LoginHandler
from traitlets import Bool, Integer, Unicode, default

from alpr_lib.errors import AlprError, AuthError
from alpr_lib.hub.totp import TotpStore

__all__ = ["ALPRAuthenticator", "ALPRLoginHandler"]

#: the ``client`` of the Hub's login records in the audit log
HUB_CLIENT = "hub"


class ALPRLoginHandler(LoginHandler):
    """The Hub's login form, showing the ALPR library's message when a login is refused."""

    def _render(self, login_error: str | None = None, username: str | None = None, **kwargs: object):
        error = getattr(self, "alpr_login_error", None) or login_error
        return super()._render(login_error=error, username=username, **kwargs)


class ALPRAuthenticator(Authenticator):
    """Authenticate Hub users against the ALPR accounts (same lockout and expiry rules, audited)."""

    server_url = Unicode(
        "", config=True,
        help="The ALPR API service that checks passwords (http://127.0.0.1:8470); the department deployment.")
    store = Unicode(
        "", config=True,
        help="Instead of server_url: a store this Hub process opens itself (only for a Hub running as the "
             "store's own account; a Hub running as root must use server_url).")
    totp_dir = Unicode(
        "", config=True,
        help="Directory of TOTP secrets (0700, the Hub's account): when set, every login needs a one-time code.")
    totp_max_failures = Integer(5, config=True, help="Wrong one-time codes in a row that suspend the second factor.")
    totp_lockout_minutes = Integer(15, config=True, help="How long the second factor stays suspended.")
    require_os_account = Bool(
        True, config=True,
        help="Refuse a Hub login without an OS account of the same name (each user's server runs as it).")

    @default("allow_all")
    def _allow_all_default(self) -> bool:
        return True  # who may log in is the ALPR accounts' business: the password check decides

    @default("request_otp")
    def _request_otp_default(self) -> bool:
        return bool(self.totp_dir)

    @default("otp_prompt")
    def _otp_prompt_default(self) -> str:
        return "One-time code:"

    _totp: TotpStore | None = None

    def get_handlers(self, app: object) -> list[tuple[str, type]]:
        return [("/login", ALPRLoginHandler)]

    def _totp_store(self) -> TotpStore:
        if self._totp is None:
            self._totp = TotpStore(Path(self.totp_dir), max_failures=self.totp_max_failures,
                                   lockout_minutes=self.totp_lockout_minutes)
        return self._totp

    async def authenticate(self, handler: object, data: dict[str, str]) -> dict[str, object] | None:
        """The canonical ALPR username when the (code and) password are right; else None, the reason shown."""
        username = (data.get("username") or "").strip().lower()
        password = data.get("password")
        try:
            if not username:
                raise AuthError("give your username")
            if self.totp_dir:
                self._totp_store().verify(username, data.get("otp"))
            name = await asyncio.to_thread(self.check_password, username, password)
            if self.require_os_account:
                try:
                    pwd.getpwnam(name)
                except KeyError:
                    raise AuthError(f"{name!r} has no account on this server; ask the Hub administrator to create "
                                    "its OS account") from None
        except AlprError as exc:
            self.log.warning("ALPR login refused for %r: %s", username[:32], exc)
            if handler is not None:
                handler.alpr_login_error = str(exc)
            return None
        return {"name": name}

    def check_password(self, username: str, password: str | None) -> str:
        """Log in once (the audited login with its rules) and out again; returns the account's name."""
        if self.server_url:
            from alpr_lib.login import login

            session = login(username, password or "", server=self.server_url, client=HUB_CLIENT)
        elif self.store:
            from alpr_lib.access.authenticate import open_session

            session = open_session(self.store, username, password or "", client=HUB_CLIENT)
        else:
            raise AuthError("the Hub's ALPRAuthenticator has neither server_url nor store configured; set "
                            "c.ALPRAuthenticator.server_url to the ALPR API service")
        try:
            return session.username
        finally:
            session.logout()
