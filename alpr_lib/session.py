"""The Session: who is asking, with one namespace per area of the mission, all generated from the registry.

``s.reads.search(...)``, ``s.analysis.canvass(...)``, ``s.admin.add_user(...)``... and the flat aliases of the
README's interface (``s.search_plates(...)``, ``s.plate_history(...)``, ``s.canvass(...)``...) are methods
made from :func:`alpr_lib.access.actions.actions`: each binds its arguments to the action's request type and
hands them to the one door (:class:`alpr_lib.access.door.Door`). Nothing here is written per action, so an
HTTP service and its client can be generated from the same registry. The Session holds no store, database
or file path; obtain one with :func:`alpr_lib.login`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from alpr_lib.access.actions import Action, actions
from alpr_lib.access.arguments import signature_of
from alpr_lib.access.door import Door
from alpr_lib.access.tickets import forget_ticket
from alpr_lib.areas import NAMESPACES
from alpr_lib.auth.users import User

__all__ = ["LIFECYCLE", "Namespace", "Session"]

#: Session methods that are not actions: they read only this session's own state or the purpose list.
LIFECYCLE = ("access_note", "logout", "purposes")


def _method(spec: Action) -> Callable[..., Any]:
    def call(self: Any, /, *args: Any, **kwargs: Any) -> Any:
        return self._door.call(spec, args, kwargs)

    call.__name__ = spec.method
    call.__qualname__ = f"{spec.namespace}.{spec.method}"
    call.__doc__ = f"{spec.doc}\n\nAction ``{spec.name}`` (permission ``{spec.permission}``); returns {spec.result}."
    sig = signature_of(spec.request)
    params = list(sig.parameters.values())
    if spec.needs_purpose and "note" not in sig.parameters:  # the door takes a note for every data access
        params.append(inspect.Parameter("note", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation="str | None"))
    call.__signature__ = sig.replace(parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
                                                 *params])  # type: ignore[attr-defined]
    return call


class Namespace:
    """The actions of one area, bound to a session's door."""

    def __init__(self, door: Door) -> None:
        self._door = door

    def __repr__(self) -> str:
        names = ", ".join(n for n in dir(self) if not n.startswith("_"))
        return f"<{type(self).__name__}: {names}>"


def _namespaces() -> dict[str, type[Namespace]]:
    classes: dict[str, dict[str, Any]] = {name: {"__doc__": doc} for name, doc in NAMESPACES.items()}
    for spec in actions():
        if spec.namespace not in classes:
            raise RuntimeError(f"action {spec.name} names an undeclared namespace {spec.namespace!r}")
        classes[spec.namespace][spec.method] = _method(spec)
    return {name: type(f"{name.title().replace('_', '')}Actions", (Namespace,), body)
            for name, body in classes.items()}


class Session:
    """An authenticated user's session on one store. Obtain one with :func:`alpr_lib.login`."""

    def __init__(self, door: Door) -> None:
        self._door = door
        for name, cls in _NAMESPACE_CLASSES.items():
            setattr(self, name, cls(door))
        #: True when this login completed a forced password change (set by the authenticator).
        self.password_changed_at_login = False

    # ----------------------------------------------------------------- identity and lifetime
    @property
    def user(self) -> User:
        return self._door.user

    @property
    def username(self) -> str:
        return self._door.user.username

    @property
    def session_id(self) -> str:
        return self._door.session_id

    @property
    def client(self) -> str:
        return self._door.client

    @property
    def store_kind(self) -> str:
        return self._door.store_kind

    @property
    def ended(self) -> str | None:
        """Why this session ended, or None while it is active."""
        return self._door.ended

    def __repr__(self) -> str:
        state = f"ended ({self.ended})" if self.ended else "active"
        user = self.user
        return f"<Session {user.username} ({user.title}, {user.organisation}) on {self._door.banner()}, {state}>"

    def _repr_markdown_(self) -> str:
        text = f"**Logged in** as `{self.username}` ({self.user.title}) — {self._door.banner()}"
        note = self.access_note()
        return f"{text}\n\n**Note:** {note}" if note else text

    def access_note(self) -> str | None:
        """Why this user cannot search or view reads (no current certification, a service account), or None."""
        return self._door.access_note()

    def logout(self) -> None:
        """End the session (recorded in the audit log) and its ticket; a second logout does nothing."""
        if not self.ended:
            self.account.logout()  # type: ignore[attr-defined]
        forget_ticket(self._door.store_id)

    def purposes(self) -> list[dict[str, Any]]:
        """The department's authorised purposes (for forms): name, whether a case number is needed."""
        return self._door.purposes()


_NAMESPACE_CLASSES = _namespaces()

for _spec in actions():
    for _alias in _spec.aliases:
        if hasattr(Session, _alias):
            raise RuntimeError(f"alias {_alias!r} of {_spec.name} clashes with a Session attribute")
        setattr(Session, _alias, _method(_spec))
