"""Grading a trainee's answer against the exercise's known answer, with feedback on what is wrong.

Known answers come from the course file or from the planted sandbox scenarios (the same generator the
sandbox was built from, so a plate found on the sandbox is the plate that was planted there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from alpr_lib.training.course import Course, Exercise

__all__ = ["UNANSWERED", "Feedback", "Graded", "expected_answer", "grade", "stored_answer"]

#: what a notebook's answer cell holds until the trainee writes an answer
UNANSWERED = (Ellipsis, None)


@dataclass(frozen=True)
class Graded:
    correct: bool
    feedback: str


def _scenario_value(path: str, seed: int) -> Any:
    from alpr_lib.samples import planted_scenarios

    value: Any = planted_scenarios(seed)
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def expected_answer(exercise: Exercise, course: Course) -> Any:
    """The known answer in the form a trainee would give it (a letter, a plate, a list of plates...)."""
    value = _scenario_value(exercise.scenario, course.sandbox_seed) if exercise.scenario else exercise.answer
    if exercise.kind == "plates":
        items = value.keys() if isinstance(value, dict) else value
        return sorted(_plate(p) for p in items)
    if exercise.kind == "plate":
        if isinstance(value, list) and len(value) == 1:  # a scenario list of exactly one plate
            value = value[0]
        if not isinstance(value, str):
            raise TypeError(f"a plate exercise needs one plate, the scenario gives {value!r}")
        return _plate(value)
    if exercise.kind == "number":
        if isinstance(value, list | dict):
            return len(value)
        return float(value) if isinstance(value, float) else int(value)
    if exercise.kind == "choice":
        return str(value).strip().lower()
    return dict(value)


def _plate(value: Any) -> str:
    return re.sub(r"[\s\-.]", "", str(value)).upper()


def _plates(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;\s]+", value) if v]
    if hasattr(value, "to_list"):  # a polars or pandas Series
        value = value.to_list()
    if not isinstance(value, Iterable) or isinstance(value, dict):
        return None
    return sorted({_plate(v) for v in value})


def _choice_letter(exercise: Exercise, answer: Any) -> str | None:
    text = str(answer).strip().lower().rstrip(").")
    letters = "abcdefghij"[:len(exercise.options)]
    if len(text) == 1 and text in letters:
        return text
    for letter, option in zip(letters, exercise.options, strict=False):
        if text == option.strip().lower():
            return letter
    return None


def _decision(answer: Any) -> tuple[bool | None, str | None]:
    if isinstance(answer, dict):
        allowed, purpose = answer.get("allowed"), answer.get("purpose")
    elif isinstance(answer, list | tuple) and len(answer) in (1, 2):
        allowed, purpose = answer[0], answer[1] if len(answer) == 2 else None
    elif isinstance(answer, bool):
        allowed, purpose = answer, None
    else:
        return None, None
    if not isinstance(allowed, bool):
        return None, None
    return allowed, str(purpose).strip().lower() if purpose else None


def grade(exercise: Exercise, course: Course, answer: Any) -> Graded:
    """Whether ``answer`` is right, and feedback: the explanation, plus what was wrong."""
    expected = expected_answer(exercise, course)
    kind, why = exercise.kind, exercise.explanation
    if kind == "choice":
        letter = _choice_letter(exercise, answer)
        if letter is None:
            letters = ", ".join("abcdefghij"[:len(exercise.options)])
            return Graded(False, f"answer with the letter of one option ({letters}).")
        if letter == expected:
            return Graded(True, why)
        return Graded(False, " ".join(t for t in (exercise.hint_for(letter), why) if t))
    if kind == "plate":
        if not isinstance(answer, str):
            return Graded(False, "answer with one plate as text, e.g. answer = \"7ABC123\".")
        if _plate(answer) == expected:
            return Graded(True, why)
        return Graded(False, f"{_plate(answer)} is not the plate this exercise is after. {why}")
    if kind == "plates":
        given = _plates(answer)
        if given is None:
            return Graded(False, "answer with a list of plates, e.g. answer = [\"7ABC123\", \"8XYZ999\"].")
        missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
        if not missing and not extra:
            return Graded(True, why)
        parts = []
        if missing:
            parts.append(f"{len(missing)} plate{'s' if len(missing) > 1 else ''} missing")
        if extra:
            parts.append(f"{', '.join(extra)} should not be in the list")
        return Graded(False, f"not yet: {'; '.join(parts)}. {why}")
    if kind == "number":
        try:
            number = float(answer)
        except (TypeError, ValueError):
            return Graded(False, "answer with a number, e.g. answer = 3.")
        if abs(number - float(expected)) <= exercise.tolerance:
            return Graded(True, why)
        return Graded(False, f"{answer} is not right. {why}")
    allowed, purpose = _decision(answer)
    if allowed is None:
        return Graded(False, 'answer with {"allowed": True or False, "purpose": "the purpose, if allowed"}.')
    if allowed != expected["allowed"]:
        hint = exercise.hint_for("allowed")
        verdict = "this search is not allowed" if expected["allowed"] is False else "this search is allowed"
        return Graded(False, " ".join(t for t in (f"Not quite: {verdict}.", hint, why) if t))
    if expected["allowed"] and purpose != str(expected["purpose"]).strip().lower():
        hint = exercise.hint_for("purpose")
        return Graded(False, " ".join(t for t in ("Allowed, yes, but not with that purpose.", hint, why) if t))
    return Graded(True, why)


def stored_answer(answer: Any) -> str:
    """The answer as the attempt keeps it (JSON text, bounded)."""
    if hasattr(answer, "to_list"):
        answer = answer.to_list()
    if isinstance(answer, set | frozenset | tuple):
        answer = sorted(answer, key=str) if isinstance(answer, set | frozenset) else list(answer)
    try:
        text = json.dumps(answer, default=str)
    except (TypeError, ValueError):
        text = json.dumps(str(answer))
    return text[:2000]


@dataclass(frozen=True)
class Feedback:
    """What ``s.training.submit`` returns: right or not, why, and where the module stands now."""

    module_id: str
    exercise_id: str
    answered: bool
    correct: bool
    message: str
    module_score: float
    module_passed: bool
    course_passed: bool

    def __str__(self) -> str:
        head = "Not answered yet" if not self.answered else "Correct" if self.correct else "Not correct yet"
        tail = (f"Module {self.module_id}: {self.module_score:.0f}%"
                f"{' (passed)' if self.module_passed else ''}")
        if self.course_passed:
            tail += "; every module passed: ask the Training Sergeant to sign you off"
        return f"{head} ({self.module_id}/{self.exercise_id}): {self.message}\n{tail}"

    def _repr_markdown_(self) -> str:
        mark = "✅" if self.correct else ("✏️" if not self.answered else "❌")
        head, _, tail = str(self).partition("\n")
        return f"{mark} **{head}**\n\n{tail}"
