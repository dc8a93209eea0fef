"""The department_settings table: the department's configuration, one JSON value per setting.

Changed only through the audited ``admin.set_setting`` action, which records the old and the new value.
"""

from __future__ import annotations

import json
from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["get_all", "put"]


def get_all(db: Backend) -> dict[str, Any]:
    return {r["name"]: json.loads(r["value"]) for r in db.query("SELECT name, value FROM department_settings")}


def put(db: Backend, name: str, value: Any, changed_at: str, changed_by: str) -> None:
    db.execute("INSERT INTO department_settings(name, value, changed_at, changed_by) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at, "
               "changed_by = excluded.changed_by", (name, json.dumps(value, sort_keys=True), changed_at, changed_by))
