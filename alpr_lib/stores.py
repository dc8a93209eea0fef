"""What can be done with a store before anyone logs in: create it, say which store it is, verify its audit
log, upgrade an older one. None of these reveals a plate read.

Like ``alpr init``, each is run by whoever holds the store's files (the ALPR administrator's service account)
and, where it changes something, writes its own audit record under the name of the command.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alpr_lib.audit.events import AuditRecord
from alpr_lib.audit.log import VerifyResult
from alpr_lib.errors import AuditIntegrityError, StoreError
from alpr_lib.store.layout import LAYOUT_VERSION, layout_version, upgrade_layout
from alpr_lib.store.store import Store, open_for_upgrade
from alpr_lib.timeutil import iso, utc_now

__all__ = ["anchor_audit_log", "store_banner", "upgrade_store", "verify_audit_log"]


def store_banner(store: str | os.PathLike | None) -> str:
    """One line naming the store and its kind (training and synthetic stores say so)."""
    opened = Store.open(store)
    try:
        return opened.banner()
    finally:
        opened.close()


def _read_anchor(path: Path) -> tuple[str, object]:
    try:
        return str(path), json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return str(path), f"unreadable: {exc}"


def verify_audit_log(store: str | os.PathLike | None, *, anchors: Iterable[Path] = ()) -> VerifyResult:
    """Check the audit chain, the signed checkpoints and any anchors (``alpr audit verify``; needs no login:
    it reveals no read data)."""
    opened = open_for_upgrade(store)
    try:
        return opened.audit.verify([_read_anchor(Path(p)) for p in anchors])
    finally:
        opened.close()


def anchor_audit_log(store: str | os.PathLike | None) -> dict[str, Any]:
    """Record the anchoring in the log, then sign its head (``alpr audit anchor``); refuses a log that does
    not verify, since an anchor vouches for everything before it."""
    opened = open_for_upgrade(store)
    try:
        result = opened.audit.verify()
        if result.tampered:
            raise AuditIntegrityError(f"the audit log does not verify, so it cannot be anchored:\n{result}")
        opened.audit.append(AuditRecord(
            time=iso(utc_now()), username="alpr audit anchor", organisation="system", action="audit.anchor",
            query={"records": result.records + 1}, client="cli", store_kind=opened.kind))
        signed = opened.audit.signed_head()
        opened.audit.remember_anchor(signed)
        return signed
    finally:
        opened.close()


def upgrade_store(store: str | os.PathLike | None, *, progress: bool | None = None) -> bool:
    """Rebuild the plate index of a store written by an older release (``alpr upgrade``); returns whether
    anything was rebuilt. The records migrations run on every open; this is the heavy part they leave."""
    opened = open_for_upgrade(store)
    try:
        before = layout_version(opened)
        rebuilt = upgrade_layout(opened, progress=progress)
        if layout_version(opened) < LAYOUT_VERSION:
            raise StoreError(f"{opened.path}: the upgrade did not complete; run `alpr upgrade` again")
        if rebuilt:
            opened.audit.append(AuditRecord(
                time=iso(utc_now()), username="alpr upgrade", organisation="system", action="store.upgrade",
                query={"layout_from": before, "layout_to": LAYOUT_VERSION}, client="cli", store_kind=opened.kind))
        return rebuilt
    finally:
        opened.close()
