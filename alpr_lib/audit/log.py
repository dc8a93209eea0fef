"""Append-only, HMAC-chained audit log in the records database, with verification.

Each row carries ``prev_hash`` (its predecessor's hash) and ``hash = HMAC(key, canonical(record))``.
:func:`verify` walks the chain and compares the head with the signed checkpoints kept outside the store, so
an edited, deleted, reordered, truncated or recomputed log is detected and the first bad record named.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from alpr_lib.audit.events import OUTCOMES, AuditRecord
from alpr_lib.audit.keys import AuditKey, Checkpoints
from alpr_lib.errors import AuditIntegrityError
from alpr_lib.records import Backend
from alpr_lib.records import audit_log as audit_rows
from alpr_lib.records.audit_log import AuditFilter

__all__ = ["GENESIS", "AuditLog", "VerifyResult"]

GENESIS = "0" * 64


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.records} records, chain and checkpoints verified"
        where = f"record seq={self.first_bad_seq}" if self.first_bad_seq is not None else "log"
        return f"AUDIT LOG TAMPERED at {where}: {self.problem}"


def _record_from_row(row: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        time=row["time"], username=row["username"], organisation=row["organisation"], action=row["action"],
        query=json.loads(row["query"]), purpose=row["purpose"], case_number=row["case_number"],
        result_count=row["result_count"], client=row["client"], outcome=row["outcome"], reason=row["reason"],
        session_id=row["session_id"], store_kind=row["store_kind"],
    )


class AuditLog:
    """Writer and reader of the audit chain of one store."""

    def __init__(self, db: Backend, key: AuditKey, checkpoints: Checkpoints) -> None:
        self._db = db
        self._key = key
        self._checkpoints = checkpoints

    def append(self, record: AuditRecord) -> int:
        """Write one record durably and return its sequence number; raises if it cannot be written."""
        if record.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        key = self._key.load()
        record = record.normalised()  # hash exactly what the database will hand back
        with self._db.transaction() as tx:
            last = audit_rows.head(tx)
            seq = last[0] + 1 if last else 1
            prev = last[1] if last else GENESIS
            digest = self._key.mac(key, record.canonical(seq, prev))
            audit_rows.insert(tx, {**record.as_row(), "seq": seq, "prev_hash": prev, "hash": digest})
        self._checkpoints.append(key, seq, digest, record.time)
        return seq

    def rows(self, where: AuditFilter | None = None) -> list[dict[str, Any]]:
        """Stored records in sequence order (``query`` as its JSON text)."""
        return audit_rows.select(self._db, where)

    def verify(self) -> VerifyResult:
        """Check every link and every checkpoint; report the first bad record."""
        try:
            key = self._key.load()
            checkpoints = self._checkpoints.read(key)
        except AuditIntegrityError as exc:
            return VerifyResult(False, 0, None, str(exc))
        rows = audit_rows.select(self._db)
        prev = GENESIS
        by_seq: dict[int, str] = {}
        for index, row in enumerate(rows, start=1):
            seq = row["seq"]
            if seq != index:
                missing = index if seq > index else seq
                return VerifyResult(False, len(rows), missing,
                                    f"sequence gap: expected seq {index}, found {seq} (a record was deleted)")
            if row["prev_hash"] != prev:
                return VerifyResult(False, len(rows), seq,
                                    "link broken: prev_hash does not match the preceding record "
                                    "(records deleted or reordered)")
            try:
                expected = self._key.mac(key, _record_from_row(row).canonical(seq, prev))
            except (ValueError, TypeError):
                return VerifyResult(False, len(rows), seq, "record is unreadable")
            if not hmac.compare_digest(expected, row["hash"]):
                return VerifyResult(False, len(rows), seq,
                                    "hash mismatch: the record was edited, or the chain recomputed without "
                                    "the audit key")
            by_seq[seq] = row["hash"]
            prev = row["hash"]
        for point in checkpoints:
            seq = int(point["seq"])
            if seq not in by_seq:
                return VerifyResult(False, len(rows), len(rows) + 1 if seq > len(rows) else seq,
                                    f"log truncated: signed checkpoint names seq {seq} but the log ends at "
                                    f"{len(rows)}")
            if by_seq[seq] != point["hash"]:
                return VerifyResult(False, len(rows), seq,
                                    "record differs from the signed checkpoint taken when it was written "
                                    "(the log was rewritten from here)")
        return VerifyResult(True, len(rows))
