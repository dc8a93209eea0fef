"""Where each member stands in the course: module scores, whether every module is passed, the certificate.

A training round starts after the member's last certificate earned on the course: a refresher (or a new
certificate after a revocation) means passing every module again. The latest answer to each exercise counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from alpr_lib.auth.certifications import CertificateState, certificate_state
from alpr_lib.config import Config
from alpr_lib.records import Backend
from alpr_lib.records import certifications as cert_rows
from alpr_lib.records import training as attempt_rows
from alpr_lib.records import users as user_rows
from alpr_lib.training.course import Course

__all__ = ["ROSTER_SCHEMA", "ModuleProgress", "Progress", "roster", "user_progress"]


@dataclass(frozen=True)
class ModuleProgress:
    module_id: str
    title: str
    answered: int
    correct: int
    total: int
    pass_mark: int

    @property
    def score(self) -> float:
        """Percent of the module's exercises whose latest answer is right."""
        return round(100.0 * self.correct / self.total, 1) if self.total else 0.0

    @property
    def passed(self) -> bool:
        return self.score >= self.pass_mark


@dataclass(frozen=True)
class Progress:
    """One member's progress on the current course version and their certificate."""

    username: str
    full_name: str
    course_title: str
    course_version: str
    modules: tuple[ModuleProgress, ...]
    certificate: CertificateState
    #: attempts before this (the last certificate earned on the course) belong to an earlier round
    round_since: str | None

    @property
    def passed_all(self) -> bool:
        return all(m.passed for m in self.modules)

    @property
    def progress(self) -> float:
        """Share of modules passed (0 to 1)."""
        return round(sum(m.passed for m in self.modules) / len(self.modules), 3) if self.modules else 0.0

    @property
    def score(self) -> float:
        """Mean module score, in percent."""
        return round(sum(m.score for m in self.modules) / len(self.modules), 1) if self.modules else 0.0

    def frame(self) -> pl.DataFrame:
        """One row per module, for a notebook or a terminal."""
        return pl.DataFrame([{"module": m.module_id, "title": m.title, "answered": m.answered, "correct": m.correct,
                              "exercises": m.total, "score_pct": m.score, "passed": m.passed}
                             for m in self.modules])

    def summary(self) -> str:
        cert = self.certificate
        state = {"current": "current", "refresher_due": "current (refresher training due)", "expired": "expired",
                 "revoked": "revoked", "none": "none"}[cert.status]
        line = (f"{self.username} ({self.full_name}): {sum(m.passed for m in self.modules)} of {len(self.modules)} "
                f"modules passed on course {self.course_version}, score {self.score:.0f}%; certificate: {state}")
        if cert.row and cert.status != "none":
            line += f", expires {str(cert.row['expires_at'])[:10]}"
            if cert.status == "revoked":
                line += f", revoked {str(cert.row['revoked_at'])[:10]} ({cert.row['revoked_reason']})"
        if cert.refresher_due and cert.status in ("current", "refresher_due"):
            line += f"; refresher due {cert.refresher_due.date().isoformat()}"
        if self.passed_all and cert.status != "current":
            line += "; ready for the trainer's sign-off"
        return line

    def __repr__(self) -> str:
        return f"<Progress {self.summary()}>"

    def _repr_markdown_(self) -> str:
        rows = "\n".join(f"| {m.module_id} | {m.title} | {m.correct}/{m.total} | {m.score:.0f}% | "
                         f"{'passed' if m.passed else ''} |" for m in self.modules)
        return (f"{self.summary()}\n\n| module | title | correct | score | |\n|---|---|---|---|---|\n{rows}")


def _round_since(certs: list[dict]) -> str | None:
    earned = [c["completed_at"] for c in certs if c.get("basis") == "course"]
    return max(earned) if earned else None


def _modules(course: Course, latest: dict[tuple[str, str], dict], since: str | None, pass_mark: int
             ) -> tuple[ModuleProgress, ...]:
    out = []
    for module in course.modules:
        answered = correct = 0
        for exercise in module.exercises:
            row = latest.get((module.id, exercise.id))
            if row is None or (since is not None and row["attempted_at"] <= since):
                continue
            answered += 1
            correct += bool(row["correct"])
        out.append(ModuleProgress(module.id, module.title, answered, correct, len(module.exercises), pass_mark))
    return tuple(out)


def user_progress(db: Backend, config: Config, course: Course, username: str, now: datetime,
                  full_name: str = "") -> Progress:
    """``username``'s progress on ``course`` (its current version) and certificate state now."""
    latest: dict[tuple[str, str], dict] = {}
    for row in attempt_rows.list_attempts(db, username, course.version):
        latest[(row["module_id"], row["exercise_id"])] = row  # oldest first: the last one wins
    since = _round_since(cert_rows.list_rows(db, username))
    state = certificate_state(db, username, now, refresher_notice_days=config.refresher_notice_days)
    return Progress(username, full_name, course.title, course.version,
                    _modules(course, latest, since, config.training_pass_mark), state, since)


ROSTER_SCHEMA: dict[str, Any] = {
    "username": pl.String, "full_name": pl.String, "title": pl.String, "roles": pl.String,
    "progress": pl.Float64, "score": pl.Float64, "modules_passed": pl.Int64, "modules": pl.Int64,
    "ready_for_sign_off": pl.Boolean, "certificate_status": pl.String, "course_version": pl.String,
    "expires_at": pl.Datetime("us", "UTC"), "refresher_due": pl.Datetime("us", "UTC"),
    "suspended": pl.Boolean}


def roster(db: Backend, config: Config, course: Course, now: datetime) -> pl.DataFrame:
    """Every member (not service accounts): progress, score, certificate status, expiry, refresher due."""
    latest: dict[str, dict[tuple[str, str], dict]] = {}
    for row in attempt_rows.latest_attempts(db, course.version):
        latest.setdefault(row["username"], {})[(row["module_id"], row["exercise_id"])] = row
    certs: dict[str, list[dict]] = {}
    for row in cert_rows.list_rows(db):
        certs.setdefault(row["username"], []).append(row)
    rows = []
    for user in user_rows.list_rows(db):
        if user.member_type == "service":
            continue
        since = _round_since(certs.get(user.username, []))
        modules = _modules(course, latest.get(user.username, {}), since, config.training_pass_mark)
        state = certificate_state(db, user.username, now, refresher_notice_days=config.refresher_notice_days)
        passed = sum(m.passed for m in modules)
        score = round(sum(m.score for m in modules) / len(modules), 1)
        row = state.row or {}
        fresh = not any(m.answered for m in modules)
        if fresh and state.opens_access and row.get("basis") == "course":  # the round that earned it
            passed, score = len(modules), float(row.get("score") or 0.0)
        rows.append({
            "username": user.username, "full_name": user.full_name, "title": user.title,
            "roles": ", ".join(user.roles), "progress": round(passed / len(modules), 3), "score": score,
            "modules_passed": passed, "modules": len(modules),
            "ready_for_sign_off": passed == len(modules) and not fresh and state.status != "current",
            "certificate_status": state.status, "course_version": row.get("course_version"),
            "expires_at": state.expires_at if state.status != "none" else None,
            "refresher_due": state.refresher_due if state.opens_access else None,
            "suspended": bool(user.suspended_at)})
    return pl.DataFrame(rows, schema=ROSTER_SCHEMA)


