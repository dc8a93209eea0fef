"""Append-only, HMAC-chained audit log in the records database, with verification.

Each row carries ``prev_hash`` (its predecessor's hash) and ``hash = HMAC(key, canonical(record))``; after
every record a signed checkpoint of the head goes to a file outside the store, and ``alpr audit anchor``
hands a signed head to the Custodian of Records. :func:`AuditLog.verify` walks the *whole* chain and reports
every bad record or range (one false alarm must never hide a real deletion behind it), compares the log with
every checkpoint and anchor, and never says "intact" for what it cannot vouch for: missing or shortened
checkpoints are a finding of their own (exit status 5), distinct from tampering (4).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alpr_lib.audit.events import OUTCOMES, AuditRecord
from alpr_lib.audit.keys import AuditKey, Checkpoints, check_anchor, fingerprint, sign_anchor
from alpr_lib.errors import AuditIntegrityError
from alpr_lib.records import Backend
from alpr_lib.records import audit_log as audit_rows
from alpr_lib.records import meta as meta_rows
from alpr_lib.records.audit_log import AuditFilter

__all__ = ["EXIT_INTACT", "EXIT_TAMPERED", "EXIT_UNVERIFIABLE", "GENESIS", "KEY_META", "ROTATION_ACTION", "AuditLog",
           "Finding", "VerifyResult"]

GENESIS = "0" * 64
#: The action whose (allowed) record names the key that signs every later record: written with the old key, in
#: the transaction that also sets :data:`KEY_META`, so the chain continues across a rotation.
ROTATION_ACTION = "audit.rotate_key"
#: meta key holding the fingerprint of the key that signs new records (absent: the store's first key)
KEY_META = "audit_key_fingerprint"
EXIT_INTACT, EXIT_TAMPERED, EXIT_UNVERIFIABLE = 0, 4, 5


@dataclass(frozen=True)
class Finding:
    """One thing verification found. ``tampering`` findings prove the log was changed; the others say what
    it cannot vouch for (a missing key, missing or shortened checkpoints, an unusable anchor)."""

    kind: str
    message: str
    first: int | None = None
    last: int | None = None
    tampering: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "first": self.first, "last": self.last, "tampering": self.tampering,
                "message": self.message}


@dataclass(frozen=True)
class VerifyResult:
    """What ``alpr audit verify`` reports; ``ok`` only when every record is vouched for and none is bad."""

    records: int
    checkpoints: str
    findings: tuple[Finding, ...] = ()
    checkpointed_to: int = 0
    anchored_to: int | None = None
    anchors: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.findings

    intact = ok

    @property
    def tampered(self) -> bool:
        return any(f.tampering for f in self.findings)

    @property
    def status(self) -> str:
        return "intact" if self.ok else "tampered" if self.tampered else "unverifiable"

    @property
    def exit_code(self) -> int:
        return EXIT_INTACT if self.ok else EXIT_TAMPERED if self.tampered else EXIT_UNVERIFIABLE

    @property
    def bad_ranges(self) -> list[list[int]]:
        """Merged [first, last] ranges of records found deleted, edited, rewritten or cut off."""
        spans = sorted((f.first, f.last if f.last is not None else f.first) for f in self.findings
                       if f.tampering and f.first is not None)
        merged: list[list[int]] = []
        for first, last in spans:
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        return merged

    @property
    def first_bad_seq(self) -> int | None:
        ranges = self.bad_ranges
        return ranges[0][0] if ranges else None

    @property
    def unvouched(self) -> list[int] | None:
        """[first, last] of records no signed checkpoint covers, if any."""
        gap = next((f for f in self.findings if f.kind in ("unvouched", "checkpoints-missing")), None)
        return [gap.first, gap.last] if gap and gap.first is not None else None

    @property
    def problem(self) -> str | None:
        return self.findings[0].message if self.findings else None

    @property
    def unanchored_tail(self) -> int:
        return self.records - (self.anchored_to or 0)

    def as_dict(self) -> dict[str, Any]:
        return {"intact": self.ok, "status": self.status, "records": self.records,
                "first_bad": self.first_bad_seq, "bad_ranges": self.bad_ranges, "unvouched": self.unvouched,
                "checkpoints": self.checkpoints, "checkpointed_to": self.checkpointed_to,
                "anchored_to": self.anchored_to, "unanchored_tail": self.unanchored_tail,
                "anchors": list(self.anchors), "findings": [f.as_dict() for f in self.findings]}

    def __str__(self) -> str:
        if self.ok:
            lines = [f"audit log intact: {self.records} records, chain and checkpoints verified"]
        elif self.tampered:
            ranges = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.bad_ranges) or "the log"
            lines = [f"AUDIT LOG TAMPERED: bad records {ranges} (first bad seq={self.first_bad_seq})"]
        else:
            lines = [f"AUDIT LOG NOT VERIFIED: {self.records} records, some of which cannot be vouched for"]
        lines += [f"  - {f.message}" for f in self.findings]
        if self.anchored_to is None:
            lines.append("  no anchor held outside the store yet: run `alpr audit anchor` and give the signed "
                         "head to the Custodian of Records")
        elif self.unanchored_tail:
            lines.append(f"  {self.unanchored_tail} records since the last anchor (seq {self.anchored_to})")
        else:
            lines.append(f"  anchored up to the head (seq {self.anchored_to})")
        return "\n".join(lines)


def _record_from_row(row: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        time=row["time"], username=row["username"], organisation=row["organisation"], action=row["action"],
        query=json.loads(row["query"]), purpose=row["purpose"], case_number=row["case_number"],
        result_count=row["result_count"], client=row["client"], outcome=row["outcome"], reason=row["reason"],
        session_id=row["session_id"], store_kind=row["store_kind"],
    )


def _span(first: int, last: int) -> str:
    return f"record {first}" if first == last else f"records {first}-{last}"


@dataclass(frozen=True)
class Written:
    """A record written inside a transaction, whose checkpoint is due once that transaction commits."""

    seq: int
    digest: str
    time: str
    key: bytes = field(repr=False)


class AuditLog:
    """Writer and reader of the audit chain of one store."""

    def __init__(self, db: Backend, key: AuditKey, checkpoints: Checkpoints, store_id: str) -> None:
        self._db = db
        self._key = key
        self._checkpoints = checkpoints
        self._store_id = store_id

    @property
    def checkpoints_path(self) -> Path:
        """The signed checkpoint file (outside the store)."""
        return self._checkpoints.path

    @property
    def anchors_path(self) -> Path:
        """Anchors taken by ``alpr audit anchor``, kept beside the checkpoints (copies: the real ones are
        held by the Custodian of Records)."""
        return self._checkpoints.path.with_suffix(".anchors.jsonl")

    def append(self, record: AuditRecord) -> int:
        """Write one record durably and return its sequence number; raises if it cannot be written."""
        with self._db.transaction() as tx:
            written = self.append_in(tx, record)
        self.seal(written)
        return written.seq

    def append_in(self, tx: Backend, record: AuditRecord) -> Written:
        """Write ``record`` inside the caller's transaction ``tx`` (so that data and its audit record commit
        together, or neither does); call :meth:`seal` after the commit."""
        if record.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}")
        key = self._current_key(tx)
        record = record.normalised()  # hash exactly what the database will hand back
        last = audit_rows.head(tx)
        seq = last[0] + 1 if last else 1
        prev = last[1] if last else GENESIS
        digest = self._key.mac(key, record.canonical(seq, prev))
        audit_rows.insert(tx, {**record.as_row(), "seq": seq, "prev_hash": prev, "hash": digest})
        return Written(seq, digest, record.time, key)

    def seal(self, written: Written) -> None:
        """Sign the committed head into the checkpoint file outside the store."""
        self._checkpoints.append(written.key, written.seq, written.digest, written.time)

    def rows(self, where: AuditFilter | None = None) -> list[dict[str, Any]]:
        """Stored records in sequence order (``query`` as its JSON text)."""
        return audit_rows.select(self._db, where)

    def signed_head(self) -> dict[str, Any]:
        """A signed statement of the current head (seq, hash, time), for an anchor or a report."""
        return self.signed_head_in(self._db)

    def signed_head_in(self, db: Backend) -> dict[str, Any]:
        """:meth:`signed_head` as seen inside the transaction ``db`` (a purge certificate names the purge's own
        record this way)."""
        key = self._current_key(db)
        row = audit_rows.last(db)
        if row is None:
            raise AuditIntegrityError("the audit log is empty; there is no head to anchor yet")
        return sign_anchor(key, self._store_id, int(row["seq"]), row["hash"], row["time"])

    # ------------------------------------------------------------ key rotation
    def _current_key(self, db: Backend) -> bytes:
        """The key that signs the next record: the one the last rotation named, else the store's first key."""
        fp = meta_rows.get(db, KEY_META)
        return self._key.load() if fp is None else self._key.load_rotated(fp)

    def key_fingerprint(self) -> str:
        """The fingerprint of the key signing new records (public: it names the key, it does not reveal it)."""
        return fingerprint(self._current_key(self._db))

    def prepare_rotation(self) -> str:
        """Write the next key (not yet in use) and return its fingerprint; :meth:`commit_rotation` puts it in use."""
        return self._key.create_rotated()

    def commit_rotation(self, tx: Backend, new_fingerprint: str) -> None:
        """In the transaction that wrote the rotation record (signed with the old key): every later record is
        signed with the new key. Call after that record is written."""
        self._key.load_rotated(new_fingerprint)  # it must be readable before anything depends on it
        meta_rows.put(tx, KEY_META, new_fingerprint)

    def remember_anchor(self, anchor: dict[str, Any]) -> None:
        """Keep a copy of an anchor handed out, so verify can say how much of the log came after it."""
        self._checkpoints.append_line(self.anchors_path, json.dumps(anchor, sort_keys=True))

    def _local_anchors(self) -> list[tuple[str, object]]:
        if not self.anchors_path.is_file():
            return []
        out: list[tuple[str, object]] = []
        for number, line in enumerate(self.anchors_path.read_text(errors="replace").splitlines(), start=1):
            if line.strip():
                try:
                    out.append((f"{self.anchors_path} line {number}", json.loads(line)))
                except ValueError:
                    out.append((f"{self.anchors_path} line {number}", None))
        return out

    def verify(self, anchors: Iterable[tuple[str, object]] = ()) -> VerifyResult:
        """Check every link, every checkpoint and every anchor (``(source, anchor)`` pairs given by the
        caller, plus the copies kept beside the checkpoints); report every bad record, not only the first."""
        where = str(self._checkpoints.path)
        rows = audit_rows.select(self._db)
        try:
            key = self._key.load()
            ring = self._key.ring()
        except AuditIntegrityError as exc:
            return VerifyResult(len(rows), where, (Finding("key", str(exc), tampering=False),))
        findings: list[Finding] = []
        authentic: dict[int, str] = {}
        expected, last_good = 1, None
        for row in rows:
            seq = int(row["seq"])
            if seq > expected:
                findings.append(Finding("deleted", f"{_span(expected, seq - 1)} missing: deleted from the log",
                                        expected, seq - 1))
            expected = seq + 1
            try:
                digest = self._key.mac(key, _record_from_row(row).canonical(seq, row["prev_hash"]))
                genuine = hmac.compare_digest(digest, str(row["hash"]))
            except (ValueError, TypeError):
                genuine = False
            if not genuine:
                findings.append(Finding("edited", f"record {seq}: hash mismatch: the record was edited, or the "
                                        "chain recomputed without the audit key", seq, seq))
                last_good = None
                continue
            if seq == 1 and row["prev_hash"] != GENESIS:
                findings.append(Finding("link", "record 1 does not start the chain", 1, 1))
            elif last_good is not None and last_good[0] == seq - 1 and row["prev_hash"] != last_good[1]:
                findings.append(Finding("link", f"record {seq}: link broken: prev_hash does not match the "
                                        "preceding record (records replaced or reordered)", seq, seq))
            authentic[seq] = row["hash"]
            last_good = (seq, row["hash"])
            if row["action"] == ROTATION_ACTION and row["outcome"] == "allowed":  # later records: the new key
                named = str(json.loads(row["query"]).get("new_key_fingerprint"))
                if named not in ring:
                    findings.append(Finding("key", f"record {seq} rotated the audit key to {named}, but that key is "
                                            "missing from the key directory: restore it from the department's key "
                                            "backup to verify the records after it", seq, None, tampering=False))
                    break
                key = ring[named]
        head = int(rows[-1]["seq"]) if rows else 0
        keys = list(ring.values())
        checkpointed_to = self._check_checkpoints(keys, rows, head, authentic, findings)
        anchored_to, checked = self._check_anchors(keys, [*self._local_anchors(), *anchors], head, authentic,
                                                   findings)
        return VerifyResult(len(rows), where, tuple(findings), checkpointed_to, anchored_to, tuple(checked))

    def _check_checkpoints(self, key: list[bytes], rows: list[dict[str, Any]], head: int, authentic: dict[int, str],
                           findings: list[Finding]) -> int:
        """Compare the log with the signed checkpoints; returns the highest seq they vouch for."""
        try:
            points, damaged = self._checkpoints.read(key)
        except AuditIntegrityError as exc:
            findings.append(Finding("checkpoints-unreadable", str(exc), tampering=False))
            return 0
        findings.extend(Finding("checkpoint-forged", text) for text in damaged)
        covered, beyond = 0, 0
        for point in points:
            seq = int(point["seq"])
            if seq > head:
                beyond = max(beyond, seq)
            elif seq in authentic and authentic[seq] != point["hash"]:
                findings.append(Finding("rewritten", f"record {seq} differs from the signed checkpoint taken when "
                                        "it was written (the log was rewritten from here)", seq, seq))
            elif seq in authentic:
                covered = max(covered, seq)
        if beyond:
            findings.append(Finding("truncated", f"log truncated: a signed checkpoint names record {beyond} but the "
                                    f"log ends at {head}: {_span(head + 1, beyond)} were cut off", head + 1, beyond))
        if rows and not self._checkpoints.exists():
            findings.append(Finding("checkpoints-missing", f"the checkpoint file {self._checkpoints.path} is missing: "
                                    f"nothing outside the store vouches for {_span(1, head)}; records may have been "
                                    "cut off the end. Restore the file from backup, or check the log against an "
                                    "anchor (alpr audit verify --anchor FILE)", 1, head, tampering=False))
        elif rows and covered < head and not beyond:
            findings.append(Finding("unvouched", f"{_span(covered + 1, head)} after the last signed checkpoint "
                                    f"(record {covered}) are not vouched for: the checkpoint file was shortened, or "
                                    "the writer stopped between a record and its checkpoint (a crash; the next "
                                    "audited action covers them again). Check against an anchor to be sure",
                                    covered + 1, head, tampering=False))
        return covered

    def _check_anchors(self, key: list[bytes], anchors: list[tuple[str, object]], head: int, authentic: dict[int, str],
                       findings: list[Finding]) -> tuple[int | None, list[dict[str, Any]]]:
        anchored_to: int | None = None
        checked = []
        for source, anchor in anchors:
            problem = anchor if isinstance(anchor, str) else _check_anchor_any(key, anchor)
            if problem is None and anchor["store_id"] != self._store_id:  # type: ignore[index]
                problem = f"the anchor is for store {anchor['store_id']}, not this store ({self._store_id})"  # type: ignore[index]
            if problem is not None:
                findings.append(Finding("anchor-unusable", f"{source}: {problem}", tampering=False))
                checked.append({"source": source, "ok": False, "problem": problem})
                continue
            seq, digest = int(anchor["seq"]), str(anchor["hash"])  # type: ignore[index]
            ok = True
            if seq > head:
                ok = False
                findings.append(Finding("truncated", f"{source}: the anchor names record {seq} but the log ends "
                                        f"at {head}: {_span(head + 1, seq)} were cut off", head + 1, seq))
            elif authentic.get(seq) != digest:
                ok = False
                if seq in authentic:
                    findings.append(Finding("rewritten", f"{source}: record {seq} differs from the anchor "
                                            "(the log was rewritten)", seq, seq))
            if ok:
                anchored_to = max(anchored_to or 0, seq)
            checked.append({"source": source, "ok": ok, "seq": seq, "time": anchor["time"]})  # type: ignore[index]
        return anchored_to, checked


def _check_anchor_any(keys: list[bytes], anchor: object) -> str | None:
    """:func:`check_anchor` under any of the store's keys (an anchor taken before a rotation stays good)."""
    problems = [check_anchor(k, anchor) for k in keys]
    return None if any(p is None for p in problems) else problems[0]
