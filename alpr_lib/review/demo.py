"""Planted misuse for the demo store, so every audit-review flag has something to show (issue 14).

Every planted access goes through the real door as a demo user; to place them in the past the door runs under
:func:`alpr_lib.access.door.synthetic_clock`, which a store holding real data refuses, and each record made
that way says ``synthetic_clock: true``. What is planted, relative to the day the demo is built:

- ``analyst`` looks up plate 8DPR224 six times in two weeks without a case number, noting only "checking"
  (repeated_plate, generic_note);
- ``analyst`` runs 35 searches in seven minutes at 02:20 at night, noting "investigation" (burst, after_hours);
- ``analyst`` notes "...near the immigration protest..." on a search (sensitive_term);
- ``analyst`` searches ``*R224``, a pattern beginning with a wildcard (broad_query);
- ``supervisor`` runs a history under case 26-999999, which no incident carries (bad_case_number);
- ``trainee``, not yet certified, tries three searches (denied_attempts);
- ``pdoyle``, a transferred officer's account created 140 days ago, never logs in and keeps access
  (dormant_account).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alpr_lib.access.door import synthetic_clock
from alpr_lib.errors import AccessDenied
from alpr_lib.login import login
from alpr_lib.timeutil import utc_now

__all__ = ["REPEATED_PLATE", "plant_misuse"]

REPEATED_PLATE = "8DPR224"
DORMANT_USER = "pdoyle"


class _Clock:
    """A synthetic clock the planting moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _local(day: datetime, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    local = day.astimezone(zone)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)


def plant_misuse(path: str | os.PathLike, passwords: Mapping[str, str], *, organisation: str,
                 timezone: str = "America/Los_Angeles") -> None:
    """Plant the misuse listed in the module docstring into the demo store at ``path``."""
    zone = ZoneInfo(timezone)
    now = utc_now()
    admin = login("admin", passwords["admin"], path, client="cli")
    with synthetic_clock(admin, _Clock(now - timedelta(days=140))):
        admin.add_user(DORMANT_USER, full_name="Ofc. Pat Doyle", title="Patrol Officer (transferred to another "
                       "agency)", organisation=organisation, roles=["analyst"], password=passwords["admin"] + "x",
                       must_change_password=False)
    trainer = login("trainer", passwords["trainer"], path, client="cli")
    for name in ("analyst", "supervisor"):  # their training, completed before the planted accesses
        trainer.certify(name, completed_at=now - timedelta(days=60))
    analyst = login("analyst", passwords["analyst"], path, client="notebook")
    clock = _Clock(now)
    with synthetic_clock(analyst, clock):
        for k, days_ago in enumerate((20, 17, 15, 12, 9, 8)):
            clock.at = _local(now - timedelta(days=days_ago), 14, 5 + k, zone)
            analyst.plate_history(REPEATED_PLATE, purpose="stolen or wanted vehicles", note="checking")
        night = _local(now - timedelta(days=11), 2, 20, zone)
        for k in range(35):
            clock.at = night + timedelta(seconds=12 * k)
            analyst.search_plates(f"7{'ABCDEFGHJK'[k % 10]}B*", purpose="stolen or wanted vehicles",
                                  note="investigation")
        clock.at = _local(now - timedelta(days=6), 10, 15, zone)
        analyst.search_plates("6TR*", purpose="suspect interdiction",
                              note="white SUV seen near the immigration protest downtown")
        clock.at = _local(now - timedelta(days=5), 11, 0, zone)
        analyst.search_plates("*R224", purpose="stolen or wanted vehicles",
                              note="partial plate from a hit-and-run witness on Calaveras Blvd")
    supervisor = login("supervisor", passwords["supervisor"], path, client="cli")
    clock = _Clock(_local(now - timedelta(days=4), 9, 30, zone))
    with synthetic_clock(supervisor, clock):
        supervisor.plate_history(REPEATED_PLATE, purpose="criminal investigation", case_number="26-999999",
                                 note="follow-up on an anonymous tip about the driver")
    trainee = login("trainee", passwords["trainee"], path, client="notebook")
    for pattern in ("7AB*", "8DP*", "5KL*"):  # not yet certified: each refusal is audited, which is the point
        with suppress(AccessDenied):
            trainee.search_plates(pattern, purpose="stolen plates", note="practice")
    for session in (trainee, supervisor, analyst, trainer, admin):
        session.logout()
