"""The same Session, remote: namespaces and methods generated from the registry, calls sent to the API service.

:class:`RemoteSession` has exactly the namespaces, methods (with the same signatures and docs) and flat aliases
of :class:`alpr_lib.session.Session`, made from the same :func:`alpr_lib.actions` and
:data:`alpr_lib.areas.NAMESPACES`; each method sends its arguments to ``POST /actions/<name>`` and returns what
the embedded method returns (polars and GeoDataFrames, the same dataclasses), or raises the same
:class:`AlprError` subclass with the same message. It never knows where the store is. Obtain one with
``alpr_lib.login(..., server="http://HOST:PORT")`` or ``ALPR_SERVER``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx

from alpr_lib import errors
from alpr_lib.access.actions import Action, actions
from alpr_lib.access.arguments import signature_of
from alpr_lib.areas import NAMESPACES
from alpr_lib.auth.users import User
from alpr_lib.errors import AlprError, AuthError, ServiceUnavailable
from alpr_lib.remote import wire
from alpr_lib.remote.files import ClientFiles
from alpr_lib.session import _method as embedded_method

__all__ = ["Connection", "RemoteSession", "connect", "connect_hub", "error_class"]

#: how long one call may take (a compaction, a big export); connecting is quick or fails
TIMEOUT = httpx.Timeout(connect=10.0, read=1800.0, write=600.0, pool=60.0)


def error_class(name: str) -> type[AlprError]:
    """The AlprError subclass called ``name`` (any module's), else AlprError itself."""
    import alpr_lib.access.authenticate  # noqa: F401  (PasswordChangeRequired)

    todo: list[type[AlprError]] = [AlprError]
    while todo:
        cls = todo.pop()
        if cls.__name__ == name:
            return cls
        todo.extend(cls.__subclasses__())
    return AlprError


def _raise(answer: httpx.Response) -> None:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict) or "error" not in body:
        raise ServiceUnavailable(f"the ALPR service answered {answer.status_code} without saying why; try again or "
                                 "ask the ALPR administrator")
    cls = error_class(str(body.get("error")))
    detail = str(body.get("detail") or "")
    if "report" in body and issubclass(cls, errors.IngestError):
        try:
            report = wire.decode(body["report"])
        except AlprError:
            report = None
        raise cls(detail, report)
    try:
        error = cls(detail)
    except TypeError:  # a subclass with another constructor
        error = AlprError(detail)
    #: whether the service wrote the call's audit record (said when the service knows: a database failure)
    error.recorded = body.get("recorded")  # type: ignore[attr-defined]
    raise error


