"""Reports written from the real records and audit log: the periodic audit report and the transparency page.

``period`` reads '2026-Q3' and friends, ``figures`` counts (never a plate), ``audit_report`` and
``transparency`` render print-ready HTML with no script, font or image from any other host.
"""

from alpr_lib.reports.period import parse_period

__all__ = ["parse_period"]
