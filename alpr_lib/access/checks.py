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
    """462.3(a), 462.5(b): only an authorised law-enforcement purpose; returns its canonical name.

    The refusal lists the purposes as words a person reads (not a Python list), so a form or notebook can show it
    as it is."""
    if purpose is None or not str(purpose).strip():
        raise AccessDenied(f"state the purpose of this access (policy 462.5(b)): {_purpose_list(config)}")
    found = config.purpose(str(purpose))
    if found is None:
        raise AccessDenied(f"{purpose!r} is not an authorised ALPR purpose (policy 462.3(a)); choose one of: "
                           f"{_purpose_list(config)}")
    return found.name


def check_case_number(config: Config, purpose: str, case_number: str | None) -> str | None:
    """A case number where the purpose needs one, in the department's format; refusals show an example of that
    format (``26-004512``), not its regular expression."""
    found = config.purpose(purpose)
    if case_number is not None:
        case_number = str(case_number).strip() or None
    example = _case_example(config)
    like = f"for example {example}" if example else f"in the department's format ({config.case_number_pattern})"
    if found is not None and found.requires_case and case_number is None:
        raise AccessDenied(f"the purpose {purpose!r} requires a case number, {like}")
    # re.ASCII: \d must mean 0-9 only, never other scripts' digits (２４-００１２３４ is not a case number)
    if case_number is not None and not re.fullmatch(config.case_number_pattern, case_number, flags=re.ASCII):
        shown = f"for example {example}" if example else f"the pattern {config.case_number_pattern}"
        raise AccessDenied(f"case number {case_number!r} does not match the department format ({shown})")
    return case_number


def _purpose_list(config: Config) -> str:
    """The purposes as one phrase: "stolen plates, missing persons, ..., criminal investigation (needs a case
    number), or civil or administrative action"."""
    names = [f"{p.name} (needs a case number)" if p.requires_case else p.name for p in config.purposes]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])}, or {names[-1]}"


#: digits an example case number is made of (after the two-digit year): clearly a sample, valid in any format
_SAMPLE_DIGITS = "004512"
_QUANTIFIER = r"(?:\{(?P<low%s>\d+)(?:,\d*)?\}|(?P<plus%s>\+))?"
_TOKEN = re.compile(r"(?P<digits>\\d)" + _QUANTIFIER % (1, 1) + r"|\[(?P<klass>[^\]]+)\]" + _QUANTIFIER % (2, 2)
                    + r"|\\(?P<escaped>[^A-Za-z0-9])|(?P<literal>[A-Za-z0-9 _/#:-])|[$^]")


def _case_example(config: Config) -> str | None:
    """An example case number in the configured format, or None when the pattern is beyond this small reader.

    Understands what case formats are made of (literals, ``\\d{n}``, ``\\d+``, ``[A-Z]{n}``, anchors): the default
    ``^\\d{2}-\\d{6}$`` gives this year's ``26-004512``. The example is checked against the pattern."""
    pattern = config.case_number_pattern
    year = f"{datetime.now(config.zone).year % 100:02d}"
    parts: list[str] = []
    digit_groups = 0
    pos = 0
    while pos < len(pattern):
        token = _TOKEN.match(pattern, pos)
        if token is None:
            return None
        pos = token.end()
        text = token.group("escaped") or token.group("literal")
        klass = token.group("klass")
        if text:
            parts.append(text)
            continue
        if not (token.group("digits") or klass):
            continue  # an anchor
        more = token.group("plus1") or token.group("plus2")  # "one or more": a full-looking sample
        count = len(_SAMPLE_DIGITS) if more else max(int(token.group("low1") or token.group("low2") or 1), 1)
        if klass and not klass[0].isdigit():
            if klass[0] in "^\\":
                return None
            parts.append(klass[0] * count)
            continue
        digit_groups += 1
        parts.append(year if digit_groups == 1 and count == 2 else _SAMPLE_DIGITS.rjust(count, "0")[-count:])
    example = "".join(parts)
    return example if re.fullmatch(pattern, example, flags=re.ASCII) else None
