"""Plate reads: search by full or partial plate, one plate's history, one read, ingest (policy 462.3(c), 462.4)."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from alpr_lib.access.actions import NoPlan, Plan, Request, Result, action, jsonable, local_files
from alpr_lib.access.door import Context
from alpr_lib.errors import IngestError, NotFound, ValidationError
from alpr_lib.hotlists.at_ingest import AlertsAtIngest
from alpr_lib.hotlists.encounters import Recorded
from alpr_lib.normalise import PLATE_SEPARATORS, full_plate
from alpr_lib.records import corrections
from alpr_lib.retention.ages import ELEMENT as AGE_ELEMENT
from alpr_lib.retention.ages import age_bands
from alpr_lib.retention.holds import active_holds
from alpr_lib.search import plates as plate_search
from alpr_lib.search.patterns import PlatePattern, parse_pattern
from alpr_lib.store.ingest import IngestReport, ingest_frame, load_batch
from alpr_lib.store.schema import READ_SCHEMA
from alpr_lib.timeutil import TimeLike, iso, requested_window, resolved_window, time_window

#: plates listed in one audit record (the count is always complete)
MAX_PLATES_AUDITED = 200


@dataclass(frozen=True)
class Window(Plan):
    """A resolved half-open UTC time window."""

    start: Any = None
    end: Any = None

    def audit_elements(self) -> dict[str, Any]:
        return resolved_window(self.start, self.end)


def window_plan(ctx: Context, start: TimeLike, end: TimeLike) -> Window:
    lo, hi = time_window(start, end, ctx.config.zone)
    return Window(lo, hi)


@action("reads.search", permission="reads.search", namespace="reads", method="search", needs_purpose=True,
        aliases=("search_plates",), result="polars.DataFrame", rerun_if_files_move=True)
class SearchPlates(Request):
    """Reads whose plate matches a full or partial pattern (policy 462.3(c)), best matches first.

    ``?`` is one unknown character, ``*`` any run, ``[B8]`` a set. OCR confusions (0/O/D/Q, 1/I/L/T, 8/B, ...)
    match too unless ``exact=True``; exact-character matches rank first, then the most recent. A date or
    naive time is in the department's zone; an end date includes that whole day."""

    pattern: str
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None
    start: TimeLike = None
    end: TimeLike = None
    region: str | tuple[str, ...] | None = None
    cameras: tuple[str, ...] | None = None
    exact: bool = False

    def regions(self) -> list[str] | None:
        if self.region is None:
            return None
        return [self.region] if isinstance(self.region, str) else list(self.region) or None

    def describe(self) -> dict[str, Any]:
        return {"plate_pattern": self.pattern, "exact": self.exact, **requested_window(self.start, self.end),
                "region": self.regions(), "cameras": list(self.cameras) if self.cameras else None}

    def plan(self, ctx: Context) -> Window:
        # str.upper() would make 'ß' 'SS' and the ligature 'ﬁ' 'FI': a plate nobody typed (see normalise.py)
        if not re.sub(PLATE_SEPARATORS, "", self.pattern).isascii():
            raise ValidationError(f"pattern {self.pattern[:40]!r} has characters outside A-Z and 0-9; type the "
                                  "plate in Latin letters and digits, ? for one unknown, * for any")
        parse_pattern(self.pattern)  # a bad pattern is refused before any read is touched
        return window_plan(ctx, self.start, self.end)

    def work(self, ctx: Context, plan: Window) -> Result:
        matched = plate_search.match_plates(ctx.store, parse_pattern(self.pattern), exact=self.exact,
                                            start=plan.start, end=plan.end)
        cameras = list(self.cameras) if self.cameras else None
        found = plate_search.reads_of_plates(ctx.store, matched, start=plan.start, end=plan.end,
                                             regions=self.regions(), cameras=cameras)
        corrected = plate_search.corrected_reads(
            ctx.store, plate_search.match_corrections(ctx.store, parse_pattern(self.pattern), exact=self.exact),
            start=plan.start, end=plan.end, regions=self.regions(), cameras=cameras)
        found = with_holds(ctx, plate_search.with_corrected(found, corrected))
        plates = sorted(set(found.get_column("plate").to_list()))[:MAX_PLATES_AUDITED]
        return Result(found, found.height, {"plates_returned": plates, AGE_ELEMENT: age_bands(found, ctx.now)})


