"""The evidence_packages and evidence_custody tables: every package written to portable media (policy 462.4:
held data is downloaded and booked into evidence) and its chain of custody, the export and each later
transfer. The package carries the same entries; ``alpr evidence verify`` compares them."""

from __future__ import annotations

from typing import Any

from alpr_lib.records.backend import Backend

__all__ = ["CUSTODY_COLUMNS", "PACKAGE_COLUMNS", "add_custody", "add_package", "all_packages", "custody",
           "get_package"]

PACKAGE_COLUMNS = ("package_id", "case_number", "item", "reason", "exported_by", "exported_at", "reads", "images",
                   "encrypted", "manifest_sha256", "hold_id", "release_id", "location")
CUSTODY_COLUMNS = ("package_id", "entry", "event", "from_person", "to_person", "recorded_by", "recorded_at", "note",
                   "entry_sha256")


def add_package(db: Backend, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO evidence_packages({', '.join(PACKAGE_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(PACKAGE_COLUMNS))})", tuple(row.get(c) for c in PACKAGE_COLUMNS))


def get_package(db: Backend, package_id: str) -> dict[str, Any] | None:
    rows = db.query(f"SELECT {', '.join(PACKAGE_COLUMNS)} FROM evidence_packages WHERE package_id = ?",
                    (package_id,))
    return rows[0] if rows else None


def all_packages(db: Backend) -> list[dict[str, Any]]:
    return db.query(f"SELECT {', '.join(PACKAGE_COLUMNS)} FROM evidence_packages ORDER BY exported_at, package_id")


def add_custody(db: Backend, row: dict[str, Any]) -> None:
    db.execute(f"INSERT INTO evidence_custody({', '.join(CUSTODY_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(CUSTODY_COLUMNS))})", tuple(row.get(c) for c in CUSTODY_COLUMNS))


def custody(db: Backend, package_id: str) -> list[dict[str, Any]]:
    return db.query(f"SELECT {', '.join(CUSTODY_COLUMNS)} FROM evidence_custody WHERE package_id = ? ORDER BY entry",
                    (package_id,))
