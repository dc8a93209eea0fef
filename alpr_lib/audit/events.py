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

    def normalised(self) -> AuditRecord:
        """The record as the database stores it: text fields as text, the query as its JSON round trip.

        Hashing this form (not the caller's objects) means a value such as ``purpose=123`` hashes as the
        ``'123'`` that is stored, so verification never raises a false alarm on it."""
        def text(value: Any) -> str | None:
            if value is None:
                return None
            if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
                return f"(an integer of {value.bit_length()} bits)"  # str() refuses > 4,300 digits
            return str(value)[:10_000]

        query = json.loads(json.dumps(self.query, sort_keys=True, default=str))
        count = None if self.result_count is None else int(self.result_count)
        return AuditRecord(str(self.time), str(self.username), str(self.organisation), str(self.action), query,
                           text(self.purpose), text(self.case_number), count, str(self.client), str(self.outcome),
                           text(self.reason), text(self.session_id), str(self.store_kind))

    def as_row(self) -> dict[str, Any]:
        """Column values for the audit table (without seq and the chain)."""
        row = asdict(self)
        row["query"] = json.dumps(self.query, sort_keys=True, default=str)
        return row

    def canonical(self, seq: int, prev_hash: str) -> bytes:
        body = asdict(self)
        body["seq"] = seq
        body["prev_hash"] = prev_hash
        return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
