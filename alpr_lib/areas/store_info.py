"""Counts about the store and its camera registry: what command staff and operators see (no plate data)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from alpr_lib.access.actions import Plan, Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.records import manifest
from alpr_lib.store import cameras as camera_registry
from alpr_lib.store import plate_index
from alpr_lib.store.compact import COMPACT_MAX_ROWS, SMALL_FILES_MERGE_AT


@action("store.summary", permission="store.summary", namespace="store_info", method="summary",
        needs_training=False, aliases=("store_summary",), result="dict")
class StoreSummary(Request):
    """Counts about the store (no plate data): reads, days, files, last ingest, whether compaction is advised."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        files = manifest.day_summary(ctx.db)
        per_bucket: Counter[str] = Counter()
        mergeable: Counter[tuple[str, str]] = Counter()  # files compaction would merge, per bucket and tier
        edge = plate_index.purge_edge(ctx.now, int(ctx.config.retention_days))
        straddling = 0  # files the purge edge has moved into: the next purge would rewrite them whole
        for entry in manifest.live_with_rows(ctx.db, "by_plate"):
            tier = plate_index.tier(entry.path, edge)
            per_bucket[entry.partition or ""] += 1
            straddling += tier == "straddling"
            if entry.rows < COMPACT_MAX_ROWS // 2:
                mergeable[(entry.partition or "", tier)] += 1
        summary: dict[str, Any] = {
            "store": ctx.store.banner(), "kind": ctx.store.kind, "reads": files["reads"], "files": files["files"],
            "first_day": files["first_day"], "last_day": files["last_day"],
            "last_ingest": manifest.last_commit(ctx.db),
            "most_files_in_a_plate_bucket": max(per_bucket.values(), default=0),
            # searches open every file of a bucket (one per tier at least): past a handful of files of one
            # tier that compaction would merge, `alpr compact` pays for itself; and once a month the purge
            # edge moves into the live tier, whose files compaction then splits before the purge reaches them
            "compaction_advised": max(mergeable.values(), default=0) > SMALL_FILES_MERGE_AT or straddling > 0}
        return Result(summary, 0)


@action("cameras.list", permission="store.summary", namespace="store_info", method="cameras", needs_training=False,
        aliases=("cameras",), result="polars.DataFrame")
class ListCameras(Request):
    """The camera registry (no plate data)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        frame = camera_registry.load(ctx.db)
        return Result(frame, frame.height)


@action("store.department", permission="store.summary", namespace="store_info", method="department",
        needs_training=False, result="dict")
class Department(Request):
    """What forms and maps need from the department's settings: purposes, the case-number example, the serious
    offenses (convoy, frequent locations), the time zone and the basemap style ('' fetches no basemap)."""

    def work(self, ctx: Context, plan: Plan) -> Result:
        from alpr_lib.analysis.limits import offense_table

        cfg = ctx.config
        info = {"purposes": [{"name": p.name, "requires_case": p.requires_case, "description": p.description}
                             for p in cfg.purposes],
                "case_number_example": "24-001234", "timezone": cfg.timezone,
                "serious_offenses": sorted(k for k, v in offense_table(cfg).items() if v.serious),
                "basemap_style_url": cfg.basemap_style_url}
        return Result(info, 0)
