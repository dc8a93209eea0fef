"""The audit HMAC key and the signed head checkpoints, both kept outside the store directory.

Someone who can write the records database but not read the key cannot recompute a valid chain; someone who
truncates the log is caught by the last checkpoint, which lives elsewhere (policy 462.5(a), Civil Code
1798.90.52). What this cannot stop (an attacker holding both) is stated in docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

from alpr_lib.audit.locations import check_trusted
from alpr_lib.errors import AuditIntegrityError, ConfigError
from alpr_lib.private_files import open_private, private_dir

__all__ = ["ANCHOR_KIND", "AuditKey", "Checkpoints", "check_anchor", "fingerprint", "sign_anchor"]


def fingerprint(key: bytes) -> str:
    """A key's public name (a hash of it): rotation records name the new key by it, never by its bytes."""
    return hashlib.sha256(b"alpr-audit-key|" + key).hexdigest()[:32]


class AuditKey:
    """HMAC-SHA256 key of one store, created with the store (mode 0600), trusted only if its owner's."""

    def __init__(self, key_dir: Path, store_id: str, owner: int) -> None:
        self.path = key_dir / f"{store_id}.key"
        self._owner = owner

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        private_dir(self.path.parent)
        with open_private(self.path, "x") as handle:
            handle.write(secrets.token_hex(32))

    def load(self) -> bytes:
        try:
            check_trusted(self.path, self._owner, "the audit key")
            text = self.path.read_text().strip()
            return bytes.fromhex(text)
        except FileNotFoundError:
            raise AuditIntegrityError(
                f"the audit key {self.path} is missing: the log cannot be written or verified without it. "
                "Restore it from the department's key backup (the audit system file names its directory; "
                "see docs/security.md)."
            ) from None
        except ConfigError as exc:
            raise AuditIntegrityError(str(exc)) from None
        except ValueError:
            raise AuditIntegrityError(f"the audit key {self.path} is damaged (not a hex key); restore it from "
                                      "the department's key backup") from None

    def mac(self, key: bytes, message: bytes) -> str:
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    # ------------------------------------------------------------ rotation (the chain continues across it)
    def rotated_path(self, fp: str) -> Path:
        """Where the key named ``fp`` by a rotation record lives: ``<store_id>.<fp>.key`` beside the first key."""
        return self.path.with_name(f"{self.path.stem}.{fp}.key")

    def create_rotated(self) -> str:
        """Write a new random key (0600) for a rotation and return its fingerprint. It signs nothing until the
        rotation record naming it commits, so a crash before that leaves an unused file and nothing else."""
        private_dir(self.path.parent)
        key = secrets.token_bytes(32)
        fp = fingerprint(key)
        with open_private(self.rotated_path(fp), "x") as handle:
            handle.write(key.hex())
        return fp

    def load_rotated(self, fp: str) -> bytes:
        """The key a rotation record named; the same trust rules as the first key."""
        path = self.rotated_path(fp)
        try:
            check_trusted(path, self._owner, "the audit key")
            key = bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            raise AuditIntegrityError(
                f"the audit key {path} (fingerprint {fp}, named by the last key rotation) is missing: restore it "
                "from the department's key backup (alpr backup keeps every key)") from None
        except ConfigError as exc:
            raise AuditIntegrityError(str(exc)) from None
        except ValueError:
            raise AuditIntegrityError(f"the audit key {path} is damaged (not a hex key); restore it from the "
                                      "department's key backup") from None
        if fingerprint(key) != fp:
            raise AuditIntegrityError(f"the audit key {path} does not match its fingerprint {fp}; restore it from "
                                      "the department's key backup")
        return key

    def ring(self) -> dict[str, bytes]:
        """Every key of this store by fingerprint: the first key and each rotated one (retired keys are kept:
        they verify the records they signed)."""
        keys = {fingerprint(k): k for k in [self.load()]}
        for path in sorted(self.path.parent.glob(f"{self.path.stem}.*.key")):
            fp = path.name[len(self.path.stem) + 1:-len(".key")]
            keys[fp] = self.load_rotated(fp)
        return keys

    def files(self) -> list[Path]:
        """The key files of this store (for a backup)."""
        return [p for p in [self.path, *sorted(self.path.parent.glob(f"{self.path.stem}.*.key"))] if p.exists()]


