"""The access rules every data access passes, in the order they are checked.

Called by the door (:mod:`alpr_lib.access.door`) only, so the rules read as one list: role permission (462.2.1(a)),
current training on an operational store (462.3(d)), an authorised purpose (462.3(a), 462.5(b)) and a case
number where the purpose needs one. Each failure raises :class:`AccessDenied` with the reason and the fix.
"""

from __future__ import annotations

import re
from datetime import datetime

from alpr_lib.auth.certifications import current_certification
from alpr_lib.auth.roles import PERMISSIONS, SERVICE_PERMISSIONS
from alpr_lib.auth.users import User
from alpr_lib.config import Config
from alpr_lib.errors import AccessDenied
from alpr_lib.records import Backend
from alpr_lib.records import certifications as cert_rows

__all__ = ["check_case_number", "check_permission", "check_purpose", "check_training"]


def check_permission(user: User, permission: str) -> None:
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")
    if user.is_service and permission not in SERVICE_PERMISSIONS:
        raise AccessDenied(f"{user.username} is a service account: it may ingest reads, never search or view")
    if permission not in user.permissions:
        raise AccessDenied(
            f"{user.username} ({', '.join(user.roles)}) may not {PERMISSIONS[permission]}; "
            "ask the ALPR administrator if your duties need it"
        )


def check_training(db: Backend, user: User, store_kind: str, now: datetime) -> None:
    """462.3(d): no access to operational ALPR data without current department-approved training."""
    if store_kind == "training" or user.is_service:
        return
    if current_certification(db, user.username, now) is None:
        last = cert_rows.latest_expiry(db, user.username)
        why = (f"your ALPR training certification expired on {last[:10]}" if last
               else "you have no ALPR training certification on record")
        raise AccessDenied(
            f"{why}. Policy 462.3(d) forbids access to ALPR data without current department-approved "
            "training; ask the Training Sergeant to certify you (alpr users certify)."
        )


def check_purpose(config: Config, purpose: str | None) -> str:
    """462.3(a), 462.5(b): only an authorised law-enforcement purpose; returns its canonical name."""
    names = [p.name for p in config.purposes]
    if purpose is None or not str(purpose).strip():
        raise AccessDenied(f"state the purpose of this access (policy 462.5(b)); one of: {names}")
    found = config.purpose(str(purpose))
    if found is None:
        raise AccessDenied(f"{purpose!r} is not an authorised ALPR purpose (policy 462.3(a)); one of: {names}")
    return found.name


def check_case_number(config: Config, purpose: str, case_number: str | None) -> str | None:
    found = config.purpose(purpose)
    if case_number is not None:
        case_number = str(case_number).strip() or None
    if found is not None and found.requires_case and case_number is None:
        raise AccessDenied(f"the purpose {purpose!r} requires a case number (format like 24-001234)")
    # re.ASCII: \d must mean 0-9 only, never other scripts' digits (２４-００１２３４ is not a case number)
    if case_number is not None and not re.fullmatch(config.case_number_pattern, case_number, flags=re.ASCII):
        raise AccessDenied(
            f"case number {case_number!r} does not match the department format {config.case_number_pattern} "
            "(for example 24-001234)"
        )
    return case_number
