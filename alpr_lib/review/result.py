"""The result of an audit review: the period, the chain's status, activity per user and purpose, and the flags.

Built by :func:`summarise` from a :class:`ReviewInput` and the flags its rules raised; what the CLI prints, the
audit-review dashboard shows and the periodic report is written from.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from alpr_lib.review.engine import queried_plate
from alpr_lib.review.model import Flag, ReviewInput
from alpr_lib.review.rules import RuleSet
from alpr_lib.timeutil import iso

__all__ = ["AuditReview", "summarise"]

_USER_SCHEMA = {"username": pl.String, "records": pl.Int64, "data_accesses": pl.Int64, "denied": pl.Int64,
                "without_note": pl.Int64, "without_case": pl.Int64, "plates_queried": pl.Int64, "flags": pl.Int64}
_PURPOSE_SCHEMA = {"purpose": pl.String, "data_accesses": pl.Int64, "users": pl.Int64, "with_case": pl.Int64,
                   "with_note": pl.Int64, "denied": pl.Int64}


@dataclass(frozen=True)
class AuditReview:
    """One review: every flag explains itself (rule, user, records, why); ``chain`` is the log's verification."""

    start: datetime
    end: datetime
    timezone: str
    chain: Mapping[str, Any]
    records_reviewed: int
    flags: tuple[Flag, ...]
    by_user: pl.DataFrame
    by_purpose: pl.DataFrame
    rules: RuleSet
    #: flag_id -> the newest auditor's review of it (finding, follow_up, reviewed_by, reviewed_at)
    reviewed: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def flag(self, flag_id: str) -> Flag | None:
        return next((f for f in self.flags if f.flag_id == flag_id), None)

    def flags_frame(self) -> pl.DataFrame:
        """One row per flag: id, rule, user, record count and numbers, why, and whether it was reviewed."""
        rows = [{"flag_id": f.flag_id, "rule": f.rule, "username": f.username, "n_records": len(f.records),
                 "records": ", ".join(map(str, f.records)), "explanation": f.explanation,
                 "reviewed": f.flag_id in self.reviewed,
                 "finding": (self.reviewed.get(f.flag_id) or {}).get("finding")} for f in self.flags]
        schema = {"flag_id": pl.String, "rule": pl.String, "username": pl.String, "n_records": pl.Int64,
                  "records": pl.String, "explanation": pl.String, "reviewed": pl.Boolean, "finding": pl.String}
        return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)

    def counts(self) -> dict[str, int]:
        """Flags per rule id (every rule listed, zero included)."""
        counted = Counter(f.rule for f in self.flags)
        return {rule.id: counted.get(rule.id, 0) for rule in self.rules.rules}

    def flag_dicts(self) -> list[dict[str, Any]]:
        """What ``alpr audit review --json`` prints, one object per flag."""
        out = []
        for f in self.flags:
            item = f.as_dict()
            item["review_period"] = {"start": iso(self.start), "end": iso(self.end)}
            item["chain_status"] = self.chain.get("status")
            review = self.reviewed.get(f.flag_id)
            item["reviewed"] = ({k: review[k] for k in ("finding", "follow_up", "reviewed_by", "reviewed_at")}
                                if review else None)
            out.append(item)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"start": iso(self.start), "end": iso(self.end), "timezone": self.timezone, "chain": dict(self.chain),
                "records_reviewed": self.records_reviewed, "counts": self.counts(), "flags": self.flag_dicts(),
                "by_user": self.by_user.to_dicts(), "by_purpose": self.by_purpose.to_dicts(),
                "rules": self.rules.as_dict()}

    def __repr__(self) -> str:
        return (f"<AuditReview {iso(self.start)[:10]} to {iso(self.end)[:10]}: {self.records_reviewed} records, "
                f"{len(self.flags)} flags, chain {self.chain.get('status')}>")

    def _repr_markdown_(self) -> str:
        lines = [f"**Audit review** {iso(self.start)[:16]} to {iso(self.end)[:16]} UTC — "
                 f"{self.records_reviewed:,} records, chain **{self.chain.get('status')}**", "",
                 "| rule | flags |", "| --- | --- |"]
        lines += [f"| {rule} | {n} |" for rule, n in self.counts().items()]
        return "\n".join(lines)


def summarise(data: ReviewInput, flags: list[Flag], rules: RuleSet, chain: Mapping[str, Any],
              reviewed: Mapping[str, Mapping[str, Any]]) -> AuditReview:
    """The review of ``data``: activity per user and per purpose beside the flags."""
    users: dict[str, dict[str, Any]] = defaultdict(lambda: {"records": 0, "data_accesses": 0, "denied": 0,
                                                             "without_note": 0, "without_case": 0,
                                                             "plates": set(), "flags": 0})
    purposes: dict[str, dict[str, Any]] = defaultdict(lambda: {"data_accesses": 0, "users": set(), "with_case": 0,
                                                                "with_note": 0, "denied": 0})
    for e in data.records:
        row = users[e.username]
        row["records"] += 1
        row["denied"] += e.outcome == "denied"
        if e.action not in data.data_actions:
            continue
        purpose = purposes[e.purpose or "(none)"]
        if e.outcome != "allowed":
            purpose["denied"] += 1
            continue
        row["data_accesses"] += 1
        row["without_note"] += not (e.note or "").strip()
        row["without_case"] += not e.case_number
        plate = queried_plate(e)
        if plate:
            row["plates"].add(plate)
        purpose["data_accesses"] += 1
        purpose["users"].add(e.username)
        purpose["with_case"] += bool(e.case_number)
        purpose["with_note"] += bool((e.note or "").strip())
    for f in flags:
        users[f.username]["flags"] += 1
    by_user = pl.DataFrame([{"username": name, **{k: v for k, v in row.items() if k != "plates"},
                             "plates_queried": len(row["plates"])} for name, row in sorted(users.items())],
                           schema=_USER_SCHEMA, orient="row") if users else pl.DataFrame(schema=_USER_SCHEMA)
    by_purpose = pl.DataFrame([{"purpose": name, **{k: v for k, v in row.items() if k != "users"},
                                "users": len(row["users"])} for name, row in sorted(purposes.items())],
                              schema=_PURPOSE_SCHEMA, orient="row") if purposes else \
        pl.DataFrame(schema=_PURPOSE_SCHEMA)
    return AuditReview(data.start, data.end, data.zone.key, dict(chain), len(data.records), tuple(flags),
                       by_user.select(list(_USER_SCHEMA)), by_purpose.select(list(_PURPOSE_SCHEMA)), rules,
                       dict(reviewed))
