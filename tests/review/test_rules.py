"""Each published audit-review rule fires on a crafted log and stays quiet on a clean one (issue 14, item 6).

The rules are pure functions over audit entries, so each test writes the log it needs: a clean day of work
(notes that say what the access is for, case numbers of recorded incidents, office hours) and the one misuse the
rule looks for. ``test_store_review.py`` runs the same rules over a real store through the door.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alpr_lib.errors import ConfigError
from alpr_lib.review.engine import RULES, run_rules, touches_plate
from alpr_lib.review.model import Account, Entry, ReviewInput
from alpr_lib.review.rules import RULE_IDS, check_overrides, published_rules, rule_set

ZONE = ZoneInfo("America/Los_Angeles")
END = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)
START = END - timedelta(days=30)
DATA = frozenset({"reads.search", "reads.history", "reads.details", "reads.canvass", "reads.convoy"})
CASES = frozenset({"26-004512", "26-004513", "26-004514"})
CREATED = START - timedelta(days=10)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time on September ``day`` 2026, department time."""
    return datetime(2026, 9, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


class Log:
    """A crafted audit log: entries numbered in order."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, when: datetime, user: str = "dreyes", action: str = "reads.history", **kw) -> Entry:
        query = kw.pop("query", {})
        if "note" in kw:
            query = {**query, "note": kw.pop("note")}
        entry = Entry(len(self.entries) + 1, when, user, action, query=query, **kw)
        self.entries.append(entry)
        return entry


def clean_log() -> Log:
    """Two analysts' ordinary month: good notes, real cases, office hours, a few plates once each."""
    log = Log()
    log.add(CREATED, "admin", "users.add", query={"target_user": "dreyes"})
    for day in range(2, 29):
        log.add(local(day, 8, 30), "dreyes", "login")
        log.add(local(day, 8, 30), "lpark", "login")
        for k in range(3):
            log.add(local(day, 9 + k, 15), "dreyes", "reads.history", purpose="criminal investigation",
                    case_number=sorted(CASES)[k], result_count=4,
                    query={"plate": f"7AB{day:02d}{k}", "note": "white sedan seen leaving the shooting on Main"})
        log.add(local(day, 14, 0), "lpark", "reads.search", purpose="stolen plates", result_count=12,
                query={"plate_pattern": "7AB?12", "note": "witness saw partial plate of the hit-and-run car",
                       "plates_returned": ["7ABK123"]})
    return log


ACCOUNTS = (Account("dreyes", False, "member", ("analyst",), CREATED),
            Account("lpark", False, "member", ("analyst",), CREATED),
            Account("admin", False, "member", ("administrator",), CREATED))


def data_of(log: Log, accounts=ACCOUNTS, open_sessions=None) -> ReviewInput:
    return ReviewInput(START, END, ZONE, tuple(e for e in log.entries if e.time >= START),
                       tuple(e for e in log.entries if e.time < START), accounts, open_sessions or {},
                       r"^\d{2}-\d{6}$", CASES, DATA)


def flags_of(rule: str, log: Log, **kw) -> list:
    return RULES[rule](data_of(log, **kw), published_rules()[rule].params)


def test_a_clean_log_raises_no_flag():
    assert run_rules(data_of(clean_log()), published_rules()) == []


def test_every_published_rule_has_an_engine_and_an_explanation():
    rules = published_rules()
    assert [r.id for r in rules.rules] == list(RULE_IDS) == list(RULES)
    assert rules.default_window_days == 30
    for rule in rules.rules:
        assert rule.title and len(rule.explanation) > 40 and rule.enabled, rule.id


@pytest.mark.parametrize("note", ["investigation", "test", "", "Investigation.", "TEST", "n/a", "checking"])
def test_generic_note(note):
    log = clean_log()
    bad = log.add(local(10, 11), "lpark", "reads.history", purpose="stolen plates", note=note,
                  query={"plate": "5XYZ999"})
    (flag,) = flags_of("generic_note", log)
    assert (flag.rule, flag.username, flag.records) == ("generic_note", "lpark", (bad.seq,))
    assert "lpark" in flag.explanation and ("generic" in flag.explanation or "no note" in flag.explanation)


def test_generic_note_counts_a_missing_note():
    log = clean_log()
    bad = log.add(local(10, 11), "lpark", "reads.search", purpose="stolen plates", query={"plate_pattern": "5XY*"})
    (flag,) = flags_of("generic_note", log)
    assert flag.records == (bad.seq,) and "1 had no note" in flag.explanation


def test_bad_case_number_format_and_unknown_case():
    log = clean_log()
    odd = log.add(local(11, 10), case_number="2026-77", purpose="criminal investigation",
                  note="tip line call about the blue pickup", query={"plate": "4QRS111"})
    unknown = log.add(local(12, 10), case_number="26-999999", purpose="criminal investigation",
                      note="tip line call about the blue pickup", query={"plate": "4QRS112"})
    (flag,) = flags_of("bad_case_number", log)
    assert flag.records == (odd.seq, unknown.seq)
    assert flag.details["bad_format"] == ["2026-77"] and flag.details["no_incident"] == ["26-999999"]


def test_after_hours_default_hours():
    log = clean_log()
    night = log.add(local(15, 2, 40), "lpark", "reads.search", purpose="stolen plates",
                    note="witness saw partial plate of the hit-and-run car", query={"plate_pattern": "9Z?1"})
    late = log.add(local(16, 22, 5), "lpark", "reads.search", purpose="stolen plates",
                   note="witness saw partial plate of the hit-and-run car", query={"plate_pattern": "9Z?2"})
    (flag,) = flags_of("after_hours", log)
    assert flag.records == (night.seq, late.seq) and "06:00-22:00" in flag.explanation


def test_after_hours_uses_a_users_own_hours_once_there_is_history():
    log = Log()
    # a night-shift analyst: 60 accesses at 00:10 and 01:10 in the three months before the review
    for k in range(60):
        log.add((START - timedelta(days=1 + k)).astimezone(ZONE).replace(hour=k % 2, minute=10), "night",
                "reads.history",
                purpose="stolen plates", note="night shift stolen vehicle follow-up")
    usual = log.add(local(10, 0, 30), "night", "reads.history", purpose="stolen plates",
                    note="night shift stolen vehicle follow-up")
    odd = log.add(local(10, 13, 0), "night", "reads.history", purpose="stolen plates",
                  note="night shift stolen vehicle follow-up")
    (flag,) = flags_of("after_hours", log)
    assert flag.records == (odd.seq,), "their usual night hour is not flagged; the afternoon is"
    assert usual.seq not in flag.records and flag.details["personal_hours"]


def test_repeated_plate_without_a_case():
    log = clean_log()
    seqs = [log.add(local(3 + 4 * k, 15), "lpark", "reads.history", purpose="stolen or wanted vehicles",
                    note="is the grey Civic back on my street again", query={"plate": "6STK404"}).seq
            for k in range(5)]
    (flag,) = flags_of("repeated_plate", log)
    assert (flag.username, flag.records, flag.details["plate"]) == ("lpark", tuple(seqs), "6STK404")
    four = clean_log()  # four lookups: under the threshold
    for k in range(4):
        four.add(local(3 + 4 * k, 15), "lpark", "reads.history", purpose="stolen plates",
                 note="is the grey Civic back on my street again", query={"plate": "6STK404"})
    assert flags_of("repeated_plate", four) == []


def test_repeated_plate_across_several_cases():
    log = clean_log()
    for k, case in enumerate(sorted(CASES)):
        log.add(local(5 + k, 10), "lpark", "reads.history", purpose="criminal investigation", case_number=case,
                note="suspect vehicle in the burglary series", query={"plate": "8CRS001"})
    (flag,) = flags_of("repeated_plate", log)
    assert flag.details["cases"] == sorted(CASES)


def test_broad_query_leading_wildcard_canvass_near_limit_and_many_results():
    log = clean_log()
    wild = log.add(local(8, 10), "lpark", "reads.search", purpose="stolen plates",
                   note="witness saw only the last digits", query={"plate_pattern": "*123"}, result_count=40)
    wide = log.add(local(8, 11), "lpark", "reads.canvass", purpose="criminal investigation",
                   case_number="26-004512", note="canvass around the bank robbery",
                   query={"radius_m": 2400, "before_min": 30, "after_min": 30, "over_limit": False,
                          "limits": [{"offense_type": "robbery", "max_radius_m": 2500, "max_before_min": 480,
                                      "max_after_min": 480}]})
    many = log.add(local(8, 12), "lpark", "reads.search", purpose="stolen plates",
                   note="witness saw only the first letters", query={"plate_pattern": "7A?*"}, result_count=5000)
    (flag,) = flags_of("broad_query", log)
    assert flag.records == (wild.seq, wide.seq, many.seq)
    reasons = flag.details["reasons"]
    assert "wildcard" in reasons[str(wild.seq)][0] and "radius" in reasons[str(wide.seq)][0]
    assert "5,000 results" in reasons[str(many.seq)][0]


def test_burst_more_than_30_in_10_minutes():
    log = clean_log()
    seqs = [log.add(local(20, 10) + timedelta(seconds=15 * k), "lpark", "reads.search", purpose="stolen plates",
                    note="working the stolen-plate list from CLETS", query={"plate_pattern": f"7B{k:02d}*"}).seq
            for k in range(31)]
    (flag,) = flags_of("burst", log)
    assert flag.records == tuple(seqs) and "31 data accesses" in flag.explanation
    thirty = clean_log()
    for k in range(30):
        thirty.add(local(20, 10) + timedelta(seconds=15 * k), "lpark", "reads.search", purpose="stolen plates",
                   note="working the stolen-plate list from CLETS")
    assert flags_of("burst", thirty) == []


def test_denied_attempts():
    log = clean_log()
    seqs = [log.add(local(9, 10 + k), "trainee", "reads.search", outcome="denied",
                    reason="you have no ALPR training certification on record").seq for k in range(3)]
    (flag,) = flags_of("denied_attempts", log)
    assert (flag.username, flag.records) == ("trainee", tuple(seqs))


def test_dormant_account_fires_on_the_log_whatever_suspension_does():
    log = clean_log()
    made = log.add(END - timedelta(days=200), "admin", "users.add", query={"target_user": "former"})
    accounts = (*ACCOUNTS, Account("former", False, "member", ("analyst",), END - timedelta(days=200)))
    (flag,) = flags_of("dormant_account", log, accounts=accounts)
    assert (flag.username, flag.records) == ("former", (made.seq,)) and "never logged in" in flag.explanation
    disabled = (*ACCOUNTS, Account("former", True, "member", ("analyst",), END - timedelta(days=200)))
    assert flags_of("dormant_account", log, accounts=disabled) == [], "a disabled account has no access"


def test_disabled_user_activity_and_live_sessions():
    log = clean_log()
    off = log.add(local(10, 9), "admin", "users.disable", query={"target_user": "lpark"})
    after = log.add(local(12, 9), "lpark", "reads.search", purpose="stolen plates",
                    note="witness saw partial plate of the hit-and-run car")
    accounts = tuple(a if a.username != "lpark" else Account("lpark", True, "member", ("analyst",), CREATED)
                     for a in ACCOUNTS)
    (flag,) = flags_of("disabled_user_session", log, accounts=accounts)
    assert flag.username == "lpark" and flag.records[0] == off.seq and after.seq in flag.records
    quiet = clean_log()
    quiet.add(local(28, 20), "admin", "users.disable", query={"target_user": "lpark"})
    (live,) = flags_of("disabled_user_session", quiet, accounts=accounts, open_sessions={"lpark": ("s1",)})
    assert "open session" in live.explanation
    assert flags_of("disabled_user_session", quiet, accounts=accounts) == []


def test_sensitive_term_with_word_boundaries():
    log = clean_log()
    hit = log.add(local(14, 10), "lpark", "reads.search", purpose="suspect interdiction",
                  note="cars parked at the Immigration office protest")
    log.add(local(14, 11), "lpark", "reads.search", purpose="suspect interdiction",
            note="HSI task force request on the stolen trailer")
    log.add(local(14, 12), "lpark", "reads.search", purpose="suspect interdiction",
            note="protestant church parking lot burglary")  # 'protest' inside a word is not a term
    (flag,) = flags_of("sensitive_term", log)
    assert flag.records == (hit.seq,) and flag.details["terms"] == ["immigration", "protest"]
    tuned = rule_set({"sensitive_term": {"terms": ["hsi"]}})
    (hsi,) = RULES["sensitive_term"](data_of(log), tuned["sensitive_term"].params)
    assert hsi.details["terms"] == ["hsi"], "HSI is read as a term only once the department lists it"


def test_department_tuning_changes_thresholds_and_turns_rules_off():
    log = clean_log()
    for k in range(31):
        log.add(local(20, 10) + timedelta(seconds=15 * k), "lpark", "reads.search", purpose="stolen plates",
                note="working the stolen-plate list from CLETS")
    assert [f.rule for f in run_rules(data_of(log), published_rules())] == ["burst"]
    assert run_rules(data_of(log), rule_set({"burst": {"max_accesses": 40}})) == []
    assert run_rules(data_of(log), rule_set({"burst": {"enabled": False}})) == []
    assert rule_set({"burst": {"max_accesses": 40}})["burst"].tuned == ("max_accesses",)


@pytest.mark.parametrize("bad, message", [
    ({"bursts": {}}, "unknown audit rule"), ({"burst": {"max": 3}}, "no parameter"),
    ({"burst": {"max_accesses": "lots"}}, "must be like its default"), ({"burst": {"max_accesses": -1}}, "negative"),
    ({"sensitive_term": {"terms": "protest"}}, "must be like its default"), ([], "must map rule ids")])
def test_tuning_is_checked_against_the_published_rules(bad, message):
    with pytest.raises(ConfigError, match=message):
        check_overrides(bad)


def test_reverse_lookup_matches_queried_pattern_and_returned_plates():
    log = clean_log()
    entries = {e.seq: touches_plate(e, "7ABK123") for e in log.entries}
    assert set(entries.values()) == {None, "returned"}  # lpark's 7AB?12 search returned it
    asked = log.add(local(3, 10), query={"plate": "7ABK123"})
    returned = log.add(local(3, 11), "x", "reads.canvass", query={"plates_returned": ["7ABK123", "5AAA111"]})
    pattern = log.add(local(3, 12), "x", "reads.search", query={"plate_pattern": "7AB*"})
    assert touches_plate(asked, "7ABK123") == "queried"
    assert touches_plate(returned, "7ABK123") == "returned"
    assert touches_plate(pattern, "7ABK123") == "pattern"
    assert touches_plate(pattern, "5AAA111") is None
