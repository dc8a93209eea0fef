"""What an audit review reads and produces: audit entries, accounts, the review's input, and flags.

Plain frozen data, so every rule is a pure function ``rule(data, params) -> list[Flag]`` that a test can feed a
crafted log (see :mod:`alpr_lib.review.engine`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alpr_lib.timeutil import iso, parse_iso

__all__ = ["Account", "Entry", "Flag", "ReviewInput", "entry_from_row"]


@dataclass(frozen=True)
class Entry:
    """One audit record as the rules read it (``query`` parsed, ``time`` an aware UTC datetime)."""

    seq: int
    time: datetime
    username: str
    action: str
    outcome: str = "allowed"
    purpose: str | None = None
    case_number: str | None = None
    result_count: int | None = None
    client: str = "script"
    reason: str | None = None
    session_id: str | None = None
    query: Mapping[str, Any] = field(default_factory=dict)

    @property
    def note(self) -> str | None:
        value = self.query.get("note")
        return value if isinstance(value, str) else None


def entry_from_row(row: Mapping[str, Any]) -> Entry:
    """An audit_log row (``query`` as JSON text) as an :class:`Entry`."""
    query = row.get("query")
    if isinstance(query, str):
        try:
            query = json.loads(query)
        except ValueError:
            query = {"unreadable": query}
    return Entry(int(row["seq"]), parse_iso(row["time"]), str(row["username"]), str(row["action"]),
                 str(row.get("outcome") or "allowed"), row.get("purpose"), row.get("case_number"),
                 row.get("result_count"), str(row.get("client") or ""), row.get("reason"), row.get("session_id"),
                 query if isinstance(query, dict) else {"value": query})


@dataclass(frozen=True)
class Account:
    """An account as the dormant and disabled rules need it."""

    username: str
    disabled: bool
    member_type: str
    roles: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class ReviewInput:
    """Everything a review reads: the period, its records, the history before it, accounts and cases."""

    start: datetime
    end: datetime
    zone: ZoneInfo
    records: tuple[Entry, ...]
    history: tuple[Entry, ...] = ()
    accounts: tuple[Account, ...] = ()
    #: username -> ids of its sessions still open (not ended) at the review
    open_sessions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    case_pattern: str = r"^\d{2}-\d{6}$"
    incident_cases: frozenset[str] = frozenset()
    #: the actions that are data accesses (declared with a purpose)
    data_actions: frozenset[str] = frozenset()

    def data_accesses(self, *, allowed_only: bool = True) -> list[Entry]:
        return [e for e in self.records if e.action in self.data_actions
                and (e.outcome == "allowed" or not allowed_only)]


@dataclass(frozen=True)
class Flag:
    """One finding of a rule: who, which audit records, and why, in words."""

    rule: str
    username: str
    records: tuple[int, ...]
    explanation: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def flag_id(self) -> str:
        """Stable for the same rule, user and records: a mark of "reviewed" sticks to exactly this flag (new
        records make a new flag, to be looked at again)."""
        digest = hashlib.sha256(f"{self.rule}|{self.username}|{','.join(map(str, self.records))}".encode())
        return f"{self.rule}-{digest.hexdigest()[:12]}"

    def as_dict(self) -> dict[str, Any]:
        return {"flag_id": self.flag_id, "rule": self.rule, "username": self.username,
                "records": list(self.records), "explanation": self.explanation,
                "details": {k: (iso(v) if isinstance(v, datetime) else v) for k, v in self.details.items()}}
