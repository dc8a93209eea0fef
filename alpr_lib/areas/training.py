"""Training and certification (policy 462.2.1(b), 462.3(d), 462.8): the course, graded exercises, sign-off.

Trainees take the course on the training sandbox (``alpr_lib.training.sandbox_login()``) before they are
certified: these actions need no certificate, and none of them reveals a plate read. Every attempt is
recorded in the department's records (the operational store's, also from the sandbox), where the trainer's
roster and sign-off find it. A sign-off issues a certificate naming the course version; a revocation or the
expiry closes data access again (:func:`alpr_lib.access.checks.check_training`).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl

from alpr_lib.access.actions import Plan, Request, Result, action, jsonable
from alpr_lib.access.door import Context
from alpr_lib.auth import certifications, users
from alpr_lib.auth.roles import has_permission
from alpr_lib.errors import AccessDenied, NotFound, ValidationError
from alpr_lib.private_files import write_private_atomic
from alpr_lib.records import certifications as cert_rows
from alpr_lib.records import training as attempt_rows
from alpr_lib.timeutil import iso
from alpr_lib.training.certificate import certificate_html
from alpr_lib.training.course import Course, load_course
from alpr_lib.training.grading import UNANSWERED, Feedback, grade, stored_answer
from alpr_lib.training.progress import Progress, roster, user_progress
from alpr_lib.training.sandbox import SANDBOX_READS, build_sandbox

__all__ = ["course_of"]


def course_of(ctx: Context) -> Course:
    """The department's course (setting ``training_course_path``), else the built-in one."""
    return load_course(ctx.config.training_course_path or None)


def _progress_of(ctx: Context, username: str) -> Progress:
    user = users.require_user(ctx.store.accounts_db, username)
    return user_progress(ctx.store.accounts_db, ctx.config, course_of(ctx), username, ctx.now, user.full_name)


@dataclass(frozen=True)
class _Someone(Plan):
    """Whose training record a call reads (the caller's own, or another's for a trainer or auditor)."""

    username: str = ""

    def audit_elements(self) -> dict[str, Any]:
        return {"target_user": self.username}


def _whose(ctx: Context, username: str | None) -> _Someone:
    name = (username or ctx.user.username).strip().lower()
    if name != ctx.user.username and not has_permission(ctx.user.roles, "training.roster"):
        raise AccessDenied(f"{ctx.user.username} may see only their own training record; trainers, administrators "
                           "and auditors see others' (permission training.roster)")
    return _Someone(name)


@action("training.course", permission="training.take", namespace="training", method="course", needs_training=False,
        result="polars.DataFrame")
