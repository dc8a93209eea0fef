"""What can be done with a store before anyone logs in: create it, say which store it is, verify its audit
log, upgrade an older one. None of these reveals a plate read.

Like ``alpr init``, each is run by whoever holds the store's files (the ALPR administrator's service account)
and, where it changes something, writes its own audit record under the name of the command.
"""

from __future__ import annotations

import os

from alpr_lib.audit.events import AuditRecord
from alpr_lib.audit.log import VerifyResult
from alpr_lib.errors import StoreError
from alpr_lib.store.layout import LAYOUT_VERSION, layout_version, upgrade_layout
from alpr_lib.store.store import Store, open_for_upgrade
from alpr_lib.timeutil import iso, utc_now

__all__ = ["store_banner", "upgrade_store", "verify_audit_log"]


def store_banner(store: str | os.PathLike | None) -> str:
    """One line naming the store and its kind (training and synthetic stores say so)."""
    opened = Store.open(store)
    try:
        return opened.banner()
    finally:
        opened.close()


def verify_audit_log(store: str | os.PathLike | None) -> VerifyResult:
    """Check the audit chain and the signed checkpoints (``alpr audit verify``; needs no login)."""
    opened = open_for_upgrade(store)
    try:
        return opened.audit.verify()
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
