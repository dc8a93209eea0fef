"""Creating a store and its first administrator (``alpr init``), the one step that has no session yet."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from alpr_lib.audit.events import AuditRecord
from alpr_lib.auth import users
from alpr_lib.store.store import Store
from alpr_lib.timeutil import iso, utc_now

__all__ = ["init_store"]


def init_store(path: str | os.PathLike, *, admin_username: str, admin_password: str, full_name: str,
               title: str, organisation: str, kind: str = "operational", name: str | None = None,
               synthetic: bool = False, records_url: str | None = None,
               settings: Mapping[str, Any] | None = None) -> Store:
    """Create an empty store with one administrator, whose password must be changed at first login
    unless the store is synthetic (demo stores print ready-to-use credentials). ``settings`` are the
    department's first settings; the store.init audit record lists them."""
    store = Store.create(path, kind=kind, name=name, synthetic=synthetic, records_url=records_url,
                         settings=settings)
    users.create_user(store.db, store.config, username=admin_username, full_name=full_name, title=title,
                      organisation=organisation, roles=["administrator"], password=admin_password,
                      created_by="alpr init", must_change_password=not synthetic)
    users.designate(store.db, "alpr_administrator", admin_username, title, "alpr init")
    store.audit.append(AuditRecord(
        time=iso(utc_now()), username=admin_username, organisation=organisation, action="store.init",
        query={"store_id": store.store_id, "kind": kind, "name": store.name, "settings": dict(settings or {})},
        client="cli",
        store_kind=kind))
    return store
