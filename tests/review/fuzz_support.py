"""What the action fuzz (tests/access/test_fuzz_actions.py) needs for the audit-review actions: a flag that
stays the same whatever the fuzz does later (its review period ends before the fuzz runs), and valid values
for the review fields."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import alpr_lib as alpr
from alpr_lib.timeutil import utc_now

_FLAGGED = ("audit.mark_reviewed", "audit.export_flag")


def review_values(kit: Any, spec: Any) -> dict[str, st.SearchStrategy[Any]]:
    """Valid values for the audit-review fields (and, for the flag actions, the flag and its period)."""
    out: dict[str, st.SearchStrategy[Any]] = {
        "finding": st.sampled_from(["lookups tied to case 26-004512; no misuse", "training exercise"]),
        "follow_up": st.sampled_from([None, "referred to internal affairs"]),
        "period": st.sampled_from(["2026-Q2", "2026-05", "2026"]),
        "sample_size": st.sampled_from([0, 5, 25]),
        "rule": st.sampled_from([None, "denied_attempts", "burst"]),
        "silent_hours": st.sampled_from([24.0, 72]),
    }
    if spec.name in _FLAGGED:
        flag_id, start, end = _denied_flag(kit.path, kit.passwords["trainee"], kit.passwords["auditor"])
        out.update(flag_id=st.just(flag_id), start=st.just(start), end=st.just(end))
    if spec.name == "audit.export_flag":
        out["path"] = st.sampled_from(["flag-export.jsonl", Path("flag-export-2.jsonl")])
    if spec.name == "audit.report":
        out["path"] = st.sampled_from(["audit-report.html", Path("audit-report-2.html")])
    return out


@cache
def _denied_flag(path: Path, trainee_password: str, auditor_password: str) -> tuple[str, Any, Any]:
    trainee = alpr.login("trainee", trainee_password, path)
    for pattern in ("7AB*", "8DP*", "5KL*"):
        with suppress(alpr.AccessDenied):
            trainee.search_plates(pattern, purpose="stolen plates")
    end = utc_now()
    start = end - timedelta(days=1)
    review = alpr.login("auditor", auditor_password, path).audit.review(start=start, end=end,
                                                                         rule="denied_attempts")
    flag = next(f for f in review.flags if f.username == "trainee")
    return flag.flag_id, start, end
