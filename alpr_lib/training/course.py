"""The training course as data: a TOML file the department edits without code (policy 462.8).

A course has a title and a version (a certificate names the version it was earned on), and modules; each
module has objectives, the policy clauses it covers, the notebook that teaches it and its exercises. An
exercise's known answer is written in the file (``answer = ...``) or refers to the planted sandbox scenarios
(``scenario = "canvass.suspect_plate"``: a dotted path into :func:`alpr_lib.samples.planted_scenarios`), so
the answer a trainee finds on the sandbox is graded against what was planted there.

The built-in course is ``alpr_lib/data/course.toml``; the setting ``training_course_path`` names the
department's own file instead.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alpr_lib.errors import ConfigError

__all__ = ["DEFAULT_COURSE_FILE", "EXERCISE_KINDS", "Course", "Exercise", "Module", "load_course"]

DEFAULT_COURSE_FILE = Path(__file__).resolve().parent.parent / "data" / "course.toml"

#: what an answer is, per kind: choice (a letter or the option's text), plate (one plate), plates (a list of
#: plates, order ignored), number (within ``tolerance``), decision ({"allowed": bool, "purpose": str})
EXERCISE_KINDS = ("choice", "plate", "plates", "number", "decision")


@dataclass(frozen=True)
class Exercise:
    """One graded question. ``answer`` or ``scenario`` gives the known answer."""

    id: str
    kind: str
    question: str
    explanation: str
    answer: Any = None
    scenario: str | None = None
    options: tuple[str, ...] = ()
    tolerance: float = 0.0
    #: feedback for particular wrong answers (a choice letter, or "allowed"/"purpose" for decisions)
    hints: tuple[tuple[str, str], ...] = ()

    def hint_for(self, key: str) -> str | None:
        return dict(self.hints).get(key)


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    notebook: str
    objectives: tuple[str, ...]
    policy: tuple[str, ...]
    exercises: tuple[Exercise, ...]

    def exercise(self, exercise_id: str) -> Exercise:
        for item in self.exercises:
            if item.id == exercise_id:
                return item
        raise KeyError(exercise_id)


@dataclass(frozen=True)
class Course:
    title: str
    version: str
    sandbox_seed: int
    modules: tuple[Module, ...]
    source: str

    def module(self, module_id: str) -> Module:
        for item in self.modules:
            if item.id == module_id:
                return item
        raise KeyError(module_id)

    @property
    def exercise_count(self) -> int:
        return sum(len(m.exercises) for m in self.modules)


def _text(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' must be non-empty text")
    return value.strip()


def _texts(table: dict, key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of text")
    return tuple(v.strip() for v in value)


def _exercise(table: dict, where: str) -> Exercise:
    ident = _text(table, "id", where)
    where = f"{where}, exercise {ident!r}"
    kind = _text(table, "kind", where)
    if kind not in EXERCISE_KINDS:
        raise ConfigError(f"{where}: kind must be one of {EXERCISE_KINDS}, not {kind!r}")
    has_answer, scenario = "answer" in table, table.get("scenario")
    if has_answer == bool(scenario):
        raise ConfigError(f"{where}: give exactly one of 'answer' (the known answer) or 'scenario' (a planted "
                          "sandbox answer such as 'canvass.suspect_plate')")
    options = _texts(table, "options", where)
    if kind == "choice":
        if len(options) < 2:
            raise ConfigError(f"{where}: a choice needs at least two options")
        letters = "abcdefghij"[:len(options)]
        if str(table.get("answer", "")).strip().lower() not in letters:
            raise ConfigError(f"{where}: the answer of a choice is the letter of an option ({', '.join(letters)})")
    if kind == "decision" and has_answer:
        answer = table["answer"]
        if not isinstance(answer, dict) or not isinstance(answer.get("allowed"), bool):
            raise ConfigError(f"{where}: a decision's answer is a table {{allowed = true|false, purpose = '...'}}")
        if answer["allowed"] and not isinstance(answer.get("purpose"), str):
            raise ConfigError(f"{where}: an allowed decision names its purpose")
    hints = table.get("hints", {})
    if not isinstance(hints, dict) or not all(isinstance(v, str) for v in hints.values()):
        raise ConfigError(f"{where}: 'hints' must be a table of text")
    tolerance = table.get("tolerance", 0.0)
    if not isinstance(tolerance, int | float) or tolerance < 0:
        raise ConfigError(f"{where}: 'tolerance' must be a number >= 0")
    return Exercise(ident, kind, _text(table, "question", where), _text(table, "explanation", where),
                    table.get("answer"), scenario, options, float(tolerance),
                    tuple((str(k).lower(), v) for k, v in hints.items()))


def parse_course(data: dict, source: str) -> Course:
    """A course from its parsed TOML; a ConfigError names the module and exercise at fault."""
    title, version = _text(data, "title", source), _text(data, "version", source)
    seed = data.get("sandbox_seed", 462)
    if not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{source}: sandbox_seed must be a whole number")
    modules = []
    for i, table in enumerate(data.get("modules", []), start=1):
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: module {i} must be a table ([[modules]])")
        ident = _text(table, "id", f"{source}, module {i}")
        where = f"{source}, module {ident!r}"
        exercises = tuple(_exercise(e, where) for e in table.get("exercises", []))
        if not exercises:
            raise ConfigError(f"{where}: a module needs at least one exercise ([[modules.exercises]])")
        if len({e.id for e in exercises}) != len(exercises):
            raise ConfigError(f"{where}: two exercises share an id")
        modules.append(Module(ident, _text(table, "title", where), _text(table, "notebook", where),
                              _texts(table, "objectives", where), _texts(table, "policy", where), exercises))
    if not modules:
        raise ConfigError(f"{source}: a course needs at least one module ([[modules]])")
    if len({m.id for m in modules}) != len(modules):
        raise ConfigError(f"{source}: two modules share an id")
    course = Course(title, version, seed, tuple(modules), source)
    from alpr_lib.training.grading import expected_answer  # every scenario reference must resolve

    for module in course.modules:
        for exercise in module.exercises:
            try:
                expected_answer(exercise, course)
            except (KeyError, TypeError, IndexError) as exc:
                raise ConfigError(f"{source}, module {module.id!r}, exercise {exercise.id!r}: scenario "
                                  f"{exercise.scenario!r} is not in the planted answer key ({exc})") from None
    return course


@cache
def _load(path: str, mtime: float) -> Course:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the training course {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the training course {path} is not valid TOML: {exc}") from None
    return parse_course(data, path)


def load_course(path: str | Path | None = None) -> Course:
    """The course in ``path`` (default: the built-in course), checked; cached until the file changes."""
    file = Path(path) if path else DEFAULT_COURSE_FILE
    try:
        mtime = file.stat().st_mtime
    except OSError as exc:
        raise ConfigError(f"cannot read the training course {file}: {exc.strerror or exc}") from None
    return _load(str(file), mtime)
