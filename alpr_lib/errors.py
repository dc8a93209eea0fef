"""One exception tree for the whole library.

Every error a user can meet is an :class:`AlprError`; its message says what went wrong and how to fix it,
so notebooks, dashboards and the CLI can show the message alone, never a traceback.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AlprError",
    "AuditIntegrityError",
    "AuthError",
    "ConfigError",
    "IngestError",
    "NotFound",
    "RecognitionError",
    "ServiceUnavailable",
    "StoreError",
    "ValidationError",
]


class AlprError(Exception):
    """Root of every error raised by alpr_lib.

    ``audit_elements`` lets a refusal say what was resolved before it (e.g. the scenes and limits of a canvass
    beyond them); the door adds them to the call's audit record."""

    def __init__(self, *args: object, audit_elements: dict | None = None) -> None:
        super().__init__(*args)
        self.audit_elements = audit_elements or {}


class ConfigError(AlprError):
    """A setting is missing or has an invalid value."""


class AuthError(AlprError):
    """Login failed: unknown user, wrong password, locked, disabled, expired session."""


class AccessDenied(AlprError):
    """The user is authenticated but policy forbids this access (training, purpose, role, limits)."""


class ValidationError(AlprError, ValueError):
    """Input (a plate pattern, a time, a coordinate, a row) is malformed."""


class IngestError(ValidationError):
    """A batch of reads could not be ingested; ``report`` lists the rejected rows."""

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class StoreError(AlprError):
    """The store directory is missing, of the wrong kind, or inconsistent."""


class NotFound(AlprError, LookupError):
    """A named thing (user, read, camera, incident) does not exist."""


class AuditIntegrityError(AlprError):
    """The audit log failed verification: a record was edited, removed, reordered or the log truncated."""


class RecognitionError(AlprError):
    """An image could not be recognised (unreadable, truncated, not an image, too large)."""


class ServiceUnavailable(AlprError):
    """The ALPR API service (server mode) cannot be reached or did not answer; the call may be tried again."""
