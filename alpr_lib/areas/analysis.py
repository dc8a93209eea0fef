"""Investigative analysis (policy 462.3(c)): canvass, multi-scene, convoy and frequent locations.

Every analysis is tied to a case number (``needs_case``). A canvass beyond the offense limits needs a
supervisor's approval for that case; the plan resolves the scenes, the limits and the approval before any
read is touched, and a request beyond them is *denied*. Convoy and frequent-location analysis need a serious
offense and their audit records are marked for review.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, replace
from typing import TYPE_CHECKING, Any

import polars as pl
import shapely
from shapely.geometry.base import BaseGeometry

from alpr_lib.access.actions import Request, Result, action
from alpr_lib.access.door import Context
from alpr_lib.analysis import approvals as approval_records
from alpr_lib.analysis import incidents as incident_records
from alpr_lib.analysis.canvass import canvass_reads
from alpr_lib.analysis.convoy import convoy_candidates, target_reads
from alpr_lib.analysis.frequent import frequent_locations_of
from alpr_lib.analysis.limits import OffenseLimit, limit_for, normalise_offense, require_serious
from alpr_lib.analysis.multiscene import rank_vehicles
from alpr_lib.analysis.scenes import Scene, check_extent, resolve_scenes
from alpr_lib.areas.reads import MAX_PLATES_AUDITED, Window, window_plan, with_holds
from alpr_lib.errors import AccessDenied, AlprError, ValidationError
from alpr_lib.normalise import full_plate
from alpr_lib.timeutil import TimeLike, iso, requested_window

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["to_geodataframe"]


def to_geodataframe(frame: pl.DataFrame) -> gpd.GeoDataFrame:
    """Reads with lat/lon as a GeoDataFrame of points in EPSG:4326 (pandas, as kepler.gl wants)."""
    import geopandas as gpd

    pdf = frame.to_pandas()
    return gpd.GeoDataFrame(pdf, geometry=gpd.points_from_xy(pdf["lon"], pdf["lat"]), crs="EPSG:4326")


@dataclass(frozen=True)
class ScenesPlan(Window):
    """The scenes to canvass, the extent asked for, the offense limits that apply and the approval used."""

    scenes: tuple[Scene, ...] = ()
    radius_m: float = 0.0
    before_min: float = 0.0
    after_min: float = 0.0
    limits: tuple[OffenseLimit, ...] = ()
    over_limit: bool = False
    approval_id: str | None = None

    def described(self) -> list[dict[str, Any]]:
        return [s.describe(self.before_min, self.after_min) for s in self.scenes]

    def audit_elements(self) -> dict[str, Any]:
        scenes = self.described()
        windows = [s.window(self.before_min, self.after_min) for s in self.scenes]
        out: dict[str, Any] = {
            "scenes": scenes, "geography": [s["geometry"] for s in scenes],
            "window_start_utc": min(iso(w[0]) for w in windows), "window_end_utc": max(iso(w[1]) for w in windows),
            "offense_types": sorted({s.offense_type for s in self.scenes if s.offense_type}),
            "limits": [{"offense_type": lim.offense_type, "max_radius_m": lim.max_radius_m,
                        "max_before_min": lim.max_before_min, "max_after_min": lim.max_after_min}
                       for lim in {lim.offense_type: lim for lim in self.limits}.values()],
            "over_limit": self.over_limit}
        if self.approval_id:
            out["approval_id"] = self.approval_id
        return out


def plan_scenes(ctx: Context, target: Any, at: Any, radius_m: float, before_min: float, after_min: float,
                offense_type: str | None, approval: Any) -> ScenesPlan:
    """Resolve the scenes and check the offense limits (and the approval) before any read is touched."""
    radius, before, after = check_extent(radius_m, before_min, after_min)
    _check_places(target, at)
    scenes = resolve_scenes(target, at=at, zone=ctx.config.zone,
                            lookup=lambda i: incident_records.get_incident(ctx.db, i))
    for scene in scenes:
        try:
            scene.window(before, after)
        except OverflowError:  # a scene at the edge of the calendar (year 1 or 9999)
            raise ValidationError(f"the window around {scene.label} ({iso(scene.start)[:10]}) runs past the "
                                  "calendar; give a time between years 1 and 9999") from None
    given = normalise_offense(offense_type) if offense_type else None
    limits: list[OffenseLimit] = []
    for k, scene in enumerate(scenes):
        if scene.offense_type is None:
            if given is None:
                raise ValidationError("a bare point or polygon needs offense_type=... (e.g. 'burglary'): it sets "
                                      "the largest radius and window allowed")
            scenes[k] = Scene(scene.label, scene.geometry, scene.start, scene.end, None, None, given)
        elif given is not None and given != scene.offense_type:
            raise ValidationError(f"incident {scene.incident_id} is recorded as a {scene.offense_type}, not a "
                                  f"{given}; leave offense_type out for incidents")
        limits.append(limit_for(ctx.config, scenes[k].offense_type))
    over = [(lim, why) for lim in limits if (why := lim.excess(radius, before, after))]
    plan = ScenesPlan(scenes=tuple(scenes), radius_m=radius, before_min=before, after_min=after,
                      limits=tuple(limits), over_limit=bool(over))
    if not over:
        return plan
    try:
        if approval is None:
            lim, why = over[0]
            raise AccessDenied(
                f"this canvass exceeds the department limit for a {lim.offense_type} ({', '.join(why)}); narrow "
                "it, or ask a supervisor to record an approval for this case (s.grant_approval(...)) and pass "
                "approval=<its id>")
        record = approval if isinstance(approval, approval_records.Approval) else \
            approval_records.get_approval(ctx.db, str(approval))
        for lim, _ in over:
            approval_records.check_request(
                record, limit=lim, case_number=ctx.case_number, analyst=ctx.user.username,
                incident_ids=[s.incident_id for s in scenes], radius_m=radius, before_min=before, after_min=after,
                now=ctx.now)
    except AlprError as exc:  # the refusal's record shows what was asked and which limits it broke
        exc.audit_elements.update(plan.audit_elements())
        raise
    return replace(plan, approval_id=record.approval_id)


def _check_places(target: Any, at: Any) -> None:
    """What the scene reader cannot say clearly itself: an open-ended ``at=(start, None)`` and an empty
    geometry (``POINT EMPTY`` has no coordinates to check)."""
    if isinstance(at, tuple | list) and len(at) == 2 and any(t is None for t in at):
        raise ValidationError("at=(start, end) needs both times, e.g. at=('2026-05-16 22:40', '2026-05-16 22:45')")
    for item in target if isinstance(target, list | tuple) else [target]:
        geometry = item if isinstance(item, BaseGeometry) else None
        if isinstance(item, str) and item.strip().upper().startswith(("POINT", "POLYGON", "MULTIPOLYGON")):
            try:
                geometry = shapely.from_wkt(item)
            except shapely.errors.ShapelyError:
                continue  # resolve_scenes says how to write WKT
        if geometry is not None and geometry.is_empty:
            raise ValidationError(f"the place {str(item)[:60]!r} is empty; give a point (lat, lon) or a polygon "
                                  "with coordinates")


def _approval_id(approval: Any) -> Any:
    return getattr(approval, "approval_id", approval)


@action("reads.canvass", permission="reads.canvass", namespace="analysis", method="canvass", needs_purpose=True,
        needs_case=True, aliases=("canvass",), result="geopandas.GeoDataFrame", rerun_if_files_move=True)
class Canvass(Request):
    """Reads within ``radius_m`` metres of a scene, from ``before_min`` minutes before it began to ``after_min``
    minutes after it ended (policy 462.3(c)), as a GeoDataFrame (EPSG:4326).

    ``incident_or_point``: an incident (or its id), a list of incidents (one row per read and scene), a
    ``(lat, lon)`` pair or a shapely Point/Polygon in lon/lat order with ``at=`` the time or ``(start, end)``.
    For a polygon the radius is a buffer around it (0: inside only). Columns include ``distance_m`` (0 inside a
    polygon), ``offset_min`` (negative before, 0 during, positive after) and ``hold`` (the legal holds keeping
    the read, else empty). A request beyond the department's
    limit for the offense needs ``approval=`` (see grant_approval)."""

    incident_or_point: Any
    radius_m: float
    before_min: float
    after_min: float
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None
    offense_type: str | None = None
    approval: Any = None
    at: Any = None

    def describe(self) -> dict[str, Any]:
        return {"target": str(self.incident_or_point)[:300], "at": str(self.at) if self.at is not None else None,
                "radius_m": self.radius_m, "before_min": self.before_min, "after_min": self.after_min,
                "offense_type": self.offense_type, "approval_id": _approval_id(self.approval)}

    def plan(self, ctx: Context) -> ScenesPlan:
        return plan_scenes(ctx, self.incident_or_point, self.at, self.radius_m, self.before_min, self.after_min,
                           self.offense_type, self.approval)

    def work(self, ctx: Context, plan: ScenesPlan) -> Result:
        found = canvass_reads(ctx.store, list(plan.scenes), plan.radius_m, plan.before_min, plan.after_min)
        gdf = to_geodataframe(with_holds(ctx, found))  # the legal holds on each read, as on every read shown
        gdf.attrs.update(radius_m=plan.radius_m, before_min=plan.before_min, after_min=plan.after_min,
                         scenes=plan.described(), case_number=ctx.case_number)
        plates = sorted(set(found.get_column("plate").to_list()))[:MAX_PLATES_AUDITED]
        return Result(gdf, found.height, {"plates_returned": plates})


@action("reads.multi_scene", permission="reads.analysis", namespace="analysis", method="multi_scene",
        needs_purpose=True, needs_case=True, aliases=("multi_scene",), result="polars.DataFrame",
        rerun_if_files_move=True)
class MultiScene(Request):
    """Vehicles read near at least ``min_scenes`` of the given incidents, each within its own window.

    Ranked by the number of scenes, then closeness (mean nearest distance), then time. With
    ``group_confusions=True`` plates differing only by OCR confusions count as one vehicle (``plates`` lists
    them). Each scene obeys the canvass limits of its offense."""

    incidents: Any
    radius_m: float
    before_min: float
    after_min: float
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None
    min_scenes: int = 2
    group_confusions: bool = False
    offense_type: str | None = None
    approval: Any = None
    at: Any = None

    def items(self) -> list[Any]:
        if isinstance(self.incidents, str) or not hasattr(self.incidents, "__iter__"):
            raise ValidationError("give the incidents as a list (at least two)")
        return list(self.incidents)

    def describe(self) -> dict[str, Any]:
        try:
            target = [str(i)[:120] for i in self.items()]
        except ValidationError:
            target = str(self.incidents)[:300]
        return {"target": target, "radius_m": self.radius_m, "before_min": self.before_min,
                "after_min": self.after_min, "min_scenes": self.min_scenes,
                "group_confusions": self.group_confusions, "offense_type": self.offense_type,
                "approval_id": _approval_id(self.approval)}

    def plan(self, ctx: Context) -> ScenesPlan:
        items = self.items()
        if len(items) < 2:
            raise ValidationError("multi-scene needs at least two incidents; use canvass for one")
        if not 1 <= self.min_scenes <= len(items):
            raise ValidationError(f"min_scenes must be between 1 and {len(items)} (the number of incidents)")
        return plan_scenes(ctx, items, self.at, self.radius_m, self.before_min, self.after_min, self.offense_type,
                           self.approval)

    def work(self, ctx: Context, plan: ScenesPlan) -> Result:
        hits = canvass_reads(ctx.store, list(plan.scenes), plan.radius_m, plan.before_min, plan.after_min)
        ranked = rank_vehicles(hits, min_scenes=self.min_scenes, group_confusions=self.group_confusions)
        plates = sorted({p for ps in ranked.get_column("plates").to_list() for p in ps})[:MAX_PLATES_AUDITED]
        return Result(ranked, ranked.height, {"plates_returned": plates})


@dataclass(frozen=True)
class VehiclePlan(Window):
    """One vehicle's analysis: the plate, the serious offense that allows it, and the time window."""

    plate: str = ""
    offense_type: str = ""

    def audit_elements(self) -> dict[str, Any]:
        return {**super().audit_elements(), "offense_type": self.offense_type}


