"""The training_attempts table (policy 462.8): every answer a member submitted to a training exercise.

Certificates themselves are rows of ``certifications`` (:mod:`alpr_lib.records.certifications`): a sign-off
after the course inserts one with ``basis = 'course'`` and the course version it was earned on.
"""

from __future__ import annotations

from alpr_lib.records.backend import Backend, Row

__all__ = ["insert_attempt", "latest_attempts", "list_attempts"]

_COLUMNS = ("username", "course_version", "module_id", "exercise_id", "answer", "correct", "feedback",
            "attempted_at", "store_kind", "session_id")


def insert_attempt(db: Backend, row: Row) -> int:
    rows = db.query(f"INSERT INTO training_attempts({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                    "RETURNING attempt_id", tuple(row[c] for c in _COLUMNS))
    return int(rows[0]["attempt_id"])


def list_attempts(db: Backend, username: str | None = None, course_version: str | None = None) -> list[Row]:
    """Attempts, oldest first (all users when ``username`` is None)."""
    sql, params = "SELECT * FROM training_attempts WHERE 1=1", []
    if username is not None:
        sql += " AND username = ?"
        params.append(username)
    if course_version is not None:
        sql += " AND course_version = ?"
        params.append(course_version)
    return db.query(sql + " ORDER BY attempted_at, attempt_id", params)


def latest_attempts(db: Backend, course_version: str, since: str | None = None) -> list[Row]:
    """Each user's latest attempt at each exercise of ``course_version`` made after ``since`` (ISO UTC; None:
    all), one query for the whole roster."""
    sql = ("SELECT a.username, a.module_id, a.exercise_id, a.correct, a.attempted_at FROM training_attempts a "
           "WHERE a.course_version = ? AND a.attempt_id = (SELECT max(b.attempt_id) FROM training_attempts b "
           "WHERE b.username = a.username AND b.course_version = a.course_version AND b.module_id = a.module_id "
           "AND b.exercise_id = a.exercise_id)")
    params: list = [course_version]
    if since is not None:
        sql += " AND a.attempted_at > ?"
        params.append(since)
    return db.query(sql + " ORDER BY a.username, a.module_id, a.exercise_id", params)