class Checkpoints:
    """Append-only file of signed (seq, hash) heads, one JSON line each, written after every audit record."""

    def __init__(self, checkpoint_dir: Path, store_id: str, owner: int) -> None:
        self.path = checkpoint_dir / f"{store_id}.jsonl"
        self._owner = owner

    @staticmethod
    def _message(seq: int, head: str, time: str) -> bytes:
        return f"checkpoint|{seq}|{head}|{time}".encode()

    def append(self, key: bytes, seq: int, head: str, time: str) -> None:
        signature = hmac.new(key, self._message(seq, head, time), hashlib.sha256).hexdigest()
        self.append_line(self.path, json.dumps({"seq": seq, "hash": head, "time": time, "signature": signature}))

    def append_line(self, path: Path, line: str) -> None:
        """Append one line to a private file in the checkpoint directory (created 0700, the file 0600)."""
        private_dir(path.parent)
        check_trusted(path.parent, self._owner, "the checkpoint directory")
        with open_private(path, "ab") as handle:  # one write of the whole line: O_APPEND keeps writers apart
            handle.write((line + "\n").encode())

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self, key: bytes | list[bytes]) -> tuple[list[dict], list[str]]:
        """The checkpoints whose signature holds (under ``key``, or any of the store's keys after a rotation),
        and a sentence for every line that is forged or damaged (each is a finding; reading goes on so one bad
        line hides nothing after it)."""
        keys = key if isinstance(key, list) else [key]
        if not self.path.exists():
            return [], []
        check_trusted(self.path, self._owner, "the checkpoint file")
        good, bad = [], []
        for number, line in enumerate(self.path.read_text(errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                message = self._message(int(item["seq"]), item["hash"], item["time"])
                expected = [hmac.new(k, message, hashlib.sha256).hexdigest() for k in keys]
                signature = str(item["signature"])
            except (ValueError, KeyError, TypeError, AttributeError):
                bad.append(f"checkpoint file {self.path} line {number} is unreadable")
                continue
            if not any(hmac.compare_digest(e, signature) for e in expected):
                bad.append(f"checkpoint file {self.path} line {number} has a bad signature (forged or edited)")
                continue
            good.append(item)
        return good, bad


ANCHOR_KIND = "alpr-audit-anchor"


def _anchor_message(store_id: str, seq: int, head: str, time: str) -> bytes:
    return f"anchor|{store_id}|{seq}|{head}|{time}".encode()


def sign_anchor(key: bytes, store_id: str, seq: int, head: str, time: str) -> dict:
    """A signed statement "store S's audit log had record ``seq`` with hash ``head``", to be kept where no
    store writer can reach it (the Custodian of Records; evidence packages; reports)."""
    signature = hmac.new(key, _anchor_message(store_id, seq, head, time), hashlib.sha256).hexdigest()
    return {"kind": ANCHOR_KIND, "store_id": store_id, "seq": seq, "hash": head, "time": time,
            "signature": signature}


def check_anchor(key: bytes, anchor: object) -> str | None:
    """None if ``anchor`` is a well-formed anchor signed with ``key``, else what is wrong with it."""
    if not isinstance(anchor, dict) or anchor.get("kind") != ANCHOR_KIND:
        return "not an ALPR audit anchor (no \"kind\": \"alpr-audit-anchor\")"
    try:
        expected = hmac.new(key, _anchor_message(str(anchor["store_id"]), int(anchor["seq"]), str(anchor["hash"]),
                                                 str(anchor["time"])), hashlib.sha256).hexdigest()
        signature = str(anchor["signature"])
    except (KeyError, TypeError, ValueError):
        return "the anchor is incomplete (it needs store_id, seq, hash, time and signature)"
    if not hmac.compare_digest(expected, signature):
        return "the anchor's signature does not match this store's audit key (forged, edited or another store's)"
    return None