@action("reads.history", permission="reads.history", namespace="reads", method="history", needs_purpose=True,
        aliases=("plate_history",), result="polars.DataFrame", rerun_if_files_move=True)
class PlateHistory(Request):
    """Every read of one plate, newest first."""

    plate: str
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None
    start: TimeLike = None
    end: TimeLike = None

    def describe(self) -> dict[str, Any]:
        return {"plate": self.plate, **requested_window(self.start, self.end)}

    def plan(self, ctx: Context) -> Window:
        # a pattern would otherwise only be "not a plate"; say what to use instead (refused, and audited, here)
        if isinstance(self.plate, str) and any(ch in self.plate for ch in "?*[]"):
            raise ValidationError(
                f"{self.plate[:40]!r} is a pattern: plate history takes one full plate, e.g. 7ABC123. To search with "
                "wildcards (?, *, [..]) use s.search_plates(...) in a notebook or `alpr search` on the command line")
        full_plate(self.plate, hint="use search_plates for partial plates")
        return window_plan(ctx, self.start, self.end)

    def work(self, ctx: Context, plan: Window) -> Result:
        normal = full_plate(self.plate)
        matched = plate_search.match_plates(ctx.store, PlatePattern.exact(normal), exact=True, start=plan.start,
                                            end=plan.end)
        found = plate_search.reads_of_plates(ctx.store, matched, start=plan.start, end=plan.end)
        corrected = plate_search.corrected_reads(
            ctx.store, {row["read_id"]: 0 for row in corrections.find_by_plates(ctx.db, [normal])},
            start=plan.start, end=plan.end)
        found = with_holds(ctx, plate_search.with_corrected(found, corrected).sort("captured_at", descending=True))
        return Result(found.drop("match", "substitutions"), found.height, {AGE_ELEMENT: age_bands(found, ctx.now)})


@action("reads.correct", permission="reads.search", namespace="reads", method="correct", needs_purpose=True,
        aliases=("correct_read",), result="dict", rerun_if_files_move=True)
class CorrectRead(Request):
    """Mark a read as misread and record its corrected plate. The stored read keeps its original plate; a
    search or plate history of either text finds the read (``match`` "corrected" through the correction). A
    second correction of the same read replaces the corrected text."""

    read_id: str
    corrected_plate: str
    _: KW_ONLY
    note: str | None = None
    purpose: str | None = None
    case_number: str | None = None

    def plan(self, ctx: Context) -> Plan:
        if not isinstance(self.read_id, str) or not self.read_id.strip():
            raise ValidationError(f"read_id must be a read's id (text), not {self.read_id!r:.40}")
        full_plate(self.corrected_plate, hint="the corrected plate is one full plate")
        return NoPlan

    def work(self, ctx: Context, plan: Plan) -> Result:
        found = plate_search.read_by_id(ctx.store, self.read_id)
        if found.height == 0:
            raise NotFound(f"no read with id {self.read_id[:80]!r}")
        read = found.row(0, named=True)
        original, corrected = read["plate"], full_plate(self.corrected_plate)
        if corrected == original:
            raise ValidationError(f"read {self.read_id[:80]!r} already reads {original}; give the plate it should "
                                  "have read")
        elements: dict[str, Any] = {"read_id": self.read_id, "original_plate": original,
                                    "corrected_plate": corrected}
        with ctx.db.transaction() as tx:
            before = corrections.get(tx, self.read_id)
            if before is not None:
                elements["replaced_corrected_plate"] = before["corrected_plate"]
            row = {"read_id": self.read_id, "original_plate": original, "corrected_plate": corrected,
                   "captured_at": iso(read["captured_at"]), "corrected_by": ctx.user.username,
                   "corrected_at": iso(ctx.now), "note": self.note}
            corrections.put(tx, row)
            result = Result(row, 1, elements)
            ctx.audit_in(tx, result)  # the correction and its record commit together
        return result