class CourseOutline(Request):
    """The course's modules: objectives, the policy clauses each covers, its notebook and exercise count."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        course = course_of(ctx)
        frame = pl.DataFrame([{"module": m.id, "title": m.title, "notebook": f"notebooks/training/{m.notebook}",
                               "policy": ", ".join(m.policy), "objectives": "; ".join(m.objectives),
                               "exercises": len(m.exercises)} for m in course.modules])
        return Result(frame, frame.height, {"course_version": course.version})


@action("training.submit", permission="training.take", namespace="training", method="submit",
        needs_training=False, result="Feedback")
class Submit(Request):
    """Grade an answer to one exercise against its known answer, record the attempt and say what was wrong.

    ``answer = ...`` (not yet answered) is not recorded as an attempt."""

    module_id: str
    exercise_id: str
    answer: Any

    def describe(self) -> dict[str, Any]:
        return {"module_id": self.module_id, "exercise_id": self.exercise_id}

    def work(self, ctx: Context, plan: Plan) -> Result:
        course = course_of(ctx)
        try:
            module = course.module(self.module_id)
        except KeyError:
            raise NotFound(f"no module {self.module_id!r} in course {course.version}; modules are "
                           f"{[m.id for m in course.modules]}") from None
        try:
            exercise = module.exercise(self.exercise_id)
        except KeyError:
            raise NotFound(f"module {module.id!r} has no exercise {self.exercise_id!r}; its exercises are "
                           f"{[e.id for e in module.exercises]}") from None
        answered = not any(self.answer is marker for marker in UNANSWERED)
        elements: dict[str, Any] = {"course_version": course.version, "answered": answered}
        if answered:
            graded = grade(exercise, course, self.answer)
            attempt_rows.insert_attempt(ctx.store.accounts_db, {
                "username": ctx.user.username, "course_version": course.version, "module_id": module.id,
                "exercise_id": exercise.id, "answer": stored_answer(self.answer), "correct": int(graded.correct),
                "feedback": graded.feedback, "attempted_at": iso(ctx.now), "store_kind": ctx.store.kind,
                "session_id": ctx.session_id})
            elements["correct"] = graded.correct
            message = graded.feedback
        else:
            message = f"write your answer in the cell (answer = ...), then run it again. {exercise.question}"
        progress = _progress_of(ctx, ctx.user.username)
        mod = next(m for m in progress.modules if m.module_id == module.id)
        feedback = Feedback(module.id, exercise.id, answered, bool(elements.get("correct")), message, mod.score,
                            mod.passed, progress.passed_all)
        return Result(feedback, 1 if answered else 0, elements)


@action("training.status", permission="training.take", namespace="training", method="status", needs_training=False,
        result="Progress")
class Status(Request):
    """Progress on the course (modules passed, scores) and the certificate's state: yours, or for trainers,
    administrators and auditors another member's (``username=...``)."""

    username: str | None = None

    def plan(self, ctx: Context) -> _Someone:
        return _whose(ctx, self.username)

    def work(self, ctx: Context, plan: _Someone) -> Result:
        progress = _progress_of(ctx, plan.username)
        return Result(progress, 1, {"certificate_status": progress.certificate.status,
                                    "modules_passed": sum(m.passed for m in progress.modules)})


@action("training.roster", permission="training.roster", namespace="training", method="roster", needs_training=False,
        result="polars.DataFrame")
class Roster(Request):
    """Every member's progress, score, certificate status and expiry, and who is due for refresher training."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        frame = roster(ctx.store.accounts_db, ctx.config, course_of(ctx), ctx.now)
        return Result(frame, frame.height)


@action("training.sign_off", permission="training.sign_off", namespace="training", method="sign_off",
        needs_training=False, result="int")
class SignOff(Request):
    """Sign off a trainee who passed every module of the current course: issues a certificate naming the course
    version, valid for ``certification_valid_days``. Trainers only, and never for themselves."""

    username: str

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username}

    def work(self, ctx: Context, plan: Plan) -> Result:
        name = self.username.strip().lower()
        if name == ctx.user.username:
            raise AccessDenied("a trainer cannot sign off their own training; another trainer signs you off")
        progress = _progress_of(ctx, name)
        if not progress.passed_all:
            short = [f"{m.module_id} ({m.score:.0f}%)" for m in progress.modules if not m.passed]
            raise ValidationError(f"{name} has not passed every module of course {progress.course_version} (pass "
                                  f"mark {ctx.config.training_pass_mark}%): still to pass {', '.join(short)}")
        days = ctx.config.certification_valid_days
        cert = certifications.record_certification(
            ctx.store.accounts_db, username=name, course=progress.course_title, completed_at=ctx.now,
            expires_at=ctx.now + timedelta(days=days), certified_by=ctx.user.username,
            course_version=progress.course_version, basis="course", score=progress.score)
        return Result(cert, 1, {"course_version": progress.course_version, "score": progress.score,
                                "valid_days": days, "cert_id": cert})


@action("training.revoke", permission="training.manage", namespace="training", method="revoke",
        needs_training=False, result="list[int]")
class Revoke(Request):
    """Revoke a member's current certificates (access closes at once; the member is told why)."""

    username: str
    _: KW_ONLY
    reason: str

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username, "reason": self.reason}

    def work(self, ctx: Context, plan: Plan) -> Result:
        name = self.username.strip().lower()
        users.require_user(ctx.store.accounts_db, name)
        revoked = certifications.revoke_certifications(ctx.store.accounts_db, name, by=ctx.user.username,
                                                       reason=self.reason, now=ctx.now)
        if not revoked:
            raise NotFound(f"{name} holds no current certificate to revoke")
        return Result(revoked, len(revoked), {"cert_ids": revoked})


