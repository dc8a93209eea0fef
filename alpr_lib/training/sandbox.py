"""The training sandbox: a store of kind ``training`` with synthetic reads and the planted scenarios.

Where it lives: ``<operational store>/training/``, so a training notebook finds it from ``ALPR_STORE`` (the
operational store) alone. Its ``store.toml`` names the operational store as ``accounts_store``: logins there
authenticate against the department's accounts, and the attempts and certificates a trainee earns are
written to the department's records; its reads, manifest, sessions and audit log are its own (in its own
SQLite file, whatever records database the operational store uses), and every record in that audit log says
``store_kind = "training"``. Reads never cross: the sandbox's Parquet files are stamped ``training`` and an
operational ingest refuses them (and the reverse).

Building it is one audited action on the operational store (``s.training.build_sandbox()``, trainers and
administrators); the sandbox's own audit log records the build and the ingest of its reads.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from alpr_lib.audit.events import AuditRecord
from alpr_lib.errors import StoreError, ValidationError
from alpr_lib.store.store import Store, resolve_store_path, store_kind
from alpr_lib.timeutil import iso, utc_now

__all__ = ["SANDBOX_DIR", "SANDBOX_READS", "SANDBOX_START", "build_sandbox", "sandbox_login", "sandbox_path"]

SANDBOX_DIR = "training"
#: synthetic reads in a sandbox (besides the planted scenarios, which are always there): small and quick
SANDBOX_READS = 20_000
#: the planted scenarios fall between this day and November 2026
SANDBOX_START = date(2025, 12, 1)


def sandbox_path(store: str | os.PathLike | None = None) -> Path:
    """The sandbox of the operational store ``store`` (default ``ALPR_STORE``); a training store is its own."""
    path = resolve_store_path(store)
    # not a store (yet): None, and Store.open says so when the sandbox is opened
    return path if store_kind(path) == "training" else path / SANDBOX_DIR


def sandbox_login(store: str | os.PathLike | None = None, username: str | None = None,
                  password: str | None = None, **kwargs: Any) -> Any:
    """Log in to the training sandbox of ``store`` (default ``ALPR_STORE``, the operational store) with the
    department account (``ALPR_USER``/``ALPR_PASSWORD_FILE`` headless, else a prompt)."""
    from alpr_lib.login import login

    target = sandbox_path(store)
    if not (target / "store.toml").exists():
        raise StoreError(f"there is no training sandbox at {target}; ask a trainer to build it "
                         f"(`alpr training sandbox --store {target.parent}`)")
    return login(username, password, target, **kwargs)


def _audit(sandbox: Store, username: str, organisation: str, action: str, query: dict, count: int | None,
           client: str) -> AuditRecord:
    return AuditRecord(time=iso(utc_now()), username=username, organisation=organisation, action=action,
                       query=query, result_count=count, client=client, outcome="allowed", store_kind="training")


def build_sandbox(store: Store, *, username: str, organisation: str, client: str, seed: int,
                  n_reads: int = SANDBOX_READS, replace: bool = False, progress: bool = False) -> dict[str, Any]:
    """Create (or with ``replace`` rebuild) the sandbox of the operational ``store``; returns a summary."""
    from alpr_lib import samples
    from alpr_lib.analysis.incidents import insert_incident, make_incident
    from alpr_lib.store import cameras as camera_registry
    from alpr_lib.store.ingest import ingest_frame, load_batch

    if store.kind != "operational":
        raise StoreError("a training sandbox belongs to an operational store; this store is itself a "
                         f"{store.kind} store")
    target = store.training_path
    if (target / "store.toml").exists():
        if not replace:
            raise ValidationError(f"a training sandbox already exists at {target}; pass replace=True "
                                  "(--replace) to rebuild it (trainees' attempts and certificates are kept: they "
                                  "live with the department's records)")
        shutil.rmtree(target)
    elif target.exists():
        raise StoreError(f"{target} exists but is not a training store; move it away first")
    sandbox = Store.create(target, kind="training", name=f"{store.name} training sandbox", synthetic=True,
                           accounts_store="..")
    try:
        now = utc_now()
        sandbox.audit.append(_audit(sandbox, username, organisation, "training.sandbox",
                                    {"operational_store_id": store.store_id, "seed": seed, "reads": n_reads},
                                    None, client))
        cameras = samples.cameras(seed)
        camera_registry.upsert(sandbox.db, cameras)
        days = max(1, min(365, (now.date() - SANDBOX_START).days))
        total = 0
        for k, chunk in enumerate(samples.iter_reads(seed=seed, n_reads=n_reads, start=SANDBOX_START, days=days,
                                                     chunk_rows=max(n_reads, 1)), start=1):
            frame, _name, digest = load_batch(chunk, expected_kind="training")
            name = f"training sandbox seed {seed} chunk {k}"

            def record(tx: Any, pending: Any, name: str = name) -> None:
                sandbox.audit.append_in(tx, _audit(
                    sandbox, username, organisation, "reads.ingest",
                    {"source": name, "batch_id": pending.batch_id, "rows_in": pending.rows_in}, pending.ingested,
                    client))

            report = ingest_frame(sandbox, frame, username=username, source_name=name, content_sha256=digest,
                                  progress=progress, on_commit=record)
            total += report.ingested
        incidents = samples.incidents(seed)
        recorded = 0
        for row in incidents.iter_rows(named=True):
            if row["occurred_end"] > now:
                continue
            insert_incident(sandbox.db, make_incident(
                case_number=row["case_number"], offense_type=row["offense_type"], occurred_at=row["occurred_start"],
                occurred_end=row["occurred_end"], lat=None if row["polygon_wkt"] else row["lat"],
                lon=None if row["polygon_wkt"] else row["lon"], polygon_wkt=row["polygon_wkt"],
                location_name=row["location_name"], summary=row["summary"], zone=sandbox.config.zone,
                created_by=username, now=now))
            recorded += 1
        return {"sandbox": str(target), "store_id": sandbox.store_id, "reads": total, "cameras": cameras.height,
                "incidents": recorded, "seed": seed, "banner": sandbox.banner()}
    finally:
        sandbox.close()