@action("reads.details", permission="reads.details", namespace="reads", method="details", needs_purpose=True,
        aliases=("read_details",), result="dict", rerun_if_files_move=True)
class ReadDetails(Request):
    """One read with all its fields, and its image bytes when the store holds the image."""

    read_id: str
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None

    def work(self, ctx: Context, plan: Plan) -> Result:
        found = plate_search.read_by_id(ctx.store, self.read_id)
        if found.height == 0:
            raise NotFound(f"no read with id {self.read_id!r}")
        record = with_holds(ctx, found).row(0, named=True)
        record["image"] = stored_image(ctx, record.get("image_ref"))
        return Result(record, 1)


#: The most reads one thumbnails call looks up (one audited call for a page of results, not a bulk export).
MAX_THUMBNAILS = 200


@action("reads.thumbnails", permission="reads.details", namespace="reads", method="thumbnails",
        needs_purpose=True, aliases=("read_thumbnails",), result="dict", rerun_if_files_move=True)
class ReadThumbnails(Request):
    """The stored plate images of up to 200 reads, by read id, in one audited call: pass them to
    ``alpr_lib.viz.show(frame, images=...)`` to see the crops in the table. Reads without a stored image are
    left out."""

    read_ids: tuple[str, ...]
    _: KW_ONLY
    purpose: str | None = None
    case_number: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"reads_asked": len(self.read_ids)}

    def plan(self, ctx: Context) -> Plan:
        if len(self.read_ids) > MAX_THUMBNAILS:
            raise ValidationError(f"at most {MAX_THUMBNAILS} thumbnails per call (a page of results), not "
                                  f"{len(self.read_ids)}; pass frame['read_id'].head({MAX_THUMBNAILS})")
        return Plan()

    def work(self, ctx: Context, plan: Plan) -> Result:
        found = plate_search.reads_by_ids(ctx.store, list(self.read_ids)) if self.read_ids else None
        images: dict[str, bytes] = {}
        for row in found.select("read_id", "image_ref").iter_rows(named=True) if found is not None else ():
            data = stored_image(ctx, row["image_ref"])
            if data is not None:
                images[row["read_id"]] = data
        return Result(images, len(images), {"read_ids_with_images": sorted(images)})


def with_holds(ctx: Context, found: pl.DataFrame) -> pl.DataFrame:
    """``found`` plus the additive ``hold`` column: the legal holds keeping each read (", "-joined), else null
    (issue 13: holds are shown wherever a read is shown)."""
    return found.with_columns(active_holds(ctx.db).labels(found))


def stored_image(ctx: Context, ref: str | None) -> bytes | None:
    """The bytes of a ``store:`` image or crop reference, if it names a file inside the store's images folder."""
    if not ref or not ref.startswith("store:"):
        return None
    images = ctx.store.images_dir.resolve()
    path = (images / ref.removeprefix("store:")).resolve()
    if images not in path.parents or not path.is_file():
        return None
    return path.read_bytes()


@action("reads.ingest", permission="reads.ingest", namespace="reads", method="ingest", aliases=("ingest_reads",),
        result="IngestReport")