@action("training.certificate", permission="training.take", namespace="training", method="certificate",
        needs_training=False, result="str")
class Certificate(Request):
    """The printable certificate (HTML) of your latest certification, or for trainers, administrators and
    auditors another member's; ``path`` also writes it to that file (0600)."""

    username: str | None = None
    _: KW_ONLY
    path: str | None = None

    def plan(self, ctx: Context) -> _Someone:
        return _whose(ctx, self.username)

    def work(self, ctx: Context, plan: _Someone) -> Result:
        db = ctx.store.accounts_db
        user = users.require_user(db, plan.username)
        row = cert_rows.latest(db, plan.username)
        if row is None:
            raise NotFound(f"{plan.username} holds no certificate yet")
        state = certifications.certificate_state(db, plan.username, ctx.now)
        if state.row and state.row["cert_id"] == row["cert_id"]:
            status = state.status
        else:
            status = "revoked" if row.get("revoked_at") else "expired"
        signer = users.get_user(db, row["certified_by"])
        page = certificate_html(full_name=user.full_name, username=user.username, title=user.title,
                                organisation=user.organisation, course_title=row["course"],
                                course_version=row.get("course_version"), cert=row,
                                signed_by=signer.full_name if signer else row["certified_by"], status=status)
        elements = {"cert_id": row["cert_id"], "course_version": row.get("course_version")}
        if self.path:
            write_private_atomic(Path(self.path).expanduser(), page)
            elements["written_to"] = str(self.path)
        return Result(page, 1, jsonable(elements))


@action("training.build_sandbox", permission="training.manage", namespace="training", method="build_sandbox",
        needs_training=False, result="dict")
class BuildSandbox(Request):
    """Build (``replace=True``: rebuild) the training sandbox of this operational store: synthetic reads with the
    planted scenarios the exercises grade against, in ``<store>/training``."""

    _: KW_ONLY
    replace: bool = False
    n_reads: int = SANDBOX_READS
    progress: bool = False

    def plan(self, ctx: Context) -> Plan:
        if ctx.store.is_training:
            raise ValidationError("this is the training sandbox itself; build it from the operational store "
                                  "(ALPR_STORE)")
        if not 1_000 <= self.n_reads <= 2_000_000:
            raise ValidationError("n_reads must be between 1,000 and 2,000,000 (a sandbox is for learning)")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        summary = build_sandbox(ctx.store, username=ctx.user.username, organisation=ctx.user.organisation,
                                client=ctx.client, seed=course_of(ctx).sandbox_seed, n_reads=self.n_reads,
                                replace=self.replace, progress=self.progress)
        return Result(summary, summary["reads"], jsonable(summary))


@action("users.reinstate", permission="users.reinstate", namespace="admin", method="reinstate_user",
        needs_training=False, result="bool")
class ReinstateUser(Request):
    """Reinstate an account suspended after inactivity (supervisors, administrators); its clock restarts.
    Returns whether it was suspended."""

    username: str

    def describe(self) -> dict[str, Any]:
        return {"target_user": self.username}

    def work(self, ctx: Context, plan: Plan) -> Result:
        name = self.username.strip().lower()
        was = users.reinstate(ctx.store.accounts_db, name, ctx.now)
        return Result(was, 1 if was else 0, {"was_suspended": was})