class Connection:
    """The HTTP side of one remote session: the service's address, the session token, the client kind."""

    def __init__(self, server: str, client: str) -> None:
        self.server = server.rstrip("/")
        self.client_kind = client
        self.token: str | None = None
        self._http = httpx.Client(base_url=self.server, timeout=TIMEOUT, trust_env=False,
                                  headers={"X-Alpr-Client": client})

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
                ) -> httpx.Response:
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            answer = self._http.request(method, path, json=json, headers=sent)
        except httpx.TransportError as exc:
            raise ServiceUnavailable(
                f"cannot reach the ALPR service at {self.server} ({type(exc).__name__}); it may be restarting: "
                "try again in a moment, or ask the ALPR administrator") from None
        if answer.status_code >= 400:
            _raise(answer)
        return answer

    def call(self, spec: Action, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        body = _keywords(spec, args, kwargs)
        files = ClientFiles()
        packed = files.pack(spec, body)
        try:
            encoded = {k: wire.encode(v) for k, v in packed.items()}
        except TypeError as exc:
            raise errors.ValidationError(f"{spec.method}: {exc}") from None
        answer = self.request("POST", f"/actions/{spec.name}", json=encoded)
        if answer.headers.get("content-type", "").startswith(wire.ARROW):
            return wire.frame_from_arrow(answer.content)
        data = answer.json()
        files.write_back(data.get("files") or [])
        return wire.decode(data.get("value"))


def _keywords(spec: Action, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Positional arguments by name. A call that cannot bind is refused here as the door would word it
    (except a missing argument, which the service's door refuses, and audits)."""
    sig = signature_of(spec.request)
    positional = [p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    if len(args) > len(positional) or any(name in kwargs for name in positional[:len(args)]):
        try:
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise errors.ValidationError(f"{exc}; the call takes {sig}") from None
    return {**dict(zip(positional, args, strict=False)), **kwargs}


# ---------------------------------------------------------------------------------------------- the session
def _method(spec: Action) -> Callable[..., Any]:
    """A method sending the action to the service, with the embedded method's name, signature and doc."""
    template = embedded_method(spec)

    def call(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        return self._conn.call(spec, args, kwargs)

    for attribute in ("__name__", "__qualname__", "__doc__", "__signature__"):
        setattr(call, attribute, getattr(template, attribute))
    return call


class RemoteNamespace:
    """The actions of one area, sent to the API service."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def __repr__(self) -> str:
        names = ", ".join(n for n in dir(self) if not n.startswith("_"))
        return f"<{type(self).__name__}: {names}>"


def _namespaces() -> dict[str, type[RemoteNamespace]]:
    classes: dict[str, dict[str, Any]] = {name: {"__doc__": doc} for name, doc in NAMESPACES.items()}
    for spec in actions():
        if spec.namespace not in classes:
            raise RuntimeError(f"action {spec.name} names an undeclared namespace {spec.namespace!r}")
        classes[spec.namespace][spec.method] = _method(spec)
    return {name: type(f"{name.title().replace('_', '')}Actions", (RemoteNamespace,), body)
            for name, body in classes.items()}


class RemoteSession:
    """An authenticated user's session through the ALPR API service. Obtain one with :func:`alpr_lib.login`."""

    def __init__(self, conn: Connection, info: dict[str, Any]) -> None:
        self._conn = conn
        self._info = info
        for name, cls in _NAMESPACE_CLASSES.items():
            setattr(self, name, cls(conn))
        #: True when this login completed a forced password change
        self.password_changed_at_login = bool(info.get("password_changed_at_login"))
        self._ended: str | None = None

    # ----------------------------------------------------------------- identity and lifetime
    @property
    def user(self) -> User:
        return wire.decode(self._info["user"])

    @property
    def username(self) -> str:
        return self._info["username"]

    @property
    def session_id(self) -> str:
        return self._info["session_id"]

    @property
    def client(self) -> str:
        return self._info["client"]

    @property
    def store_kind(self) -> str:
        return self._info["store_kind"]

    @property
    def ended(self) -> str | None:
        """Why this session ended, or None while it is active."""
        if self._ended:
            return self._ended
        try:
            self._info = self._conn.request("GET", "/session").json()
        except AuthError as exc:
            return f"ended ({exc})"
        return self._info.get("ended")

    def __repr__(self) -> str:
        state = f"ended ({self._ended})" if self._ended else "active"
        user = self.user
        return (f"<Session {user.username} ({user.title}, {user.organisation}) on {self._info['banner']} "
                f"via {self._conn.server}, {state}>")

    def _repr_markdown_(self) -> str:
        text = f"**Logged in** as `{self.username}` ({self.user.title}) — {self._info['banner']}"
        note = self.access_note()
        return f"{text}\n\n**Note:** {note}" if note else text

    def access_note(self) -> str | None:
        """Why this user cannot search or view reads (no current certification, a service account), or None."""
        self._info = self._conn.request("GET", "/session").json()
        return self._info.get("access_note")

    def logout(self) -> None:
        """End the session (recorded in the audit log); a second logout does nothing."""
        if not self._ended:
            self._conn.request("POST", "/session/logout")
            self._ended = "logged out"

    def purposes(self) -> list[dict[str, Any]]:
        """The department's authorised purposes (for forms): name, whether a case number is needed."""
        return list(self._info.get("purposes") or [])


_NAMESPACE_CLASSES = _namespaces()

for _spec in actions():
    for _alias in _spec.aliases:
        if hasattr(RemoteSession, _alias):
            raise RuntimeError(f"alias {_alias!r} of {_spec.name} clashes with a RemoteSession attribute")
        setattr(RemoteSession, _alias, _method(_spec))


# ---------------------------------------------------------------------------------------------- logging in
def connect(server: str, username: str, password: str, *, client: str = "script",
            new_password: str | None = None) -> RemoteSession:
    """Log in to the API service with a password (every rule of a login applies there)."""
    conn = Connection(server, client)
    try:
        answer = conn.request("POST", "/session/login", json={"username": username, "password": password,
                                                              "new_password": new_password})
    except BaseException:
        conn.close()
        raise
    info = answer.json()
    conn.token = info.pop("token")
    return RemoteSession(conn, info)


def connect_hub(server: str, hub_token: str, *, client: str = "notebook") -> RemoteSession:
    """Log in to the API service with this kernel's JupyterHub token (service started with ``--hub-auth``)."""
    conn = Connection(server, client)
    try:
        answer = conn.request("POST", "/session/hub", headers={"Authorization": f"token {hub_token}"})
    except BaseException:
        conn.close()
        raise
    info = answer.json()
    conn.token = info.pop("token")
    return RemoteSession(conn, info)
