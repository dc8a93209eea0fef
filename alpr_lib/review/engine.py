"""The audit-review rules: each a pure function over audit entries and its published parameters.

``RULES[rule_id](data, params)`` returns that rule's flags, each naming the user, the audit records (sequence
numbers) and why, in words. :func:`run_rules` runs every enabled rule of a :class:`RuleSet`. The rules read the
log only: a flag whose cause another control now prevents (a dormant account, a disabled user's session) still
fires on a log that shows it, whatever that control's setting.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from alpr_lib.review.model import Entry, Flag, ReviewInput
from alpr_lib.review.rules import RuleSet

__all__ = ["RULES", "queried_plate", "run_rules", "touches_plate"]

_SEPARATORS = re.compile(r"[\s\-·.]")


def _normal_plate(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    normal = _SEPARATORS.sub("", text).upper()
    return normal if 2 <= len(normal) <= 10 and normal.isascii() and normal.isalnum() else None


def queried_plate(entry: Entry) -> str | None:
    """The one full plate an access asked about (a history, a convoy, a search without wildcards), or None."""
    for key in ("plate", "plate_pattern"):
        plate = _normal_plate(entry.query.get(key))
        if plate:
            return plate
    return None


def touches_plate(entry: Entry, plate: str) -> str | None:
    """How ``entry`` concerns ``plate``: "queried", "pattern" (a partial pattern that matches it), "returned",
    or None. For the reverse lookup: who looked up plate X."""
    if queried_plate(entry) == plate:
        return "queried"
    returned = entry.query.get("plates_returned")
    pattern = entry.query.get("plate_pattern")
    if isinstance(pattern, str) and any(c in pattern for c in "?*["):
        from alpr_lib.errors import ValidationError
        from alpr_lib.search.patterns import parse_pattern

        try:
            if re.fullmatch(parse_pattern(pattern).regex(confusions=not entry.query.get("exact")), plate):
                return "pattern"
        except (ValidationError, re.error):
            pass
    if isinstance(returned, list) and plate in returned:
        return "returned"
    return None


def _by_user(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        out[e.username].append(e)
    return out


def _seqs(entries: Iterable[Entry]) -> tuple[int, ...]:
    return tuple(sorted({e.seq for e in entries}))


def _local(moment: datetime, data: ReviewInput) -> datetime:
    return moment.astimezone(data.zone)


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}es" if word.endswith(("s", "sh", "ch")) else f"{n} {word}s"


# ------------------------------------------------------------------------------------------------ the rules
def generic_note(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    generic = {str(g).strip().lower() for g in p["generic"]}
    flags = []
    for user, entries in _by_user(data.data_accesses()).items():
        missing = [e for e in entries if not (e.note or "").strip()]
        vague = [e for e in entries if (e.note or "").strip() and (
            e.note.strip().strip(".!?").lower() in generic or len(e.note.strip()) < int(p["min_length"]))]
        hits = (missing if p["flag_missing"] else []) + vague
        if not hits:
            continue
        words = sorted({e.note.strip() for e in vague})
        parts = []
        if p["flag_missing"] and missing:
            parts.append(f"{len(missing)} had no note")
        if vague:
            parts.append(f"{len(vague)} only a generic one ({', '.join(repr(w) for w in words[:5])})")
        flags.append(Flag("generic_note", user, _seqs(hits),
                          f"{user}: of {_plural(len(entries), 'data access')}, {' and '.join(parts)}; nobody can "
                          "tell afterwards what these accesses were for.",
                          {"missing": len(missing), "generic": len(vague), "accesses": len(entries)}))
    return flags


def bad_case_number(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    flags = []
    for user, entries in _by_user(e for e in data.data_accesses() if e.case_number).items():
        bad_format = [e for e in entries if not re.fullmatch(data.case_pattern, str(e.case_number), flags=re.ASCII)]
        bad = {e.seq for e in bad_format}
        unknown = [e for e in entries if e.seq not in bad and p["require_incident"]
                   and e.case_number not in data.incident_cases]
        if not (bad_format or unknown):
            continue
        parts = []
        if bad_format:
            parts.append(f"{len(bad_format)} with a case number not in the department's format "
                         f"({', '.join(sorted({str(e.case_number) for e in bad_format})[:5])})")
        if unknown:
            parts.append(f"{len(unknown)} under case numbers no recorded incident carries "
                         f"({', '.join(sorted({str(e.case_number) for e in unknown})[:5])})")
        flags.append(Flag("bad_case_number", user, _seqs(bad_format + unknown),
                          f"{user}: {' and '.join(parts)}.",
                          {"bad_format": sorted({str(e.case_number) for e in bad_format}),
                           "no_incident": sorted({str(e.case_number) for e in unknown})}))
    return flags


def _usual_hours(history: list[Entry], data: ReviewInput, p: Mapping[str, Any]) -> set[int] | None:
    since = data.start - timedelta(days=float(p["history_days"]))
    past = [e for e in history if since <= e.time < data.start]
    if len(past) < int(p["min_history"]):
        return None
    counts: dict[int, int] = defaultdict(int)
    for e in past:
        counts[_local(e.time, data).hour] += 1
    return {h for h, n in counts.items() if n / len(past) >= float(p["usual_share"])}


def after_hours(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    start_hour, end_hour = int(p["start_hour"]), int(p["end_hour"])
    history = _by_user(e for e in data.history if e.action in data.data_actions and e.outcome == "allowed")
    flags = []
    for user, entries in _by_user(data.data_accesses()).items():
        usual = _usual_hours(history.get(user, []), data, p)
        if usual is None:
            outside = [e for e in entries if not start_hour <= _local(e.time, data).hour < end_hour]
            why = f"outside the department's hours ({start_hour:02d}:00-{end_hour:02d}:00 {data.zone.key})"
        else:
            outside = [e for e in entries if _local(e.time, data).hour not in usual]
            why = (f"outside the hours {user} usually works (hours {', '.join(f'{h:02d}' for h in sorted(usual))}, "
                   f"from {p['history_days']} days of history)")
        if not outside:
            continue
        times = sorted({_local(e.time, data).strftime("%Y-%m-%d %H:%M") for e in outside})
        flags.append(Flag("after_hours", user, _seqs(outside),
                          f"{user}: {_plural(len(outside), 'data access')} {why}, e.g. {', '.join(times[:3])}.",
                          {"personal_hours": sorted(usual) if usual is not None else None}))
    return flags


def repeated_plate(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    window = timedelta(days=float(p["window_days"]))
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for e in data.data_accesses():
        plate = queried_plate(e)
        if plate:
            groups[(e.username, plate)].append(e)
    flags = []
    for (user, plate), entries in sorted(groups.items()):
        entries.sort(key=lambda e: e.time)
        uncased = [e for e in entries if not e.case_number]
        best: list[Entry] = []
        lo = 0
        for hi in range(len(uncased)):  # the most lookups without a case inside any window_days
            while uncased[hi].time - uncased[lo].time > window:
                lo += 1
            if hi - lo + 1 > len(best):
                best = uncased[lo:hi + 1]
        cases = sorted({str(e.case_number) for e in entries if e.case_number})
        if len(best) >= int(p["min_lookups"]):
            flags.append(Flag("repeated_plate", user, _seqs(best),
                              f"{user} looked up plate {plate} {len(best)} times within {p['window_days']} days "
                              f"without a case number (from {_local(best[0].time, data):%Y-%m-%d} to "
                              f"{_local(best[-1].time, data):%Y-%m-%d}).", {"plate": plate, "lookups": len(best)}))
        if len(cases) >= int(p["min_cases"]):
            cased = [e for e in entries if e.case_number]
            flags.append(Flag("repeated_plate", user, _seqs(cased),
                              f"{user} looked up plate {plate} under {len(cases)} different case numbers "
                              f"({', '.join(cases[:5])}).", {"plate": plate, "cases": cases}))
    return flags


def _broad_reasons(e: Entry, p: Mapping[str, Any]) -> list[str]:
    reasons = []
    pattern = e.query.get("plate_pattern")
    if p["leading_wildcard"] and isinstance(pattern, str) and pattern.strip().startswith("*"):
        reasons.append(f"pattern {pattern!r} begins with a wildcard")
    share = float(p["near_limit_share"])
    if e.query.get("over_limit"):
        reasons.append("canvass beyond the offense limit" + (" (approved)" if e.query.get("approval_id") else ""))
    else:
        for limit in e.query.get("limits") or []:
            if not isinstance(limit, dict):
                continue
            for asked, most, what in (("radius_m", "max_radius_m", "radius"), ("before_min", "max_before_min",
                                      "time before"), ("after_min", "max_after_min", "time after")):
                value, top = e.query.get(asked), limit.get(most)
                if isinstance(value, int | float) and isinstance(top, int | float) and top > 0 \
                        and value >= share * top:
                    reasons.append(f"canvass {what} {value:g} is at least {share:.0%} of the limit {top:g}")
            break
    if e.result_count is not None and e.result_count >= int(p["max_results"]):
        reasons.append(f"{e.result_count:,} results")
    return reasons


def broad_query(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    flags = []
    for user, entries in _by_user(data.data_accesses()).items():
        found = {e.seq: _broad_reasons(e, p) for e in entries}
        found = {seq: why for seq, why in found.items() if why}
        if not found:
            continue
        examples = "; ".join(f"record {seq}: {', '.join(why)}" for seq, why in list(found.items())[:3])
        flags.append(Flag("broad_query", user, tuple(sorted(found)),
                          f"{user}: {_plural(len(found), 'unusually broad query')} ({examples}).",
                          {"reasons": {str(k): v for k, v in found.items()}}))
    return flags


def burst(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    most, window = int(p["max_accesses"]), timedelta(minutes=float(p["window_minutes"]))
    flags = []
    for user, entries in _by_user(data.data_accesses()).items():
        entries.sort(key=lambda e: e.time)
        lo = 0
        bursts: list[list[Entry]] = []
        for hi in range(len(entries)):
            while entries[hi].time - entries[lo].time > window:
                lo += 1
            if hi - lo + 1 > most:
                run = entries[lo:hi + 1]
                if bursts and bursts[-1][-1].time >= run[0].time:  # one flag per continuous burst
                    merged = {e.seq: e for e in (*bursts[-1], *run)}
                    bursts[-1] = sorted(merged.values(), key=lambda e: (e.time, e.seq))
                else:
                    bursts.append(list(run))
        for run in bursts:
            flags.append(Flag("burst", user, _seqs(run),
                              f"{user}: {len(run)} data accesses between {_local(run[0].time, data):%Y-%m-%d %H:%M}"
                              f" and {_local(run[-1].time, data):%H:%M} (more than {most} in "
                              f"{p['window_minutes']} minutes).", {"accesses": len(run)}))
    return flags


def denied_attempts(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    flags = []
    for user, entries in _by_user(e for e in data.records if e.outcome == "denied").items():
        if len(entries) < int(p["min_denied"]):
            continue
        actions = sorted({e.action for e in entries})
        flags.append(Flag("denied_attempts", user, _seqs(entries),
                          f"{user}: {len(entries)} refused attempts ({', '.join(actions)}), e.g. "
                          f"{(entries[-1].reason or '')[:160]!r}.", {"denied": len(entries)}))
    return flags


def _target(e: Entry) -> str | None:
    """The account an administrator's action was about (users.add records it as target_user)."""
    for key in ("target_user", "username"):
        if isinstance(e.query.get(key), str):
            return e.query[key]
    return None


