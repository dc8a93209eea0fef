"""Crash injection for the fault tests: the process dies (``os._exit``) at a named point of a write.

``ALPR_FAULT_INJECT=<area>:<point>`` names one point, e.g. ``ingest:in-commit``; the tests kill a real
writer at every point of ingest, merges, compaction and purges and then check that data and audit records agree.
It can only stop the process that sets it (which its user could do anyway), never change what is written.
"""

from __future__ import annotations

import os

__all__ = ["POINTS", "fault"]

#: Every point a test may name, in the order a write passes them.
POINTS = (
    "ingest:after-first-file", "ingest:before-commit", "ingest:in-commit", "ingest:after-commit",
    "merge:before-commit", "merge:after-commit", "compact:before-commit", "compact:after-commit",
    "purge:after-first-file", "purge:before-commit", "purge:in-commit", "purge:after-commit",
    "purge:after-files-deleted",
)


def fault(point: str) -> None:
    """Die here if the test asked for this point."""
    if os.environ.get("ALPR_FAULT_INJECT") == point:
        os._exit(70)