def plan_vehicle(ctx: Context, plate: str, offense_type: str | None, start: TimeLike, end: TimeLike,
                 what: str) -> VehiclePlan:
    offense = require_serious(ctx.config, offense_type, what)
    target = full_plate(plate)
    window = window_plan(ctx, start, end)
    return VehiclePlan(window.start, window.end, target, offense)


@action("reads.convoy", permission="reads.analysis", namespace="analysis", method="convoy", needs_purpose=True,
        needs_case=True, review=True, aliases=("convoy",), result="polars.DataFrame", rerun_if_files_move=True)
class Convoy(Request):
    """Vehicles repeatedly read within ``gap_s`` seconds of ``plate`` at the same cameras (associates).

    Sensitive: needs a case number and a serious offense; the audit record is marked for review. Ranked by score
    (see :mod:`alpr_lib.analysis.convoy`), with the evidence (which reads, where) per vehicle."""

    plate: str
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None
    offense_type: str | None = None
    gap_s: float = 60
    min_co_occurrences: int = 3
    start: TimeLike = None
    end: TimeLike = None

    def describe(self) -> dict[str, Any]:
        return {"plate": self.plate, "offense_type": self.offense_type, "gap_s": self.gap_s,
                "min_co_occurrences": self.min_co_occurrences, **requested_window(self.start, self.end)}

    def plan(self, ctx: Context) -> VehiclePlan:
        plan = plan_vehicle(ctx, self.plate, self.offense_type, self.start, self.end, "convoy analysis")
        if not 1 <= self.gap_s <= 3600:
            raise ValidationError("gap_s must be between 1 and 3600 seconds")
        if self.min_co_occurrences < 1:
            raise ValidationError("min_co_occurrences must be at least 1")
        return plan

    def work(self, ctx: Context, plan: VehiclePlan) -> Result:
        reads = target_reads(ctx.store, plan.plate, plan.start, plan.end)
        found = convoy_candidates(ctx.store, reads, plan.plate, gap_s=self.gap_s,
                                  min_co_occurrences=self.min_co_occurrences)
        return Result(found, found.height, {
            "target_reads": reads.height, "plates_returned": found.get_column("plate").to_list()[:MAX_PLATES_AUDITED],
            "cameras": sorted(reads.get_column("camera_id").unique().to_list())})


