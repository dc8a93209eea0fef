"""The demo store's hotlists: its sample lists imported by the supervisor before the year of reads is
ingested, so the planted hotlist reads raise alerts at ingest (as live reads would)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import polars as pl

__all__ = ["DEMO_LISTS", "add_demo_hotlists"]

#: the sample's ``source`` text -> (the demo list's name, its source under policy 462.3(e))
DEMO_LISTS = {"NCIC": ("NCIC stolen vehicles", "federal"), "CA DOJ": ("CA DOJ", "state"),
              "department": ("department BOLO", "department")}


def _list_of(source: str) -> tuple[str, str]:
    return next((v for k, v in DEMO_LISTS.items() if source.startswith(k)), DEMO_LISTS["department"])


def add_demo_hotlists(path: str | os.PathLike, passwords: Mapping[str, str], *, seed: int = 462) -> None:
    """Grant ``supervisor`` and ``operator`` every source (the administrator) and import the sample hotlists,
    one list per source (the supervisor)."""
    from alpr_lib import samples
    from alpr_lib.login import login

    admin = login("admin", passwords["admin"], path, client="cli")
    for user in ("supervisor", "operator"):
        admin.hotlists.grant(user, ["department", "state", "federal"])
    admin.logout()
    sample = samples.hotlists(seed)
    supervisor = login("supervisor", passwords["supervisor"], path, client="cli")
    lists = sample.with_columns(pl.col("source").map_elements(lambda s: _list_of(s)[0], return_dtype=pl.String)
                                .alias("_list"))
    for (name,), rows in lists.group_by("_list", maintain_order=True):
        source = next(v[1] for v in DEMO_LISTS.values() if v[0] == name)
        supervisor.hotlists.import_list(rows.drop("_list"), str(name), source, owner="supervisor")
    supervisor.logout()
