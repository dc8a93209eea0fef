"""Audit events as typed records (Civil Code 1798.90.52: date/time, data queried, user, organisation, purpose).

The hash of a record covers every field below in a canonical JSON form, so changing any of them, including
a single queried data element, breaks the chain.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CLIENTS", "OUTCOMES", "AuditRecord"]

OUTCOMES = ("allowed", "denied", "error")
CLIENTS = ("notebook", "dashboard", "cli", "script", "service")


@dataclass(frozen=True)
class AuditRecord:
    """One access: who, when, what was asked for, why, and what came of it."""

    time: str
    username: str
    organisation: str
    action: str
    query: dict[str, Any] = field(default_factory=dict)  # the plate or data elements queried
    purpose: str | None = None
    case_number: str | None = None
    result_count: int | None = None
    client: str = "script"
    outcome: str = "allowed"
    reason: str | None = None
    session_id: str | None = None
    store_kind: str = "operational"

    def canonical(self, seq: int, prev_hash: str) -> bytes:
        body = asdict(self)
        body["seq"] = seq
        body["prev_hash"] = prev_hash
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
