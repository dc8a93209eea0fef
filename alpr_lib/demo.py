"""Building a demo store: synthetic Milpitas data loaded through the same audited API users have.

Every step (creating users, certifying them, ingesting reads) goes through a :class:`Session`, so the demo
store's audit log looks like a real one and the demo exercises the real code paths.
"""

from __future__ import annotations

import os
import secrets
import string
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from tqdm.auto import tqdm

from alpr_lib.bootstrap import init_store
from alpr_lib.hotlists.demo import add_demo_hotlists
from alpr_lib.login import login
from alpr_lib.review.demo import plant_misuse
from alpr_lib.timeutil import utc_now

__all__ = ["DEMO_USERS", "DemoResult", "DemoUser", "build_demo_store"]

ORG = "Milpitas Police Department"
DEMO_START = date(2025, 12, 1)  # the planted scenarios (June 2026 and others) fall inside the demo year
#: Reads generated and ingested at a time (the default demo is one batch; ``--reads 100_000_000`` is 50).
DEMO_BATCH_ROWS = 2_000_000


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    title: str
    roles: tuple[str, ...]
    certified: bool
    password: str = ""


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Lt. Alex Morgan", "ALPR Administrator, Technical Services Division", ("administrator",), True),
    DemoUser("analyst", "Dana Reyes", "Crime Analyst", ("analyst",), True),
    DemoUser("supervisor", "Sgt. Lee Park", "Patrol Sergeant", ("supervisor",), True),
    DemoUser("auditor", "Morgan Hale", "Professional Standards Auditor", ("auditor",), True),
    DemoUser("trainer", "Sgt. Casey Ortiz", "Training Sergeant", ("trainer",), True),
    DemoUser("command", "Cmdr. Jordan Blake", "Technical Services Division Commander", ("command_staff",), True),
    DemoUser("operator", "Ofc. Sam Nguyen", "Patrol Officer, ALPR operator", ("operator",), True),
    DemoUser("trainee", "Ofc. Riley Chen", "Police Officer Trainee", ("analyst",), False),
)
SERVICE_USER = DemoUser("ingest-svc", "Camera ingest service", "Service account", ("service",), False)


@dataclass(frozen=True)
class DemoResult:
    banner: str
    users: tuple[DemoUser, ...]
    reads_ingested: int


def _password() -> str:
    """A fresh random password that meets the default rules (letters, digits, 16 characters)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(14)) + "-" + secrets.choice(string.digits)
        if any(c.isalpha() for c in candidate) and sum(c.isdigit() for c in candidate) >= 2:
            return candidate


def build_demo_store(path: str | os.PathLike, *, n_reads: int = 300_000, seed: int = 462,
                     kind: str = "operational", progress: bool = False,
                     records_url: str | None = None, settings: dict[str, Any] | None = None) -> DemoResult:
    """Create the store, its users and a year of synthetic reads; returns the users with passwords."""
    from alpr_lib import samples  # heavy numpy work only when a demo is built

    passwords = {u.username: _password() for u in (*DEMO_USERS, SERVICE_USER)}
    admin = DEMO_USERS[0]
    store = init_store(path, admin_username=admin.username, admin_password=passwords["admin"],
                       full_name=admin.full_name, title=admin.title, organisation=ORG, kind=kind,
                       name="Milpitas demo", synthetic=True, records_url=records_url,
                       settings=settings)
    banner = store.banner()
    store.close()
    admin_session = login(admin.username, passwords["admin"], path, client="cli")
    for user in (*DEMO_USERS[1:], SERVICE_USER):
        service = user is SERVICE_USER
        admin_session.add_user(user.username, full_name=user.full_name, title=user.title, organisation=ORG,
                               roles=list(user.roles), password=passwords[user.username],
                               member_type="service" if service else "member", must_change_password=False)
    admin_session.designate("alpr_administrator_designee", "command", title=DEMO_USERS[5].title)
    admin_session.designate("training_sergeant", "trainer", title=DEMO_USERS[4].title)
    admin_session.designate("administration_division_commander", "command", title=DEMO_USERS[5].title)
    admin_session.certify("trainer")  # the administrator certifies the trainer, who certifies everyone else
    trainer = login("trainer", passwords["trainer"], path, client="cli")
    for user in DEMO_USERS:
        if user.certified and user.username != "trainer":
            trainer.certify(user.username)
    add_demo_hotlists(path, passwords, seed=seed)  # issue 12: lists before reads, so reads raise alerts
    ingest = login(SERVICE_USER.username, passwords[SERVICE_USER.username], path, client="service")
    ingest.register_cameras(samples.cameras(seed))
    total = 0
    # a year of data ending today at the latest: a store never holds reads from the future
    days = max(1, min(365, (utc_now().date() - DEMO_START).days))
    chunks = samples.iter_reads(seed=seed, n_reads=n_reads, start=DEMO_START, days=days, chunk_rows=DEMO_BATCH_ROWS)
    batches = 0
    with tqdm(total=n_reads, desc="demo reads", unit="read", disable=not progress) as bar:
        for batches, chunk in enumerate(chunks, start=1):
            report = ingest.ingest_reads(chunk, source_name=f"demo seed {seed} chunk {batches}", progress=False)
            total += report.ingested
            bar.update(chunk.height)
    if batches > 1:  # a bulk load ends with compaction, as the README says (searches open every file)
        ingest.compact_store(progress=progress)
    analyst = login("analyst", passwords["analyst"], path, client="cli")
    recorded = samples.incidents(seed).filter(pl.col("occurred_end") <= utc_now())  # none from the future
    for incident in recorded.iter_rows(named=True):  # the analysts' incident records
        analyst.create_incident(
            incident["case_number"], incident["offense_type"], incident["occurred_start"],
            occurred_end=incident["occurred_end"],
            **({"polygon_wkt": incident["polygon_wkt"]} if incident["polygon_wkt"]
               else {"lat": incident["lat"], "lon": incident["lon"]}),
            location_name=incident["location_name"],
            summary=incident["summary"], exist_ok=True)
    trainer.training.build_sandbox(progress=progress)  # the training sandbox, <store>/training (issue 15)
    plant_misuse(path, passwords, organisation=ORG)  # issue 14: something for every audit-review flag
    for session in (analyst, ingest, trainer, admin_session):
        session.logout()
    users = tuple(DemoUser(u.username, u.full_name, u.title, u.roles, u.certified, passwords[u.username])
                  for u in DEMO_USERS)
    return DemoResult(banner, users, total)
