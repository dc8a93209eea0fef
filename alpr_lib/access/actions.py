"""The registry: every audited operation declared once, as data.

An action is a frozen request class decorated with :func:`action`. The decorator records what the door needs
(name, permission, whether it needs current training, a purpose, a case number, whether its audit record is
marked for review) and what surfaces need (its namespace and method name on the Session, the flat aliases of
the README's interface, the request fields and the result type). The Session's namespaces, and later the HTTP
routes and the remote client, are generated from :func:`actions`; nothing is mapped by hand twice.

A request class implements up to three steps, each pure with respect to the audit record (they return
values; none edits a shared dict):

- ``describe(self) -> dict``: the queried data elements as the caller gave them (for the audit record even
  when the call is refused);
- ``plan(self, ctx) -> Plan``: resolve and check what the work will do (time windows, limits, approvals) into a
  frozen plan whose ``audit_elements()`` join the record; raising :class:`AccessDenied` refuses the call;
- ``work(self, ctx, plan) -> Result``: do it, returning the value, the result count and result elements
  (e.g. the plates returned).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alpr_lib.access.door import Context

__all__ = ["Action", "NoPlan", "Plan", "Request", "Result", "action", "actions", "get_action", "jsonable",
           "local_files", "secret"]


def jsonable(value: Any) -> Any:
    """A value as it may appear in an audit record: JSON types only (times as ISO text, others as text).

    An int too long for a 64-bit column is recorded as its size in words (Python refuses to print one of more
    than 4,300 digits, and a refusal must still be recorded)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return f"(an integer of {value.bit_length()} bits)"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)[:500]


@dataclass(frozen=True)
class Plan:
    """What the door resolved before the work ran. Subclasses add fields and their audit elements."""

    def audit_elements(self) -> dict[str, Any]:
        return {}


NoPlan = Plan()


@dataclass(frozen=True)
class Result:
    """What the work returns: the value for the caller, the count and elements for the audit record."""

    value: Any
    count: int | None
    elements: Mapping[str, Any] = field(default_factory=dict)
    #: set by ``logout``: the door ends the session, with this reason, once the record is written
    end_session: str | None = None


class Request:
    """Base of every request class (a frozen dataclass of the call's arguments)."""

    #: filled in by :func:`action`
    action_spec: typing.ClassVar[Action]

    def describe(self) -> dict[str, Any]:
        """Default audit elements: every argument except the purpose, the case number and secrets."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)  # type: ignore[arg-type]
                if f.name not in ("purpose", "case_number") and not f.metadata.get("secret")}

    def plan(self, ctx: Context) -> Plan:
        return NoPlan

    def work(self, ctx: Context, plan: Any) -> Result:  # pragma: no cover - every action overrides it
        raise NotImplementedError


def secret() -> Any:
    """Mark a request field (a password) that never reaches the audit record."""
    return field(metadata={"secret": True})


def local_files(default: Any = None) -> Any:
    """Mark a request field whose value holds files by their path inside a mapping or list (e.g. ``images``,
    read id -> bytes or a file): over the API the client uploads those files and the service never opens a
    path a client names (see :mod:`alpr_lib.remote.files`). A field typed ``os.PathLike`` needs no mark."""
    return field(default=default, metadata={"local_files": True})


@dataclass(frozen=True)
class Action:
    """One declared action (see the module docstring)."""

    name: str
    permission: str
    needs_training: bool
    needs_purpose: bool
    needs_case: bool
    review: bool
    namespace: str
    method: str
    aliases: tuple[str, ...]
    request: type[Request]
    result: str
    doc: str
    #: readers list live files and then open them; a concurrent merge may delete one in between
    rerun_if_files_move: bool

    @property
    def fields(self) -> tuple[dataclasses.Field, ...]:
        return dataclasses.fields(self.request)  # type: ignore[arg-type]


_REGISTRY: dict[str, Action] = {}


def action(name: str, *, permission: str, namespace: str, method: str, needs_training: bool = True,
           needs_purpose: bool = False, needs_case: bool = False, review: bool = False,
           aliases: tuple[str, ...] = (), result: str = "None", rerun_if_files_move: bool = False
           ) -> Callable[[type], type[Request]]:
    """Declare a request class as the action ``name`` (it becomes a frozen dataclass)."""
    def register(cls: type) -> type[Request]:
        from alpr_lib.auth.roles import PERMISSIONS

        if name in _REGISTRY:
            raise RuntimeError(f"action {name!r} declared twice")
        if permission not in PERMISSIONS:
            raise RuntimeError(f"action {name!r}: undeclared permission {permission!r}")
        request = dataclass(frozen=True)(cls)
        fields = {f.name for f in dataclasses.fields(request)}
        if needs_purpose and not {"purpose", "case_number"} <= fields:
            raise RuntimeError(f"action {name!r} needs a purpose but its request has no purpose/case_number")
        spec = Action(name, permission, needs_training, needs_purpose, needs_case, review, namespace, method,
                      aliases, request, result, (cls.__doc__ or "").strip(), rerun_if_files_move)
        request.action_spec = spec
        _REGISTRY[name] = spec
        return request

    return register


def actions() -> tuple[Action, ...]:
    """Every declared action, in declaration order."""
    import alpr_lib.areas  # noqa: F401  (declaring modules register on import)

    return tuple(_REGISTRY.values())


def get_action(name: str) -> Action:
    actions()
    return _REGISTRY[name]
