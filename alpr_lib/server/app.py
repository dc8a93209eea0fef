"""The API service: the audited door over HTTP, one route per declared action, generated from the registry.

``POST /actions/<action name>`` for every action of :func:`alpr_lib.actions` (``/actions/reads.search``...): the
body is the request's arguments as a JSON object (see :mod:`alpr_lib.server.schema`), the answer a table as an
Arrow IPC stream (``application/vnd.apache.arrow.stream``) or a JSON ``{"value": ..., "files": [...]}``. No route
is written per action: an action added to ``alpr_lib/areas`` is served by the next start of the service.

Sessions: ``POST /session/login`` (username and password, every rule of a login: argon2id, lockout, expiry,
forced change) or ``POST /session/hub`` (a JupyterHub token, when the service runs with ``--hub-auth``) returns
an opaque token, bound to the session row as its ticket (only a hash is stored), so the session keeps every
rule (idle timeout, maximum age, a disabled account or a reset password ends it) and a restarted service
resumes it (audited ``session.resume``) instead of losing it. ``GET /session``, ``POST /session/logout``.

Errors are problem details (RFC 9457, ``application/problem+json``) naming the ``AlprError`` subclass, which
the client raises again with the same message; nothing is ever answered with a traceback. Every call to an
action route is audited exactly once: by the door, or — when it never reached the door (no valid token, a body
that is not JSON) — here, as a refusal.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response

from alpr_lib import errors
from alpr_lib.access.actions import Action, actions
from alpr_lib.access.authenticate import open_session, open_trusted_session
from alpr_lib.access.tickets import resume_token, set_token
from alpr_lib.audit.events import AuditRecord
from alpr_lib.errors import AccessDenied, AlprError, AuthError, ValidationError
from alpr_lib.remote import wire
from alpr_lib.remote.files import ServerFiles, file_fields
from alpr_lib.server.schema import COMPONENTS, request_schema
from alpr_lib.session import Session
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["SERVER_ONLY", "STATUS", "Service", "create_app", "problem_status"]

#: HTTP status of each AlprError subclass (a subclass not listed takes its nearest listed base's)
STATUS: dict[type[AlprError], int] = {
    errors.AuthError: 401, errors.AccessDenied: 403, errors.NotFound: 404, errors.ValidationError: 422,
    errors.ConfigError: 422, errors.RecognitionError: 422, errors.StoreError: 409,
    errors.AuditIntegrityError: 409, errors.ServiceUnavailable: 503,
}
#: actions the service refuses: what they write must not leave the server (why, and what to run instead)
SERVER_ONLY: dict[str, str] = {
    "store.backup": "a backup holds the store and every audit key, which never leave the server: the service "
                    "account runs it there (`alpr backup`), see docs/deployment.md",
}
#: how much of a request body the service reads (uploads included)
MAX_BODY = 700 * 1024 * 1024
_CLIENT_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")
NO_SESSION = "(no session)"


def problem_status(exc: AlprError) -> int:
    """The HTTP status for an error: 500 only for the door's 'failed unexpectedly' (a plain AlprError)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500 if type(exc) is AlprError else 400


def problem(exc: AlprError, *, rewrite: Callable[[str], str] = str, recorded: bool | None = None) -> JSONResponse:
    """Problem details for an error; ``recorded`` says whether the call's audit record was written (told when
    the service knows, e.g. a call the records database failed under)."""
    status = problem_status(exc)
    name = type(exc).__name__
    body: dict[str, Any] = {"type": f"urn:alpr:error:{name}", "title": name, "status": status,
                            "detail": rewrite(str(exc)), "error": name}
    if recorded is not None:
        body["recorded"] = recorded
    report = getattr(exc, "report", None)
    if report is not None:
        with contextlib.suppress(TypeError):
            body["report"] = wire.encode(report)
    return JSONResponse(body, status_code=status, media_type=wire.PROBLEM)


