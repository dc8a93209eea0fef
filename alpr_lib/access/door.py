"""The one audited door every action passes through, in one order.

session alive -> arguments bound to the declared request type -> permission -> current training -> purpose
and case number -> the action's plan (frozen) -> the work -> one typed audit record built from the request,
the plan and the result -> the result. A refused call (AccessDenied, AuthError) is audited as *denied*, a
failed one as *error*, each exactly once and by this code only; an unexpected exception is audited and
raised as an :class:`AlprError` saying so. Nothing runs a check twice and there is no second door.

An action that commits data (an ingest) writes its audit record *inside* its own data transaction through
:meth:`Context.audit_in`, so a crash can never leave stored data without the record of who stored it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from alpr_lib.access.actions import Action, Plan, Request, Result, jsonable
from alpr_lib.access.arguments import bind
from alpr_lib.access.checks import (
    check_case_number,
    check_note,
    check_note_text,
    check_permission,
    check_purpose,
    check_training,
    split_note,
)
from alpr_lib.audit.events import AuditRecord
from alpr_lib.audit.log import Written
from alpr_lib.auth.users import User, get_user
from alpr_lib.config import Config
from alpr_lib.errors import AccessDenied, AlprError, AuthError
from alpr_lib.records import Backend
from alpr_lib.records import sessions as session_rows
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["Context", "Door", "synthetic_clock"]

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What an action's plan and work may use: the store (internal), who is asking, and the resolved purpose."""

    store: Store
    user: User
    session_id: str
    client: str
    now: datetime
    purpose: str | None = None
    case_number: str | None = None
    _audit_in: Callable[[Backend, Result], None] | None = None

    def audit_in(self, tx: Backend, result: Result) -> None:
        """Write this call's *allowed* audit record inside the data transaction ``tx`` (the door then writes
        no other record for the call); for actions whose work commits data."""
        if self._audit_in is None:
            raise RuntimeError("audit_in is only available inside a call through the door")
        self._audit_in(tx, result)

    @property
    def config(self) -> Config:
        return self.store.config

    @property
    def db(self) -> Backend:
        return self.store.db