@action("reads.frequent_locations", permission="reads.analysis", namespace="analysis", method="frequent_locations",
        needs_purpose=True, needs_case=True, review=True, aliases=("frequent_locations",),
        result="polars.DataFrame", rerun_if_files_move=True)
class FrequentLocations(Request):
    """Where one plate is usually seen: clusters of its reads by place, with counts per time of day.

    Sensitive: needs a case number and a serious offense; the audit record is marked for review."""

    plate: str
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None
    offense_type: str | None = None
    start: TimeLike = None
    end: TimeLike = None
    cluster_radius_m: float = 200
    min_reads: int = 2

    def describe(self) -> dict[str, Any]:
        return {"plate": self.plate, "offense_type": self.offense_type, "cluster_radius_m": self.cluster_radius_m,
                "min_reads": self.min_reads, **requested_window(self.start, self.end)}

    def plan(self, ctx: Context) -> VehiclePlan:
        plan = plan_vehicle(ctx, self.plate, self.offense_type, self.start, self.end, "frequent-location analysis")
        if not 10 <= self.cluster_radius_m <= 2000:
            raise ValidationError("cluster_radius_m must be between 10 and 2000 metres")
        return plan

    def work(self, ctx: Context, plan: VehiclePlan) -> Result:
        reads = target_reads(ctx.store, plan.plate, plan.start, plan.end)
        found = frequent_locations_of(reads, cluster_radius_m=self.cluster_radius_m, min_reads=self.min_reads)
        clusters = [{"lat": r["lat"], "lon": r["lon"], "reads": r["reads"]}
                    for r in found.head(20).iter_rows(named=True)]
        return Result(found, found.height, {"clusters": clusters})
