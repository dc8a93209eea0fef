"""Training and certification (policy 462.2.1(b), 462.3(d), 462.8): the course as data, grading, the sandbox.

In a training notebook::

    from alpr_lib.training import sandbox_login
    s = sandbox_login()          # the sandbox of ALPR_STORE, as ALPR_USER (or a prompt)
    training = s.training
    answer = "7ABK123"
    training.submit("partial-plates", "suspect-plate", answer)

The actions are in :mod:`alpr_lib.areas.training`; the course is ``alpr_lib/data/course.toml`` (or the
department's file, setting ``training_course_path``).
"""

from alpr_lib.training.course import Course, Exercise, Module, load_course
from alpr_lib.training.grading import Feedback, expected_answer, grade
from alpr_lib.training.progress import Progress
from alpr_lib.training.sandbox import build_sandbox, sandbox_login, sandbox_path

__all__ = ["Course", "Exercise", "Feedback", "Module", "Progress", "build_sandbox", "expected_answer", "grade",
           "load_course", "sandbox_login", "sandbox_path"]
