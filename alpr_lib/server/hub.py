"""Authenticating API calls with a JupyterHub token: the hook the Hub deployment uses (``alpr serve --hub-auth``).

A kernel spawned by JupyterHub holds ``JUPYTERHUB_API_TOKEN``; the remote Session sends it once, to
``POST /session/hub``. The service asks the Hub who owns it (``GET {JUPYTERHUB_API_URL}/user`` with that token,
as any Hub service does; when the Hub lists the token's scopes, one must grant access to this service) and opens
a session for the ALPR account of the same name — which must exist, be enabled and not locked; every rule of the
door (training, purpose, case) then applies as to any session. The Hub's answer is cached for a minute per
token (its SHA-256), so a burst of logins asks the Hub once.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable

import httpx

from alpr_lib.errors import AuthError, ConfigError

__all__ = ["hub_authenticator"]

_CACHE_SECONDS = 60.0


def hub_authenticator(api_url: str | None = None, *, timeout: float = 10.0) -> Callable[[str], str]:
    """A function Hub token -> Hub username (AuthError when the Hub does not vouch for the token)."""
    url = (api_url or os.environ.get("JUPYTERHUB_API_URL") or "").rstrip("/")
    if not url:
        raise ConfigError("--hub-auth needs JUPYTERHUB_API_URL (JupyterHub sets it for a Hub-managed service)")
    service = os.environ.get("JUPYTERHUB_SERVICE_NAME") or None  # set by the Hub for a Hub-managed service
    cache: dict[str, tuple[float, str]] = {}
    lock = threading.Lock()

    def authenticate(token: str) -> str:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        with lock:
            hit = cache.get(key)
            if hit and now - hit[0] < _CACHE_SECONDS:
                return hit[1]
        try:
            answer = httpx.get(f"{url}/user", headers={"Authorization": f"token {token}"}, timeout=timeout)
        except httpx.HTTPError as exc:
            raise AuthError(f"cannot reach JupyterHub to check the token ({type(exc).__name__}); try again") from None
        if answer.status_code in (401, 403, 404):
            raise AuthError("JupyterHub does not recognise this token; log in to JupyterHub again")
        if answer.status_code != 200:
            raise AuthError(f"JupyterHub answered {answer.status_code} when checking the token; try again")
        try:
            model = answer.json()
            name = model["name"]
        except (ValueError, KeyError, TypeError):
            raise AuthError("JupyterHub's answer about the token names no user") from None
        if not isinstance(name, str) or not name:
            raise AuthError("JupyterHub's answer about the token names no user")
        scopes = model.get("scopes") if isinstance(model, dict) else None
        if isinstance(scopes, list) and service and not {"access:services", f"access:services!service={service}"} \
                & set(scopes):
            raise AuthError(f"this JupyterHub token may not access the {service!r} service (it lacks the scope "
                            f"access:services!service={service}); ask the administrator")
        with lock:
            cache[key] = (now, name)
        return name

    return authenticate
