"""All SQL lives in alpr_lib/records: no other module of the library holds a SQL statement."""

from __future__ import annotations

import re
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "alpr_lib"
SQL = re.compile(r"""["'](\s*)(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE|"""
                 r"""ALTER\s+TABLE|DROP\s+TABLE|BEGIN\s+IMMEDIATE)""", re.IGNORECASE)


def test_no_sql_outside_the_records_package():
    offenders = []
    for path in LIBRARY.rglob("*.py"):
        if "records" in path.relative_to(LIBRARY).parts[:1]:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SQL.search(line):
                offenders.append(f"{path.relative_to(LIBRARY)}:{number}: {line.strip()}")
    assert not offenders, "SQL outside alpr_lib/records:\n" + "\n".join(offenders)


def test_the_check_finds_sql_where_it_is():
    found = [p for p in (LIBRARY / "records").rglob("*.py")
             if any(SQL.search(line) for line in p.read_text(encoding="utf-8").splitlines())]
    assert len(found) >= 8  # the table modules and the migrations