def dormant_account(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    dormant = timedelta(days=float(p["dormant_days"]))
    everything = [*data.history, *data.records]
    logins: dict[str, Entry] = {}
    created: dict[str, Entry] = {}
    for e in everything:
        if e.action == "login" and e.outcome == "allowed":
            if e.username not in logins or e.time > logins[e.username].time:
                logins[e.username] = e
        elif e.action == "users.add" and e.outcome == "allowed" and _target(e):
            created[_target(e)] = e  # type: ignore[index]
    flags = []
    for account in data.accounts:
        if account.disabled or not account.roles or (account.member_type == "service" and not p["include_service"]):
            continue
        last = logins.get(account.username)
        made = created.get(account.username)
        since = last.time if last else made.time if made else account.created_at
        if data.end - since <= dormant:
            continue
        evidence = last or made
        what = (f"last logged in on {_local(since, data):%Y-%m-%d}" if last
                else f"has never logged in since it was created on {_local(since, data):%Y-%m-%d}")
        flags.append(Flag("dormant_account", account.username, (evidence.seq,) if evidence else (),
                          f"{account.username} ({', '.join(account.roles)}) {what}, "
                          f"{(data.end - since).days} days before the end of the review, and still has access "
                          f"(more than {p['dormant_days']} days: disable it, or record why it stays).",
                          {"last_activity": since, "days": (data.end - since).days}))
    return flags


def disabled_user_session(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    everything = sorted([*data.history, *data.records], key=lambda e: e.seq)
    disabled_since: dict[str, Entry] = {}
    after: dict[str, list[Entry]] = defaultdict(list)
    in_period = {e.seq for e in data.records}
    for e in everything:
        target = _target(e)
        if e.outcome == "allowed" and e.action == "users.disable" and isinstance(target, str):
            disabled_since[target] = e
            continue
        if e.outcome == "allowed" and e.action == "users.enable" and isinstance(target, str):
            disabled_since.pop(target, None)
            continue
        if e.username in disabled_since and e.outcome == "allowed" and e.seq in in_period:
            after[e.username].append(e)
    flags = []
    for user, entries in sorted(after.items()):
        start = disabled_since[user]
        flags.append(Flag("disabled_user_session", user, (start.seq, *_seqs(entries)),
                          f"{user} was disabled on {_local(start.time, data):%Y-%m-%d %H:%M} (record {start.seq}) "
                          f"but {_plural(len(entries), 'access')} by that account were allowed after it "
                          f"({', '.join(sorted({e.action for e in entries}))}).", {"after_disable": len(entries)}))
    flagged = {f.username for f in flags}
    for account in data.accounts:
        sessions = data.open_sessions.get(account.username, ())
        if account.disabled and sessions and account.username not in flagged:
            start = disabled_since.get(account.username)
            flags.append(Flag("disabled_user_session", account.username, (start.seq,) if start else (),
                              f"{account.username} is disabled but still has {_plural(len(sessions), 'open session')}"
                              "; end them (alpr users disable ends a user's sessions).",
                              {"open_sessions": list(sessions)}))
    return flags


def _term_regex(terms: Iterable[str]) -> re.Pattern[str] | None:
    words = [t.strip() for t in terms if t and t.strip()]
    if not words:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in w.split()) for w in
                            sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def sensitive_term(data: ReviewInput, p: Mapping[str, Any]) -> list[Flag]:
    regex = _term_regex(p["terms"])
    if regex is None:
        return []
    flags = []
    for user, entries in _by_user(data.records).items():
        matched: dict[int, set[str]] = {}
        for e in entries:
            for name in p["fields"]:
                text = e.query.get(name)
                if isinstance(text, str):
                    found = {m.group(0).lower() for m in regex.finditer(text)}
                    if found:
                        matched.setdefault(e.seq, set()).update(found)
        if not matched:
            continue
        terms = sorted(set().union(*matched.values()))
        flags.append(Flag("sensitive_term", user, tuple(sorted(matched)),
                          f"{user}: {_plural(len(matched), 'access')} with a note naming {', '.join(terms)}: "
                          "protected activity needs a second look before ALPR data is used for it.",
                          {"terms": terms}))
    return flags


RULES: dict[str, Callable[[ReviewInput, Mapping[str, Any]], list[Flag]]] = {
    "generic_note": generic_note, "bad_case_number": bad_case_number, "after_hours": after_hours,
    "repeated_plate": repeated_plate, "broad_query": broad_query, "burst": burst,
    "denied_attempts": denied_attempts, "dormant_account": dormant_account,
    "disabled_user_session": disabled_user_session, "sensitive_term": sensitive_term}


def run_rules(data: ReviewInput, rules: RuleSet) -> list[Flag]:
    """Every enabled rule's flags, in the published order of the rules."""
    flags: list[Flag] = []
    for rule in rules.rules:
        if rule.enabled:
            flags.extend(RULES[rule.id](data, rule.params))
    return flags