def _rerun_if_files_move(run: Callable[[], T], data_dirs: tuple[Path, ...], attempts: int = 3) -> T:
    """``run()``, again if a data file it listed (under one of ``data_dirs``) vanished under it: a reader lists
    the live files, then opens them, and an ingest merging small files (or a compaction) may delete a listed
    file in between. Any other missing file, e.g. a path the user gave, is an error at once."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except FileNotFoundError as exc:
            text = f"{exc.filename or ''} {exc}"
            if attempt == attempts or not any(str(d) in text for d in data_dirs):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


class Door:
    """Runs declared actions for one logged-in user on one store."""

    def __init__(self, store: Store, user: User, *, client: str, session_id: str, started_at: datetime,
                 last_seen: datetime | None = None) -> None:
        self._store = store
        self.user = user
        self.client = client
        self.session_id = session_id
        self.started_at = started_at
        self._last_seen = last_seen or started_at
        self.ended: str | None = None
        self._clock: Callable[[], datetime] | None = None

    def now(self) -> datetime:
        """The time the door records: the real UTC clock, or a demo's synthetic one (see :func:`synthetic_clock`)."""
        return self._clock().astimezone(UTC) if self._clock is not None else utc_now()

    @property
    def store_id(self) -> str:
        return self._store.store_id

    def access_note(self) -> str | None:
        """Why this user cannot reach plate reads, said at login (None when they can)."""
        if self.user.member_type == "service":
            return ("this is a service account: it may ingest reads, register cameras and compact the store, but "
                    "never search or view reads")
        try:
            check_training(self._store.accounts_db, self.user, self._store.kind, utc_now())
        except AccessDenied as exc:
            return f"you cannot search or view reads yet: {exc}"
        return None

    @property
    def store_kind(self) -> str:
        return self._store.kind

    def banner(self) -> str:
        return self._store.banner()

    def purposes(self) -> list[dict[str, Any]]:
        return [{"name": p.name, "requires_case": p.requires_case, "description": p.description}
                for p in self._store.config.purposes]

    # ------------------------------------------------------------------ lifetime
    def _check_alive(self, now: datetime) -> None:
        if self.ended:
            raise AuthError(f"this session has ended ({self.ended}); log in again with alpr.login()")
        cfg = self._store.config
        row = session_rows.get(self._store.db, self.session_id)
        reason = None
        if row is not None and row["ended_at"]:
            self.ended = row["end_reason"] or "ended"
            raise AuthError(f"this session was ended ({self.ended}); log in again with alpr.login()")
        if self._store.accounts_store is not None:  # a training sandbox: the department's account may have closed
            account = get_user(self._store.accounts_db, self.user.username)
            if account is None or account.disabled or account.suspended_at:
                self.end("account disabled or suspended")
                raise AuthError(f"account {self.user.username!r} was disabled or suspended; this session has ended")
        if self._clock is not None:  # a demo's synthetic clock jumps between planted calls; lifetimes are real time
            return
        if now - self.started_at > timedelta(hours=cfg.session_max_hours):
            reason = f"it is more than {cfg.session_max_hours} hours old"
        elif now - self._last_seen > timedelta(minutes=cfg.session_idle_minutes):
            reason = f"it was idle for more than {cfg.session_idle_minutes} minutes"
        if reason:
            self.end(f"expired: {reason}")
            raise AuthError(f"your session expired because {reason}; log in again with alpr.login()")
        self._last_seen = now
        session_rows.touch(self._store.db, self.session_id, iso(now))

    def end(self, reason: str) -> None:
        self.ended = reason
        session_rows.end(self._store.db, self.session_id, iso(utc_now()), reason)

    def refuse(self, spec: Action, given: dict[str, Any], exc: AlprError) -> None:
        """Audit a call refused before its arguments could reach :meth:`call` (an HTTP body that is not JSON,
        a path named where the API service takes only uploaded files): one record, like any refusal."""
        outcome = "denied" if isinstance(exc, AccessDenied | AuthError) else "error"
        purpose, case = given.get("purpose"), given.get("case_number")
        self._audit(spec, None, given, None, None, purpose if isinstance(purpose, str) else None,
                    case if isinstance(case, str) else None, outcome, str(exc), exc.audit_elements)

    # ------------------------------------------------------------------ the door
    def call(self, spec: Action, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one action for this session's user (see the module docstring for the order)."""
        now = self.now()
        request: Request | None = None
        plan: Plan | None = None
        purpose, case = kwargs.get("purpose"), kwargs.get("case_number")
        written: list[Written] = []  # the record the work wrote inside its own transaction, if any
        # the access note (issue 14): taken here for every action with a purpose, so no request class declares it
        kwargs, note = split_note(spec, kwargs)
        noted = {"note": note}

        def audit_in(tx: Backend, result: Result) -> None:
            if written:
                raise RuntimeError(f"{spec.name} tried to write its audit record twice")
            written.append(self._store.audit.append_in(
                tx, self._record(spec, request, kwargs, plan, result, purpose, case, "allowed", None,
                                 door_elements=noted)))

        try:
            request = bind(spec.request, args, kwargs)
            purpose, case = getattr(request, "purpose", None), getattr(request, "case_number", None)
            if spec.needs_purpose and "note" in {f.name for f in spec.fields}:
                noted["note"] = note = getattr(request, "note", None)
            noted["note"] = note = check_note_text(note)
            self._check_alive(now)
            check_permission(self.user, spec.permission)
            if spec.needs_training:
                check_training(self._store.accounts_db, self.user, self._store.kind, now)
            if spec.needs_purpose:
                purpose = check_purpose(self._store.config, purpose)
                case = check_case_number(self._store.config, purpose, case)
                check_note(self._store.config, purpose, note)
            elif case is not None:
                case = str(case).strip() or None
            if spec.needs_case and case is None:
                raise AccessDenied(f"{spec.name} is tied to a case: give case_number='NN-NNNNNN' (policy 462.5(b))")
            ctx = Context(self._store, self.user, self.session_id, self.client, now, purpose, case, audit_in)
            plan = request.plan(ctx)
            if spec.rerun_if_files_move:
                dirs = (self._store.reads_dir, self._store.index_dir)
                result = _rerun_if_files_move(lambda: request.work(ctx, plan), dirs)
            else:
                result = request.work(ctx, plan)
        except (AccessDenied, AuthError) as exc:
            self._audit(spec, request, kwargs, plan, None, purpose, case, "denied", str(exc), exc.audit_elements,
                        written, noted)
            raise
        except AlprError as exc:
            self._audit(spec, request, kwargs, plan, None, purpose, case, "error", str(exc), exc.audit_elements,
                        written, noted)
            raise
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            self._audit(spec, request, kwargs, plan, None, purpose, case, "error", text, None, written, noted)
            raise AlprError(f"{spec.name} failed unexpectedly ({text[:300]}); the failure is recorded in the "
                            "audit log: report it to the ALPR administrator") from exc
        self._audit(spec, request, kwargs, plan, result, purpose, case, "allowed", None, None, written, noted)
        if result.end_session:
            self.end(result.end_session)
        return result.value

    def _audit(self, spec: Action, request: Request | None, kwargs: dict[str, Any], plan: Plan | None,
               result: Result | None, purpose: Any, case: Any, outcome: str, reason: str | None,
               refused: dict[str, Any] | None = None, written: list[Written] | None = None,
               door_elements: dict[str, Any] | None = None) -> None:
        """Write the one audit record of a call, from what each stage returned; if the work already wrote it
        inside its data transaction, only sign that record's checkpoint (what failed after the commit, e.g.
        tidying files, changes no data and is the administrator's to see in the warning it raised)."""
        if written:
            self._store.audit.seal(written[0])
            return
        self._store.audit.append(self._record(spec, request, kwargs, plan, result, purpose, case, outcome, reason,
                                              refused, door_elements=door_elements))

    def _record(self, spec: Action, request: Request | None, kwargs: dict[str, Any], plan: Plan | None,
                result: Result | None, purpose: Any, case: Any, outcome: str, reason: str | None,
                refused: dict[str, Any] | None = None, *,
                door_elements: dict[str, Any] | None = None) -> AuditRecord:
        """The audit record of a call, from what each stage returned (and the door's own elements: the note)."""
        if request is not None:
            query = request.describe()
        else:  # the arguments did not even bind: record them as given (no secrets: those fields are dropped)
            secret = {f.name for f in spec.fields if f.metadata.get("secret")}
            query = {"arguments": {k: jsonable(v) for k, v in kwargs.items()
                                   if k not in secret and k not in ("purpose", "case_number")}}
        if plan is not None:
            query.update(plan.audit_elements())
        if result is not None:
            query.update(result.elements)
        if refused:
            query.update(refused)
        if spec.needs_purpose and door_elements:
            query.update(door_elements)
        if self._clock is not None:
            query["synthetic_clock"] = True  # a demo's planted record says so (see synthetic_clock)
        if spec.review:
            query["review"] = True
        return AuditRecord(
            time=iso(self.now()), username=self.user.username, organisation=self.user.organisation,
            action=spec.name, query=jsonable(query), purpose=purpose, case_number=case,
            result_count=result.count if result is not None else None, client=self.client, outcome=outcome,
            reason=reason, session_id=self.session_id, store_kind=self._store.kind)


def default_client() -> str:
    """Which surface is calling: ``ALPR_CLIENT`` if set, a Jupyter kernel is a notebook, else a script."""
    import sys

    if os.environ.get("ALPR_CLIENT"):
        return os.environ["ALPR_CLIENT"]
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return "notebook" if getattr(shell, "kernel", None) is not None else "script"


@contextmanager
def synthetic_clock(session: Any, clock: Callable[[], datetime]) -> Iterator[None]:
    """Run ``session``'s calls under ``clock`` (aware UTC datetimes) instead of the real time, for a synthetic
    (demo or training) store only: the demo plants misuse in the past so that every audit-review rule has
    something to show. An operational store with real data refuses (a clock that lies would forge its audit
    log). Every record written under it carries ``synthetic_clock: true``; the session's idle timer is put
    back afterwards, so the real-time calls that follow are not taken for an idle session."""
    door: Door = session._door
    if not (door._store.synthetic or door._store.is_training):
        raise AccessDenied("a synthetic clock is only for demo and training stores; this store holds real data, "
                           "and its audit log records the real time")
    if door._clock is not None:
        raise RuntimeError("synthetic clocks do not nest")
    last_seen = door._last_seen
    door._clock = clock
    try:
        yield
    finally:
        door._clock = None
        door._last_seen = max(last_seen, utc_now())
        session_rows.touch(door._store.db, door.session_id, iso(door._last_seen))
