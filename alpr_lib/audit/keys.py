"""The audit HMAC key and the signed head checkpoints, both kept outside the store directory.

Someone who can write the records database but not read the key cannot recompute a valid chain; someone who
truncates the log is caught by the last checkpoint, which lives elsewhere (policy 462.5(a), Civil Code
1798.90.52). What this cannot stop (an attacker holding both) is stated in docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from alpr_lib.errors import AuditIntegrityError, ConfigError

__all__ = ["AuditKey", "Checkpoints"]


def _outside(directory: Path, store_dir: Path, what: str) -> Path:
    directory = directory.expanduser().resolve()
    store = store_dir.resolve()
    if directory == store or store in directory.parents:
        raise ConfigError(
            f"the audit {what} directory {directory} is inside the store {store}; set ALPR_{what.upper()}_DIR "
            "to a directory outside it (the point is that whoever can write the store cannot also reach it)"
        )
    return directory


class AuditKey:
    """HMAC-SHA256 key of one store, created on first use with mode 0600."""

    def __init__(self, key_dir: str | Path, store_dir: str | Path, store_id: str) -> None:
        self.path = _outside(Path(key_dir), Path(store_dir), "key") / f"{store_id}.key"

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))

    def load(self) -> bytes:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            raise AuditIntegrityError(
                f"the audit key {self.path} is missing: the log cannot be written or verified without it. "
                "Restore it from the department's key backup (ALPR_KEY_DIR names its directory)."
            ) from None
        return bytes.fromhex(text)

    def mac(self, key: bytes, message: bytes) -> str:
        return hmac.new(key, message, hashlib.sha256).hexdigest()


class Checkpoints:
    """Append-only file of signed (seq, hash) heads, one JSON line each."""

    def __init__(self, checkpoint_dir: str | Path, store_dir: str | Path, store_id: str) -> None:
        self.path = _outside(Path(checkpoint_dir), Path(store_dir), "checkpoint") / f"{store_id}.jsonl"

    @staticmethod
    def _message(seq: int, head: str, time: str) -> bytes:
        return f"checkpoint|{seq}|{head}|{time}".encode()

    def append(self, key: bytes, seq: int, head: str, time: str) -> None:
        signature = hmac.new(key, self._message(seq, head, time), hashlib.sha256).hexdigest()
        line = json.dumps({"seq": seq, "hash": head, "time": time, "signature": signature}) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def read(self, key: bytes) -> list[dict]:
        """All checkpoints; a forged or damaged line raises AuditIntegrityError."""
        if not self.path.exists():
            return []
        out = []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                expected = hmac.new(key, self._message(int(item["seq"]), item["hash"], item["time"]),
                                    hashlib.sha256).hexdigest()
            except (ValueError, KeyError, TypeError):
                raise AuditIntegrityError(f"checkpoint file {self.path} line {number} is unreadable") from None
            if not hmac.compare_digest(expected, item["signature"]):
                raise AuditIntegrityError(f"checkpoint file {self.path} line {number} has a bad signature")
            out.append(item)
        return out
