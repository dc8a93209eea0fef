"""The analysis methods of :class:`alpr_lib.session.Session` (mixed in), each a thin audited wrapper.

Every method passes through ``Session._access`` (permission, training, purpose, case number; audit record
written before anything is returned) with the geography and the time window as structured query elements.
Analysis adds two rules of its own, checked after the common ones and recorded as *denied* when they fail:
every analysis is tied to a case number, and a canvass beyond the offense limits needs a supervisor's
approval for that case; convoy and frequent-location analysis need a serious offense and are marked for
audit review (``"review": true``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from alpr_lib.analysis import approvals as approval_records
from alpr_lib.analysis import incidents as incident_records
from alpr_lib.analysis.canvass import canvass_reads
from alpr_lib.analysis.convoy import convoy_candidates, target_reads
from alpr_lib.analysis.frequent import frequent_locations_of
from alpr_lib.analysis.incidents import Incident
from alpr_lib.analysis.limits import OffenseLimit, limit_for, normalise_offense, require_serious
from alpr_lib.analysis.multiscene import rank_vehicles
from alpr_lib.analysis.scenes import Scene, check_extent, resolve_scenes
from alpr_lib.errors import AccessDenied, AlprError, AuthError, ValidationError
from alpr_lib.policy import check_case_number, check_permission, check_purpose, check_training
from alpr_lib.timeutil import TimeLike, iso, requested_window, resolved_window, time_window, utc_now

if TYPE_CHECKING:
    import geopandas as gpd

    from alpr_lib.auth.users import User
    from alpr_lib.store.store import Store

__all__ = ["AnalysisMethods"]

T = TypeVar("T")

_MAX_PLATES_AUDITED = 200


def _plate(plate: str) -> str:
    normal = "".join(ch for ch in str(plate).upper() if ch.isalnum())
    if len(normal) < 2 or not normal.isascii():
        raise ValidationError(f"{plate!r} is not a plate; give the full plate, e.g. 9FJR553")
    return normal


def to_geodataframe(frame: pl.DataFrame) -> gpd.GeoDataFrame:
    """Reads with lat/lon as a GeoDataFrame of points in EPSG:4326 (pandas, as kepler.gl wants)."""
    import geopandas as gpd

    pdf = frame.to_pandas()
    return gpd.GeoDataFrame(pdf, geometry=gpd.points_from_xy(pdf["lon"], pdf["lat"]), crs="EPSG:4326")


class AnalysisMethods:
    """Incidents, canvass, multi-scene, convoy and frequent locations, as Session methods."""

    store: Store
    user: User

    if TYPE_CHECKING:  # provided by Session
        def _access(self, action: str, permission: str, query: dict[str, Any], run: Callable[[], tuple[T, int]],
                    *, purpose: str | None = None, case_number: str | None = None, needs_purpose: bool = True,
                    needs_training: bool = True, rerun_if_files_move: bool = True) -> T: ...

        def _audit(self, action: str, query: dict[str, Any], *, purpose: str | None = None,
                   case_number: str | None = None, result_count: int | None = None, outcome: str = "allowed",
                   reason: str | None = None) -> None: ...

    # ------------------------------------------------------------------ the guarded door
    def _guarded(self, action: str, permission: str, query: dict[str, Any], run: Callable[[], tuple[T, int]],
                 guard: Callable[[], None], *, purpose: str | None, case_number: str | None) -> T:
        """``_access`` plus an analysis rule (``guard``) checked once the common checks pass."""
        cfg = self.store.config
        try:
            if getattr(self, "_ended", None):
                raise AuthError("session ended")  # _access below records the refusal
            check_permission(self.user, permission)
            check_training(self.store.db, self.user, self.store.kind, utc_now())
            canonical = check_purpose(cfg, purpose)
            check_case_number(cfg, canonical, case_number)
        except (AccessDenied, AuthError):
            pass  # _access below records and raises this denial in its usual words
        else:
            try:
                if case_number is None or not str(case_number).strip():
                    raise AccessDenied(f"{action} is tied to a case: give case_number='NN-NNNNNN' (policy 462.5(b))")
                guard()
            except AccessDenied as exc:
                self._audit(action, query, purpose=purpose, case_number=case_number, outcome="denied",
                            reason=str(exc))
                raise
            except AlprError as exc:
                self._audit(action, query, purpose=purpose, case_number=case_number, outcome="error",
                            reason=str(exc))
                raise
        return self._access(action, permission, query, run, purpose=purpose, case_number=case_number)

    # ------------------------------------------------------------------ incidents
    def create_incident(self, case_number: str, offense_type: str, occurred_at: TimeLike, *,
                        occurred_end: TimeLike = None, lat: float | None = None, lon: float | None = None,
                        polygon_wkt: str | None = None, location_name: str | None = None, summary: str = "",
                        exist_ok: bool = False) -> Incident:
        """Record an incident to canvass around: a point (lat, lon) or a polygon (WKT, lon/lat order).

        ``occurred_at``/``occurred_end`` are read in the department's zone unless they carry one. With
        ``exist_ok=True`` an identical incident already on record (same case, offense, time and place) is
        returned instead of a duplicate, so notebooks can be re-run.
        """
        query: dict[str, Any] = {"case_number": case_number, "offense_type": offense_type,
                                 "occurred_at": str(occurred_at), "occurred_end": str(occurred_end) if occurred_end
                                 else None, "lat": lat, "lon": lon, "polygon_wkt": polygon_wkt}

        def run() -> tuple[Incident, int]:
            try:
                case = check_case_number(self.store.config, "criminal investigation", case_number)
            except AccessDenied as exc:
                raise ValidationError(str(exc)) from None
            new = incident_records.make_incident(
                case_number=case or "", offense_type=offense_type, occurred_at=occurred_at,
                occurred_end=occurred_end, lat=lat, lon=lon, polygon_wkt=polygon_wkt, location_name=location_name,
                summary=summary, zone=self.store.config.zone, created_by=self.user.username, now=utc_now())
            same = [i for i in incident_records.find_incidents(self.store.db, case_number=new.case_number)
                    if i.offense_type == new.offense_type and i.occurred_start == new.occurred_start
                    and i.occurred_end == new.occurred_end and i.geometry.equals_exact(new.geometry, 1e-7)]
            if same:
                if not exist_ok:
                    raise ValidationError(f"incident {same[0].incident_id} already records this for case "
                                          f"{new.case_number}; use it, or pass exist_ok=True")
                query["incident_id"], query["existing"] = same[0].incident_id, True
                return same[0], 1
            incident_records.insert_incident(self.store.db, new)
            query["incident_id"], query["existing"] = new.incident_id, False
            return new, 1

        return self._access("incidents.create", "incidents.write", query, run, case_number=case_number,
                            needs_purpose=False)

    def incidents(self, *, case_number: str | None = None, offense_type: str | None = None) -> pl.DataFrame:
        """Recorded incidents (optionally of one case or offense), oldest first."""
        query = {"case_number": case_number, "offense_type": offense_type}

        def run() -> tuple[pl.DataFrame, int]:
            found = incident_records.find_incidents(self.store.db, case_number=case_number,
                                                    offense_type=offense_type)
            return incident_records.incidents_frame(found, self.store.config.timezone), len(found)

        return self._access("incidents.list", "reads.canvass", query, run, needs_purpose=False)

    def incident(self, incident_id: str) -> Incident:
        """One incident record by id (to pass to canvass or to a map)."""
        return self._access("incidents.get", "reads.canvass", {"incident_id": incident_id},
                            lambda: (incident_records.get_incident(self.store.db, incident_id), 1),
                            needs_purpose=False)

    # ------------------------------------------------------------------ approvals
    def grant_approval(self, case_number: str, *, analyst: str, offense_type: str, radius_m: float,
                       before_min: float, after_min: float, reason: str, incident_id: str | None = None,
                       valid_days: int = 7) -> str:
        """Record a supervisor's approval for ``analyst`` to canvass beyond the offense limit for this case.

        Returns the approval id the analyst passes as ``approval=``. Supervisors cannot approve themselves.
        """
        query: dict[str, Any] = {"case_number": case_number, "analyst": analyst, "offense_type": offense_type,
                                 "radius_m": radius_m, "before_min": before_min, "after_min": after_min,
                                 "incident_id": incident_id, "valid_days": valid_days, "reason": reason}

        def run() -> tuple[str, int]:
            from alpr_lib.auth.users import require_user

            try:
                case = check_case_number(self.store.config, "criminal investigation", case_number)
            except AccessDenied as exc:
                raise ValidationError(str(exc)) from None
            target = require_user(self.store.db, analyst)
            radius, before, after = check_extent(radius_m, before_min, after_min)
            if incident_id is not None:
                incident_records.get_incident(self.store.db, incident_id)
            approval = approval_records.make_approval(
                case_number=case or "", offense_type=offense_type, analyst=target.username,
                incident_id=incident_id, radius_m=radius, before_min=before, after_min=after, reason=reason,
                granted_by=self.user.username, now=utc_now(), valid_days=valid_days)
            approval_records.insert_approval(self.store.db, approval)
            query.update(approval_id=approval.approval_id, expires_at=iso(approval.expires_at))
            return approval.approval_id, 1

        return self._access("approvals.grant", "approvals.grant", query, run, case_number=case_number,
                            needs_purpose=False)

    # ------------------------------------------------------------------ canvass and multi-scene
    def _scenes_guard(self, target: Any, at: Any, radius_m: float, before_min: float, after_min: float,
                      offense_type: str | None, approval: Any, case_number: str | None, query: dict[str, Any],
                      holder: dict[str, Any]) -> Callable[[], None]:
        """Resolve the scenes and check the offense limits (and the approval) before any read is touched."""
        def guard() -> None:
            radius, before, after = check_extent(radius_m, before_min, after_min)
            scenes = resolve_scenes(target, at=at, zone=self.store.config.zone,
                                    lookup=lambda i: incident_records.get_incident(self.store.db, i))
            given = normalise_offense(offense_type) if offense_type else None
            limits: list[OffenseLimit] = []
            for k, scene in enumerate(scenes):
                if scene.offense_type is None:
                    if given is None:
                        raise ValidationError("a bare point or polygon needs offense_type=... (e.g. 'burglary'): "
                                              "it sets the largest radius and window allowed")
                    scenes[k] = Scene(scene.label, scene.geometry, scene.start, scene.end, None, None, given)
                elif given is not None and given != scene.offense_type:
                    raise ValidationError(f"incident {scene.incident_id} is recorded as a {scene.offense_type}, "
                                          f"not a {given}; leave offense_type out for incidents")
                limits.append(limit_for(self.store.config, scenes[k].offense_type))
            query.update(scenes=[s.describe(before, after) for s in scenes],
                         geography=[s.describe(before, after)["geometry"] for s in scenes],
                         window_start_utc=min(iso(s.window(before, after)[0]) for s in scenes),
                         window_end_utc=max(iso(s.window(before, after)[1]) for s in scenes),
                         offense_types=sorted({s.offense_type for s in scenes if s.offense_type}),
                         limits=[{"offense_type": lim.offense_type, "max_radius_m": lim.max_radius_m,
                                  "max_before_min": lim.max_before_min, "max_after_min": lim.max_after_min}
                                 for lim in {lim.offense_type: lim for lim in limits}.values()])
            over = [(lim, lim.excess(radius, before, after)) for lim in limits]
            over = [(lim, why) for lim, why in over if why]
            query["over_limit"] = bool(over)
            if over:
                if approval is None:
                    lim, why = over[0]
                    raise AccessDenied(
                        f"this canvass exceeds the department limit for a {lim.offense_type} ({', '.join(why)}); "
                        "narrow it, or ask a supervisor to record an approval for this case "
                        "(s.grant_approval(...)) and pass approval=<its id>")
                record = approval if isinstance(approval, approval_records.Approval) else \
                    approval_records.get_approval(self.store.db, str(approval))
                for lim, _ in over:
                    approval_records.check_request(
                        record, limit=lim, case_number=case_number, analyst=self.user.username,
                        incident_ids=[s.incident_id for s in scenes], radius_m=radius, before_min=before,
                        after_min=after, now=utc_now())
                query["approval_id"] = record.approval_id
            holder.update(scenes=scenes, radius=radius, before=before, after=after)

        return guard

    def canvass(self, incident_or_point: Any, radius_m: float, before_min: float, after_min: float, *,
                purpose: str | None, case_number: str | None, offense_type: str | None = None,
                approval: Any = None, at: TimeLike | tuple[TimeLike, TimeLike] = None) -> gpd.GeoDataFrame:
        """Reads within ``radius_m`` metres of a scene, from ``before_min`` minutes before it began to
        ``after_min`` minutes after it ended (policy 462.3(c)), as a GeoDataFrame (EPSG:4326).

        ``incident_or_point``: an incident (or its id), a list of incidents (one row per read and scene), a
        ``(lat, lon)`` pair or a shapely Point/Polygon in lon/lat order with ``at=`` the time or
        ``(start, end)``. For a polygon the radius is a buffer around it (0: inside only). Columns include
        ``distance_m`` (0 inside a polygon) and ``offset_min`` (negative before, 0 during, positive after).
        A request beyond the department's limit for the offense needs ``approval=`` (see grant_approval).
        """
        query: dict[str, Any] = {"target": str(incident_or_point)[:300], "at": str(at) if at is not None else None,
                                 "radius_m": radius_m, "before_min": before_min, "after_min": after_min,
                                 "offense_type": offense_type,
                                 "approval_id": getattr(approval, "approval_id", approval)}
        holder: dict[str, Any] = {}
        guard = self._scenes_guard(incident_or_point, at, radius_m, before_min, after_min, offense_type, approval,
                                   case_number, query, holder)

        def run() -> tuple[gpd.GeoDataFrame, int]:
            found = canvass_reads(self.store, holder["scenes"], holder["radius"], holder["before"], holder["after"])
            query["plates_returned"] = sorted(set(found.get_column("plate").to_list()))[:_MAX_PLATES_AUDITED]
            gdf = to_geodataframe(found)
            gdf.attrs.update(radius_m=holder["radius"], before_min=holder["before"], after_min=holder["after"],
                             scenes=query["scenes"], case_number=case_number)
            return gdf, found.height

        return self._guarded("reads.canvass", "reads.canvass", query, run, guard, purpose=purpose,
                             case_number=case_number)

    def multi_scene(self, incidents: Sequence[Any], radius_m: float, before_min: float, after_min: float, *,
                    purpose: str | None, case_number: str | None, min_scenes: int = 2,
                    group_confusions: bool = False, offense_type: str | None = None, approval: Any = None,
                    at: TimeLike | tuple[TimeLike, TimeLike] = None) -> pl.DataFrame:
        """Vehicles read near at least ``min_scenes`` of the given incidents, each within its own window.

        Ranked by the number of scenes, then closeness (mean nearest distance), then time. With
        ``group_confusions=True`` plates differing only by OCR confusions count as one vehicle (``plates``
        lists them). Each scene obeys the canvass limits of its offense.
        """
        items = list(incidents)
        query: dict[str, Any] = {"target": [str(i)[:120] for i in items], "radius_m": radius_m,
                                 "before_min": before_min, "after_min": after_min, "min_scenes": min_scenes,
                                 "group_confusions": group_confusions, "offense_type": offense_type,
                                 "approval_id": getattr(approval, "approval_id", approval)}
        holder: dict[str, Any] = {}
        scenes_guard = self._scenes_guard(items, at, radius_m, before_min, after_min, offense_type, approval,
                                          case_number, query, holder)

        def guard() -> None:
            if len(items) < 2:
                raise ValidationError("multi-scene needs at least two incidents; use canvass for one")
            if not 1 <= int(min_scenes) <= len(items):
                raise ValidationError(f"min_scenes must be between 1 and {len(items)} (the number of incidents)")
            scenes_guard()

        def run() -> tuple[pl.DataFrame, int]:
            hits = canvass_reads(self.store, holder["scenes"], holder["radius"], holder["before"], holder["after"])
            ranked = rank_vehicles(hits, min_scenes=int(min_scenes), group_confusions=group_confusions)
            query["plates_returned"] = sorted({p for ps in ranked.get_column("plates").to_list() for p in ps}
                                              )[:_MAX_PLATES_AUDITED]
            return ranked, ranked.height

        return self._guarded("reads.multi_scene", "reads.analysis", query, run, guard, purpose=purpose,
                             case_number=case_number)

    # ------------------------------------------------------------------ one vehicle (sensitive, reviewed)
    def convoy(self, plate: str, *, purpose: str | None, case_number: str | None, offense_type: str | None,
               gap_s: float = 60, min_co_occurrences: int = 3, start: TimeLike = None,
               end: TimeLike = None) -> pl.DataFrame:
        """Vehicles repeatedly read within ``gap_s`` seconds of ``plate`` at the same cameras (associates).

        Sensitive: needs a case number and a serious offense; the audit record is marked for review. Ranked
        by score (see :mod:`alpr_lib.analysis.convoy`), with the evidence (which reads, where) per vehicle.
        """
        query: dict[str, Any] = {"plate": plate, "offense_type": offense_type, "gap_s": gap_s,
                                 "min_co_occurrences": min_co_occurrences, **requested_window(start, end),
                                 "review": True}

        def guard() -> None:
            query["offense_type"] = require_serious(self.store.config, offense_type, "convoy analysis")
            if not 1 <= float(gap_s) <= 3600:
                raise ValidationError("gap_s must be between 1 and 3600 seconds")
            if int(min_co_occurrences) < 1:
                raise ValidationError("min_co_occurrences must be at least 1")

        def run() -> tuple[pl.DataFrame, int]:
            target = _plate(plate)
            lo, hi = time_window(start, end, self.store.config.zone)
            query.update(resolved_window(lo, hi))
            reads = target_reads(self.store, target, lo, hi)
            found = convoy_candidates(self.store, reads, target, gap_s=float(gap_s),
                                      min_co_occurrences=int(min_co_occurrences))
            query.update(target_reads=reads.height, plates_returned=found.get_column("plate").to_list()
                         [:_MAX_PLATES_AUDITED], cameras=sorted(reads.get_column("camera_id").unique().to_list()))
            return found, found.height

        return self._guarded("reads.convoy", "reads.analysis", query, run, guard, purpose=purpose,
                             case_number=case_number)

    def frequent_locations(self, plate: str, *, purpose: str | None, case_number: str | None,
                           offense_type: str | None, start: TimeLike = None, end: TimeLike = None,
                           cluster_radius_m: float = 200, min_reads: int = 2) -> pl.DataFrame:
        """Where one plate is usually seen: clusters of its reads by place, with counts per time of day.

        Sensitive: needs a case number and a serious offense; the audit record is marked for review.
        """
        query: dict[str, Any] = {"plate": plate, "offense_type": offense_type, "cluster_radius_m": cluster_radius_m,
                                 "min_reads": min_reads, **requested_window(start, end), "review": True}

        def guard() -> None:
            query["offense_type"] = require_serious(self.store.config, offense_type, "frequent-location analysis")
            if not 10 <= float(cluster_radius_m) <= 2000:
                raise ValidationError("cluster_radius_m must be between 10 and 2000 metres")

        def run() -> tuple[pl.DataFrame, int]:
            target = _plate(plate)
            lo, hi = time_window(start, end, self.store.config.zone)
            query.update(resolved_window(lo, hi))
            reads = target_reads(self.store, target, lo, hi)
            found = frequent_locations_of(reads, cluster_radius_m=float(cluster_radius_m), min_reads=int(min_reads))
            query["clusters"] = [{"lat": r["lat"], "lon": r["lon"], "reads": r["reads"]}
                                 for r in found.head(20).iter_rows(named=True)]
            return found, found.height

        return self._guarded("reads.frequent_locations", "reads.analysis", query, run, guard, purpose=purpose,
                             case_number=case_number)


