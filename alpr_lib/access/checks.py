"""The access rules every data access passes, in the order they are checked.

Called by the door (:mod:`alpr_lib.access.door`) only, so the rules read as one list: role permission (462.2.1(a)),
current training on an operational store (462.3(d)), an authorised purpose (462.3(a), 462.5(b)) and a case
number where the purpose needs one. Each failure raises :class:`AccessDenied` with the reason and the fix.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from alpr_lib.auth.certifications import certificate_state
from alpr_lib.auth.roles import PERMISSIONS, SERVICE_PERMISSIONS
from alpr_lib.auth.users import User
from alpr_lib.config import Config
from alpr_lib.errors import AccessDenied, ValidationError
from alpr_lib.records import Backend

__all__ = ["check_case_number", "check_note", "check_note_text", "check_permission", "check_purpose",
           "check_training", "split_note"]

#: the longest access note kept (a sentence or two; the audit record is not a case file)
MAX_NOTE = 2_000


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
    """462.3(d): no access to operational ALPR data without current department-approved training: a
    certificate that is current, not expired and not revoked. ``db`` holds the department's accounts and
    certifications. The refusal says why and what to do."""
    if store_kind == "training" or user.is_service:
        return
    state = certificate_state(db, user.username, now)
    if state.opens_access:
        return
    row = state.row or {}
    course = ("complete the department's ALPR course in the training sandbox (notebooks/training/; "
              "`alpr training status` shows your progress) and ask the Training Sergeant to sign you off")
    if state.status == "revoked":
        why = (f"your ALPR training certificate was revoked on {str(row['revoked_at'])[:10]} by "
               f"{row['revoked_by']} ({row['revoked_reason']})")
        fix = f"{course} again"
    elif state.status == "expired":
        why = f"your ALPR training certification expired on {str(row['expires_at'])[:10]}"
        fix = f"take refresher training: {course}"
    else:
        why = "you have no ALPR training certification on record"
        fix = f"{course} (training taken elsewhere is recorded by a trainer: alpr users certify)"
    raise AccessDenied(f"{why}. Policy 462.3(d) forbids access to ALPR data without current department-approved "
                       f"training; {fix}.")


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


def split_note(spec: Any, kwargs: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The call's keywords without ``note`` and the note (None if not given), for an action with a purpose whose
    request does not declare a ``note`` of its own: the door takes the note for every data access, so an action
    added later accepts it too."""
    if not spec.needs_purpose or "note" in {f.name for f in spec.fields} or "note" not in kwargs:
        return kwargs, None
    rest = dict(kwargs)
    return rest, rest.pop("note")


def check_note_text(note: Any) -> str | None:
    """The note as stored: text without surrounding blanks, None when not given; anything else is refused."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise ValidationError(f"note must be text saying what this access is for, not {type(note).__name__}")
    if "\x00" in note:
        raise ValidationError("note contains a NUL character (\\x00); remove it")
    if len(note) > MAX_NOTE:
        raise ValidationError(f"note is {len(note):,} characters long; keep it under {MAX_NOTE:,} (a sentence or "
                              "two saying what this access is for; details belong in the case file)")
    return note.strip()


def check_note(config: Config, purpose: str, note: str | None) -> None:
    """A note where the department requires one for this purpose (setting ``notes_required_for``)."""
    required = config.notes_required_for
    if note or not required:
        return
    if "*" in required or purpose in required:
        raise AccessDenied(f"the department requires a note for {purpose!r} accesses: say what this one is for, "
                           "e.g. note='white sedan seen leaving the shooting' (--note in the CLI)")


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