@dataclass
class Entry:
    """One session the service holds for a token."""

    session: Session
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)


class Service:
    """The service's state: the store, the sessions by token, the authenticator for Hub tokens."""

    def __init__(self, store: str | os.PathLike, *, hub_auth: Callable[[str], str] | None = None,
                 tmp_dir: str | os.PathLike | None = None) -> None:
        self.store_path = Path(store)
        self.store = Store.open(self.store_path)  # refusals before a session exists are audited through it
        self.hub_auth = hub_auth
        self._sessions: dict[str, Entry] = {}
        self._lock = threading.Lock()
        self.tmp = Path(tempfile.mkdtemp(prefix="alpr-service-", dir=tmp_dir))
        os.chmod(self.tmp, 0o700)
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep, name="alpr-session-sweeper", daemon=True)
        self._sweeper.start()

    # ------------------------------------------------------------------ sessions
    def add(self, session: Session) -> str:
        token = secrets.token_urlsafe(32)
        set_token(session._door._store, session.session_id, token)
        with self._lock:
            self._sessions[token] = Entry(session)
        return token

    def entry(self, token: str | None, client: str) -> Entry | None:
        """The session of a token: held here, or (after a restart) resumed from its still-valid row."""
        if not token:
            return None
        with self._lock:
            entry = self._sessions.get(token)
        if entry is not None:
            return entry
        store = Store.open(self.store_path)
        try:
            door = resume_token(store, token, client=client)
        except BaseException:
            store.close()
            raise
        if door is None:
            store.close()
            return None
        with self._lock:
            entry = self._sessions.setdefault(token, Entry(Session(door)))
        if entry.session._door is not door:
            store.close()
        return entry

    def drop(self, token: str) -> None:
        with self._lock:
            entry = self._sessions.pop(token, None)
        if entry is not None:
            with entry.lock:
                entry.session._door._store.close()

    def _sweep(self) -> None:
        """Close sessions that ended or sat idle past the idle timeout (their stores too)."""
        while not self._stop.wait(30):
            idle = self.store.config.session_idle_minutes * 60
            now = time.monotonic()
            with self._lock:  # an ended session answers "it has ended (why)" for a while, then is forgotten
                stale = [t for t, e in self._sessions.items() if now - e.last_used > (300 if e.session.ended
                                                                                       else idle + 60)]
            for token in stale:
                self.drop(token)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            tokens = list(self._sessions)
        for token in tokens:
            self.drop(token)
        self.store.close()
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ audit of calls that reach no door
    def audit_refusal(self, action: str, client: str, reason: str, query: dict[str, Any] | None = None) -> None:
        self.store.audit.append(AuditRecord(
            time=iso(utc_now()), username=NO_SESSION, organisation="unknown", action=action, query=query or {},
            client=client, outcome="denied", reason=reason, session_id=None, store_kind=self.store.kind))


# ---------------------------------------------------------------------------------------------- helpers
def _client(request: HttpRequest) -> str:
    """The audit record's client: ``api:<kind>``, the kind the client sent (notebook, dashboard, cli...)."""
    kind = (request.headers.get("x-alpr-client") or "script").strip().lower()
    return f"api:{kind if _CLIENT_KIND.match(kind) else 'other'}"


def _token(request: HttpRequest) -> str | None:
    value = request.headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _json_body(request: HttpRequest) -> Any:
    data = await request.body()
    if len(data) > MAX_BODY:
        raise ValidationError(f"the request is {len(data):,} bytes; at most {MAX_BODY:,} are accepted")
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"the request body is not JSON ({str(exc)[:120]}); send the arguments as a JSON "
                              "object") from None


def _session_info(session: Session) -> dict[str, Any]:
    door = session._door
    return {"username": session.username, "user": wire.encode(session.user), "session_id": session.session_id,
            "client": session.client, "store_kind": session.store_kind, "banner": door.banner(),
            "ended": session.ended, "access_note": session.access_note(), "purposes": session.purposes(),
            "password_changed_at_login": session.password_changed_at_login}