class IngestReads(Request):
    """Validate and add a batch of reads (CSV, Parquet or DataFrame) atomically (policy 462.4).

    ``images`` optionally maps read ids to their image (bytes or a file, e.g. a plate crop); the store keeps a
    copy, which ``reads.details`` returns."""

    source: str | os.PathLike | pl.DataFrame
    _: KW_ONLY
    source_name: str | None = None
    progress: bool = True
    images: dict | None = local_files()  # over the API, files named here are uploaded

    def describe(self) -> dict[str, Any]:
        given = "dataframe" if isinstance(self.source, pl.DataFrame) else str(self.source)
        return {"source": self.source_name or given}

    def plan(self, ctx: Context) -> Plan:
        """Refuse a source file or an image that cannot be read before the batch is touched."""
        if isinstance(self.source, pl.DataFrame):
            _scalar_columns(self.source.schema)
        else:
            _readable_file("source", self.source)
            if Path(self.source).suffix.lower() in (".parquet", ".pq"):
                try:
                    schema = pl.read_parquet_schema(self.source)
                except Exception:  # an unreadable file is the work's to report (load_batch)
                    schema = {}
                _scalar_columns(schema)
        for read_id, image in (self.images or {}).items():
            if not isinstance(read_id, str):
                raise ValidationError(f"images maps read ids (text) to images; {read_id!r:.40} is not a read id")
            if isinstance(image, str | os.PathLike):
                _readable_file(f"images[{read_id[:40]!r}]", image)
            elif image is not None and not isinstance(image, bytes):
                raise ValidationError(f"images[{read_id[:40]!r}] must be the image's bytes or its file, not "
                                      f"{type(image).__name__}")
        return NoPlan

    def work(self, ctx: Context, plan: Plan) -> Result:
        frame, name, digest = load_batch(self.source if isinstance(self.source, pl.DataFrame) else Path(self.source),
                                         expected_kind=ctx.store.kind)
        hotlists = AlertsAtIngest(ctx.db, ctx.config, ctx.store.store_id, ctx.now)  # matched before live
        report: IngestReport = ingest_frame(
            ctx.store, frame, username=ctx.user.username, source_name=self.source_name or name,
            content_sha256=digest, progress=self.progress, images=self.images, match=hotlists.match,
            on_commit=lambda tx, pending: ctx.audit_in(tx, _ingest_result(pending, hotlists.commit(tx))))
        hotlists.notify()  # one transaction above: reads, alerts, audit record
        return _ingest_result(dataclasses.replace(report, alerts_raised=hotlists.recorded.raised),
                              hotlists.recorded)


#: the store's read columns (and the batch's kind) hold one plain value per row
_READ_COLUMNS = (*READ_SCHEMA, "store_kind")


def _scalar_columns(schema: Any) -> None:
    """Refuse a batch whose read columns hold lists, structs, Python objects, bytes or durations: no row of
    them can become a read, and the row checks can only compare plain values."""
    for column in _READ_COLUMNS:
        dtype = schema.get(column)
        if dtype is None:
            continue
        if dtype.is_nested() or isinstance(dtype, pl.Object | pl.Duration | pl.Time | pl.Binary):
            raise ValidationError(f"column {column!r} holds {dtype} values; each row needs one plain value "
                                  "(text, a number, a date or a date and time) in it")


def _readable_file(name: str, path: str | os.PathLike) -> None:
    """A path the user gave that names a readable file, or ValidationError saying what is wrong with it."""
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise ValidationError(f"{name} must be a file path (or a DataFrame), not {text!r:.80}")
    try:
        if not Path(text).is_file():
            raise IngestError(f"{text[:200]}: no such file")
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise ValidationError(f"{name}: cannot use {text[:200]!r} as a file: {exc.strerror or exc}") from None


def _ingest_result(report: IngestReport, alerts: Recorded | None = None) -> Result:
    return Result(report, report.ingested, jsonable({
        "batch_id": report.batch_id, "rows_in": report.rows_in, "rejected": report.rejected_rows,
        "duplicates": report.duplicates, "already_ingested": report.already_ingested,
        "past_retention": report.past_retention,
        "alerts_raised": alerts.raised if alerts else 0, "alerts_updated": len(alerts.updated) if alerts else 0}))
