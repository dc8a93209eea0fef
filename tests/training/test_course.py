"""The course as data: the built-in course loads and covers the issue's topics; grading and its feedback."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from alpr_lib.errors import ConfigError
from alpr_lib.samples import planted_scenarios
from alpr_lib.training import expected_answer, grade, load_course
from alpr_lib.training.course import DEFAULT_COURSE_FILE, parse_course

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks" / "training"


def test_the_default_course_has_a_version_and_every_topic_of_the_issue():
    course = load_course()
    assert course.version and course.title
    assert len(course.modules) >= 6
    clauses = " ".join(c for m in course.modules for c in m.policy)
    for clause in ("462.3(a)", "Civil Code 1798.90.52", "Government Code 34090.6", "462.3(c)", "462.3(f)", "462.7",
                   "462.4", "462.5(a)"):
        assert clause in clauses, clause
    for module in course.modules:
        assert module.objectives and module.policy and module.exercises, module.id
    kinds = {e.kind for m in course.modules for e in m.exercises}
    assert {"choice", "plate", "plates", "decision", "number"} <= kinds


def test_every_module_has_its_notebook_with_one_submit_cell_per_exercise():
    course = load_course()
    assert len(list(NOTEBOOKS.glob("*.ipynb"))) == len(course.modules)
    for module in course.modules:
        notebook = json.loads((NOTEBOOKS / module.notebook).read_text())
        cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
        submitted = [c for c in cells if "training.submit(" in c]
        assert [f'training.submit("{module.id}", "{e.id}", answer)' in c for e, c in
                zip(module.exercises, submitted, strict=True)] == [True] * len(module.exercises), module.id
        assert all(c.startswith("answer = ...\n") for c in submitted), "answers ship unanswered"
        text = "".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
        for exercise in module.exercises:  # the notebook asks what the course file grades
            assert exercise.question in text, (module.id, exercise.id)
            assert all(option in text for option in exercise.options), (module.id, exercise.id)
        assert all(not c["outputs"] for c in notebook["cells"] if c["cell_type"] == "code"), "outputs stripped"


def test_scenario_answers_are_the_planted_ones():
    course = load_course()
    key = planted_scenarios(course.sandbox_seed)
    assert expected_answer(course.module("canvass").exercise("suspect"), course) == key["canvass"]["suspect_plate"]
    plates = expected_answer(course.module("partial-plates").exercise("confusables"), course)
    assert plates == sorted(key["partial_plate"]["confusable_plates_in_window"])


@pytest.mark.parametrize("module, exercise, answer, correct, says", [
    ("partial-plates", "suspect-plate", " 7abk-123 ", True, "7ABK123"),
    ("partial-plates", "suspect-plate", "7ABK12", False, "not the plate"),
    ("partial-plates", "suspect-plate", 7, False, "one plate as text"),
    ("partial-plates", "confusables", ["7ABKI23", "7A8K123", "7ABK1Z3"], True, "misreads"),
    ("partial-plates", "confusables", "7ABKI23, 7A8K123", False, "1 plate missing"),
    ("partial-plates", "confusables", ["7ABKI23", "7A8K123", "7ABK1Z3", "7ABK123"], False,
     "7ABK123 should not be in the list"),
    ("canvass", "suspect-reads", 2, True, "Two"),
    ("canvass", "suspect-reads", "3", False, "not right"),
    ("purposes", "suspicion", "C", True, "462.3(b)"),
    ("purposes", "suspicion", "neither: routine patrol is an authorised use, for official business only", True, ""),
    ("purposes", "suspicion", "z", False, "letter of one option"),
    ("purposes", "ex-partner", {"allowed": False}, True, "462.3"),
    ("purposes", "ex-partner", {"allowed": True, "purpose": "warrants"}, False, "not allowed"),
    ("purposes", "case-partial", (True, "Criminal Investigation"), True, ""),
    ("purposes", "case-partial", {"allowed": True, "purpose": "warrants"}, False, "not with that purpose"),
    ("purposes", "case-partial", "yes", False, "allowed"),
])
def test_grading_and_feedback(module, exercise, answer, correct, says):
    course = load_course()
    graded = grade(course.module(module).exercise(exercise), course, answer)
    assert graded.correct is correct and says in graded.feedback, graded


def _course(**change) -> dict:
    data = tomllib.loads(DEFAULT_COURSE_FILE.read_text())
    data["modules"] = data["modules"][:1]
    data["modules"][0]["exercises"] = [dict(data["modules"][0]["exercises"][3], **change)]
    return data


@pytest.mark.parametrize("change, message", [
    ({"kind": "essay"}, "kind must be one of"),
    ({"answer": "q"}, "letter of an option"),
    ({"scenario": "canvass.suspect_plate"}, "exactly one of"),
])
def test_a_broken_course_file_is_refused_naming_the_exercise(change, message):
    with pytest.raises(ConfigError, match=message) as refused:
        parse_course(_course(**change), "course.toml")
    assert "'purposes'" in str(refused.value)


def test_a_scenario_that_was_not_planted_is_refused():
    data = _course()
    data["modules"][0]["exercises"][0] = {"id": "x", "kind": "plate", "question": "q?", "explanation": "e",
                                          "scenario": "canvass.no_such_key"}
    with pytest.raises(ConfigError, match="not in the planted answer key"):
        parse_course(data, "course.toml")


def test_a_department_course_file_replaces_the_built_in_one(kit, tmp_path):
    data = DEFAULT_COURSE_FILE.read_text().replace('version = "2026.1"', 'version = "2027.1-local"')
    path = tmp_path / "course.toml"
    path.write_text(data)
    kit.login("admin").admin.set_setting("training_course_path", str(path))
    assert kit.login("trainee").training.status().course_version == "2027.1-local"