def _reply(value: Any, files: list[dict[str, Any]]) -> Response:
    """A table alone as an Arrow IPC stream; anything else (or a table with files) as JSON."""
    if not files and wire.is_frame(value):
        return Response(wire.frame_to_arrow(value), media_type=wire.ARROW)
    return JSONResponse({"value": wire.encode(value), "files": files})


# ---------------------------------------------------------------------------------------------- the app
def create_app(service: Service) -> FastAPI:
    """The FastAPI application: session routes and one generated route per declared action."""
    app = FastAPI(title="ALPR Workbench API", version="1", openapi_url="/openapi.json", docs_url=None,
                  redoc_url=None,
                  description="The audited door over HTTP: every route below is a declared action of alpr_lib, "
                              "run through the same door (permission, training, purpose, case, one audit record).")
    app.state.service = service

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: HttpRequest, exc: StarletteHTTPException) -> Response:
        name = "NotFound" if exc.status_code == 404 else "ValidationError"
        body = {"type": f"urn:alpr:error:{name}", "title": name, "status": exc.status_code,
                "detail": f"{request.method} {request.url.path}: {exc.detail}", "error": name}
        return JSONResponse(body, status_code=exc.status_code, media_type=wire.PROBLEM)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: HttpRequest, exc: RequestValidationError) -> Response:
        return problem(ValidationError(f"{request.url.path}: the request is malformed"))

    @app.exception_handler(Exception)
    async def _unexpected(request: HttpRequest, exc: Exception) -> Response:  # never a traceback
        if _database_down(exc):
            return problem(errors.ServiceUnavailable(
                f"the ALPR records database is not answering ({type(exc).__name__}); nothing was done or returned "
                "— try again in a moment, or ask the ALPR administrator"))
        return problem(AlprError(f"the ALPR service failed unexpectedly ({type(exc).__name__}); report it to the "
                                 "ALPR administrator"))

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """The service answers (no data, no login)."""
        return {"status": "ok"}

    @app.post("/session/login", tags=["session"], openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["username", "password"], "properties": {
            "username": {"type": "string"}, "password": {"type": "string", "writeOnly": True},
            "new_password": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}}}}})
    async def login(request: HttpRequest) -> Response:
        """Log in with a password (every rule of a login); returns the session token and who you are."""
        client = _client(request)
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise ValidationError("send {'username': ..., 'password': ...}")
            session = await run_in_threadpool(
                open_session, service.store_path, body.get("username"), body.get("password"), client=client,
                new_password=body.get("new_password") if isinstance(body.get("new_password"), str) else None)
        except AlprError as exc:
            if isinstance(exc, ValidationError) and not isinstance(exc, AuthError) and "new password" not in str(exc):
                await run_in_threadpool(service.audit_refusal, "login", client, str(exc))
            return problem(exc)
        token = await run_in_threadpool(service.add, session)
        return JSONResponse({"token": token, **await run_in_threadpool(_session_info, session)})

    @app.post("/session/hub", tags=["session"])
    async def hub_login(request: HttpRequest) -> Response:
        """Log in with the JupyterHub token the kernel holds (``Authorization: token ...``), when the service
        runs with ``--hub-auth``: the Hub user is the ALPR account of the same name, under every ALPR rule."""
        client = _client(request)
        value = request.headers.get("authorization") or ""
        scheme, _, hub_token = value.partition(" ")
        try:
            if service.hub_auth is None:
                raise AuthError("this ALPR service does not accept JupyterHub tokens; log in with your password")
            if scheme.lower() != "token" or not hub_token.strip():
                raise AuthError("send the JupyterHub token as 'Authorization: token <JUPYTERHUB_API_TOKEN>'")
            username = await run_in_threadpool(service.hub_auth, hub_token.strip())
            session = await run_in_threadpool(open_trusted_session, service.store_path, username, client=client,
                                              via="jupyterhub")
        except AlprError as exc:
            if not isinstance(exc, AuthError) or service.hub_auth is None or "JupyterHub" in str(exc):
                await run_in_threadpool(service.audit_refusal, "login", client, str(exc), {"authenticated_by":
                                                                                           "jupyterhub"})
            return problem(exc)
        token = await run_in_threadpool(service.add, session)
        return JSONResponse({"token": token, **await run_in_threadpool(_session_info, session)})

    @app.get("/session", tags=["session"])
    async def info(request: HttpRequest) -> Response:
        """Who this token's session is, whether it ended, the access note and the purposes."""
        entry = await run_in_threadpool(service.entry, _token(request), _client(request))
        if entry is None:
            return problem(AuthError(_UNKNOWN))
        return JSONResponse(await run_in_threadpool(_session_info, entry.session))

    @app.post("/session/logout", tags=["session"])
    async def logout(request: HttpRequest) -> Response:
        """End this token's session (audited ``logout``, through the door); a second logout does nothing."""
        token = _token(request)
        entry = await run_in_threadpool(service.entry, token, _client(request))
        if entry is None:
            return JSONResponse({"value": None, "files": []})

        def run() -> None:
            with entry.lock:
                if not entry.session.ended:
                    entry.session.account.logout()  # type: ignore[attr-defined]

        try:
            await run_in_threadpool(run)
        except AlprError as exc:
            return problem(exc)
        return JSONResponse({"value": None, "files": []})

    for spec in actions():
        _add_action_route(app, service, spec)
    app.openapi_schema = None
    _patch_openapi(app)
    return app


_UNKNOWN = ("your session is not known to the ALPR service: it ended (logout, expiry, a disabled account or a "
            "reset password) or never began; log in again with alpr.login()")


def _add_action_route(app: FastAPI, service: Service, spec: Action) -> None:
    files_of = file_fields(spec)

    async def run_action(request: HttpRequest) -> Response:
        client = _client(request)
        token = _token(request)
        entry = await run_in_threadpool(service.entry, token, client)
        if entry is None:
            reason = "no session token: log in first (POST /session/login)" if not token else _UNKNOWN
            await run_in_threadpool(service.audit_refusal, spec.name, client, reason)
            return problem(AuthError(reason))
        if spec.name in SERVER_ONLY:
            refusal = AccessDenied(f"{spec.name} is not available through the ALPR API service: "
                                   f"{SERVER_ONLY[spec.name]}")
            await run_in_threadpool(entry.session._door.refuse, spec, {}, refusal)
            return problem(refusal)
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise ValidationError(f"{spec.name}: send the arguments as a JSON object, not {type(body).__name__}")
        except ValidationError as exc:
            await run_in_threadpool(entry.session._door.refuse, spec, {}, exc)
            return problem(exc)
        return await run_in_threadpool(_call, service, entry, spec, body, files_of)

    run_action.__name__ = f"action_{spec.name.replace('.', '_')}"
    run_action.__doc__ = spec.doc
    extra = {"requestBody": {"required": True, "content": {"application/json": {"schema": request_schema(spec)}}},
             "x-alpr-action": {"permission": spec.permission, "needs_training": spec.needs_training,
                               "needs_purpose": spec.needs_purpose, "needs_case": spec.needs_case,
                               "session_method": f"{spec.namespace}.{spec.method}", "aliases": list(spec.aliases),
                               "result": spec.result}}
    responses = {200: {"description": f"the result ({spec.result})", "content": {
        wire.ARROW: {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {"type": "object", "properties": {"value": {}, "files": {"type": "array"}}}}}},
        **{code: {"description": text, "content": {wire.PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
           for code, text in ((400, "refused"), (401, "no valid session"), (403, "access denied by policy"),
                              (404, "not found"), (409, "store state"), (422, "invalid arguments"),
                              (500, "an unexpected failure, recorded in the audit log"))}}
    app.add_api_route(f"/actions/{spec.name}", run_action, methods=["POST"], operation_id=spec.name,
                      tags=[spec.namespace], summary=(spec.doc.splitlines() or [spec.name])[0][:120],
                      openapi_extra=extra, responses=responses, response_model=None)


def _call(service: Service, entry: Entry, spec: Action, body: dict[str, Any],
          files_of: dict[str, str]) -> Response:
    """Decode the arguments, run the action through the session's door, encode the answer."""
    door = entry.session._door
    files = ServerFiles(service.tmp)
    try:
        with entry.lock:
            entry.last_used = time.monotonic()
            try:
                kwargs = {}
                for name, value in body.items():
                    mode = files_of.get(name)
                    local = files.materialise if mode else None
                    decoded = wire.decode(value, local=local)
                    if mode:
                        _only_uploaded(spec, name, mode, value, decoded)
                    if mode == "text" and isinstance(decoded, Path):
                        decoded = str(decoded)
                    kwargs[name] = decoded
            except (ValidationError, ValueError, TypeError, OverflowError, RecursionError) as exc:
                refusal = exc if isinstance(exc, ValidationError) else ValidationError(
                    f"{spec.name}: the arguments could not be read ({type(exc).__name__}: {str(exc)[:200]})")
                door.refuse(spec, {k: v for k, v in body.items() if not isinstance(v, dict | list)}, refusal)
                return problem(refusal, rewrite=files.rewrite_text)
            try:
                value = door.call(spec, (), kwargs)
            except AlprError as exc:
                if type(exc) is AlprError and _database_down(exc):  # the door recorded the failure
                    return problem(errors.ServiceUnavailable(
                        f"{spec.name}: the ALPR records database stopped answering during the call; nothing was "
                        "returned (the failure is in the audit log) — try again in a moment"), recorded=True)
                return problem(exc, rewrite=files.rewrite_text)
            returned = files.collect()
            return _reply(files.rewrite(value), returned)
    except AlprError as exc:
        return problem(exc, rewrite=files.rewrite_text)
    except TypeError as exc:  # a result that cannot travel (the call itself was audited by the door)
        return problem(AlprError(f"{spec.name}: its result cannot be sent by the ALPR service ({exc}); report it "
                                 "to the ALPR administrator"))
    except Exception as exc:
        if _database_down(exc):  # nothing was returned without its record: the record could not be written
            return problem(errors.ServiceUnavailable(
                f"{spec.name}: the ALPR records database is not answering ({type(exc).__name__}); nothing was "
                "done or returned — try again in a moment, or ask the ALPR administrator"), recorded=False)
        raise
    finally:
        files.close()


def _database_down(exc: BaseException) -> bool:
    """The records database (PostgreSQL) went away under the call: a restart, a network cut."""
    seen: BaseException | None = exc
    while seen is not None:
        module = type(seen).__module__
        if module.startswith(("psycopg", "psycopg_pool")) or isinstance(seen, ConnectionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _only_uploaded(spec: Action, name: str, mode: str, raw: Any, decoded: Any) -> None:
    """A field that names files holds only files the client sent, never a path on the service's machine."""
    single = mode in ("path", "text")
    values = [decoded] if single else (
        list(decoded.values()) if isinstance(decoded, dict) else list(decoded) if isinstance(decoded, list | tuple)
        else [])
    tagged = (raw,) if single else (
        tuple(raw.values()) if isinstance(raw, dict) else tuple(raw) if isinstance(raw, list) else ())
    for value, sent in zip(values, tagged, strict=False):
        if isinstance(value, str | os.PathLike) and not (isinstance(sent, dict) and "$local" in sent):
            raise ValidationError(
                f"{spec.name}: {name} names a file by its path; over the API the file travels with the call "
                "(alpr_lib.login(server=...) sends it), and the ALPR service never opens a path a client names")


def _patch_openapi(app: FastAPI) -> None:
    """Add the tagged value schemas to the generated OpenAPI document."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
