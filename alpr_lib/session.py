"""The Session: who is asking, and the only door to the data.

Every method takes and returns plain data (patterns, times, numbers in; polars DataFrames out) so a later
multi-user deployment can serve the same calls over HTTP. Each data access runs the policy checks in
:mod:`alpr_lib.policy`, does the work, and writes its audit record *before* returning anything; denied and
failed attempts are recorded too (Civil Code 1798.90.52, policy 462.5(a)).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from alpr_lib.analysis.session_api import AnalysisMethods
from alpr_lib.audit.events import AuditRecord
from alpr_lib.audit.log import VerifyResult
from alpr_lib.auth import certifications, users
from alpr_lib.auth.certifications import DEFAULT_COURSE
from alpr_lib.auth.users import User
from alpr_lib.errors import AccessDenied, AlprError, AuthError, NotFound, ValidationError
from alpr_lib.policy import check_case_number, check_permission, check_purpose, check_training
from alpr_lib.search import plates as plate_search
from alpr_lib.search.patterns import PlatePattern, parse_pattern
from alpr_lib.store import cameras as camera_registry
from alpr_lib.store.compact import COMPACT_MAX_ROWS, SMALL_FILES_MERGE_AT, compact_days
from alpr_lib.store.ingest import IngestReport, ingest_frame, load_batch
from alpr_lib.store.store import Store
from alpr_lib.timeutil import (
    TimeLike,
    iso,
    parse_instant,
    requested_window,
    resolved_window,
    time_window,
    utc_now,
)

__all__ = ["Session"]

T = TypeVar("T")


def _rerun_if_files_move(run: Callable[[], tuple[T, int]], data_dirs: tuple[Path, ...],
                         attempts: int = 3) -> tuple[T, int]:
    """``run()``, again if a data file it listed (under one of ``data_dirs``) vanished under it (see
    :meth:`Session._access`). Any other missing file, e.g. a path the user gave, is an error at once."""
    for attempt in range(1, attempts + 1):
        try:
            return run()
        except FileNotFoundError as exc:
            text = f"{exc.filename or ''} {exc}"
            if attempt == attempts or not any(str(d) in text for d in data_dirs):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


class Session(AnalysisMethods):
    """An authenticated user's session on one store. Obtain one with :func:`alpr_lib.login`."""

    def __init__(self, store: Store, user: User, *, client: str, session_id: str | None = None) -> None:
        self.store = store
        self.user = user
        self.client = client
        self.session_id = session_id or uuid.uuid4().hex
        self.started_at = utc_now()
        self._last_seen = self.started_at
        self._ended: str | None = None
        #: True when this login completed a forced password change (set by :func:`alpr_lib.login`).
        self.password_changed_at_login = False

    # ----------------------------------------------------------------- identity and lifetime
    @property
    def username(self) -> str:
        return self.user.username

    @property
    def store_kind(self) -> str:
        return self.store.kind

    def __repr__(self) -> str:
        state = f"ended ({self._ended})" if self._ended else "active"
        return (f"<Session {self.user.username} ({self.user.title}, {self.user.organisation}) "
                f"on {self.store.banner()}, {state}>")

    def _repr_markdown_(self) -> str:
        return f"**Logged in** as `{self.user.username}` ({self.user.title}) — {self.store.banner()}"

    def _check_alive(self, now: datetime) -> None:
        if self._ended:
            raise AuthError(f"this session has ended ({self._ended}); log in again with alpr.login()")
        cfg = self.store.config
        reason = None
        if now - self.started_at > timedelta(hours=cfg.session_max_hours):
            reason = f"it is more than {cfg.session_max_hours} hours old"
        elif now - self._last_seen > timedelta(minutes=cfg.session_idle_minutes):
            reason = f"it was idle for more than {cfg.session_idle_minutes} minutes"
        if reason:
            self._end(f"expired: {reason}")
            raise AuthError(f"your session expired because {reason}; log in again with alpr.login()")
        self._last_seen = now
        self.store.db.execute("UPDATE sessions SET last_seen_at = ? WHERE session_id = ?",
                              (iso(now), self.session_id))

    def _end(self, reason: str) -> None:
        self._ended = reason
        self.store.db.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE session_id = ?",
                              (iso(utc_now()), reason, self.session_id))

    def logout(self) -> None:
        """End the session (recorded in the audit log)."""
        if not self._ended:
            self._audit("logout", {}, outcome="allowed")
            self._end("logged out")

    def purposes(self) -> list[dict[str, Any]]:
        """The department's authorised purposes (for forms): name, whether a case number is needed."""
        return [{"name": p.name, "requires_case": p.requires_case, "description": p.description}
                for p in self.store.config.purposes]

    # ----------------------------------------------------------------- the audited door
    def _audit(self, action: str, query: dict[str, Any], *, purpose: str | None = None,
               case_number: str | None = None, result_count: int | None = None, outcome: str = "allowed",
               reason: str | None = None) -> None:
        self.store.audit.append(AuditRecord(
            time=iso(utc_now()), username=self.user.username, organisation=self.user.organisation,
            action=action, query=query, purpose=purpose, case_number=case_number, result_count=result_count,
            client=self.client, outcome=outcome, reason=reason, session_id=self.session_id,
            store_kind=self.store.kind,
        ))

    def _access(self, action: str, permission: str, query: dict[str, Any], run: Callable[[], tuple[T, int]],
                *, purpose: str | None = None, case_number: str | None = None, needs_purpose: bool = True,
                needs_training: bool = True, rerun_if_files_move: bool = True) -> T:
        """Check policy, run, audit, return: the one path every access takes.

        A reader lists the live files, then opens them; an ingest merging small files (or a compaction)
        in between may delete a listed file, which is no longer live. Such a run is re-run (it lists again),
        up to three times, when the missing file is one of the store's data files; ``rerun_if_files_move`` is
        False for the writers themselves."""
        now = utc_now()
        try:
            self._check_alive(now)
            check_permission(self.user, permission)
            if needs_training:
                check_training(self.store.db, self.user, self.store.kind, now)
            if needs_purpose:
                purpose = check_purpose(self.store.config, purpose)
                case_number = check_case_number(self.store.config, purpose, case_number)
        except (AccessDenied, AuthError) as exc:
            self._audit(action, query, purpose=purpose, case_number=case_number, outcome="denied",
                        reason=str(exc))
            raise
        try:
            data_dirs = (self.store.reads_dir, self.store.index_dir)
            value, count = _rerun_if_files_move(run, data_dirs) if rerun_if_files_move else run()
        except Exception as exc:
            text = str(exc) if isinstance(exc, AlprError) else f"{type(exc).__name__}: {exc}"
            self._audit(action, query, purpose=purpose, case_number=case_number, outcome="error", reason=text)
            raise
        self._audit(action, query, purpose=purpose, case_number=case_number, result_count=count)
        return value

    # ----------------------------------------------------------------- plate reads
    def search_plates(self, pattern: str, *, purpose: str | None = None, case_number: str | None = None,
                      start: TimeLike = None, end: TimeLike = None, region: str | Sequence[str] | None = None,
                      cameras: Sequence[str] | None = None, exact: bool = False) -> pl.DataFrame:
        """Reads whose plate matches a full or partial pattern (policy 462.3(c)), best matches first.

        ``?`` is one unknown character, ``*`` any run, ``[B8]`` a set. OCR confusions (0/O/D/Q, 1/I/L/T,
        8/B, ...) match too unless ``exact=True``; exact-character matches rank first, then the most recent.
        A date or naive time is in the department's zone; an end date includes that whole day.
        """
        regions = [region] if isinstance(region, str) else (list(region) if region else None)
        query: dict[str, Any] = {"plate_pattern": pattern, "exact": exact, **requested_window(start, end),
                                 "region": regions, "cameras": list(cameras) if cameras else None}

        def run() -> tuple[pl.DataFrame, int]:
            parsed = parse_pattern(pattern)
            lo, hi = time_window(start, end, self.store.config.zone)
            query.update(resolved_window(lo, hi))
            matched = plate_search.match_plates(self.store, parsed, exact=exact, start=lo, end=hi)
            found = plate_search.reads_of_plates(self.store, matched, start=lo, end=hi, regions=regions,
                                                 cameras=cameras)
            query["plates_returned"] = sorted(set(found.get_column("plate").to_list()))[:200]
            return found, found.height

        return self._access("reads.search", "reads.search", query, run, purpose=purpose,
                            case_number=case_number)

    def plate_history(self, plate: str, *, purpose: str | None = None, case_number: str | None = None,
                      start: TimeLike = None, end: TimeLike = None) -> pl.DataFrame:
        """Every read of one plate, newest first."""
        query: dict[str, Any] = {"plate": plate, **requested_window(start, end)}

        def run() -> tuple[pl.DataFrame, int]:
            normal = "".join(ch for ch in str(plate).upper() if ch.isalnum())
            if len(normal) < 2 or not normal.isascii():
                raise ValidationError(f"{plate!r} is not a plate; give the full plate, e.g. 7ABC123 "
                                      "(use search_plates for partial plates)")
            lo, hi = time_window(start, end, self.store.config.zone)
            query.update(resolved_window(lo, hi))
            matched = plate_search.match_plates(self.store, PlatePattern.exact(normal), exact=True,
                                                start=lo, end=hi)
            found = plate_search.reads_of_plates(self.store, matched, start=lo, end=hi)
            return found.drop("match", "substitutions"), found.height

        return self._access("reads.history", "reads.history", query, run, purpose=purpose,
                            case_number=case_number)

    def read_details(self, read_id: str, *, purpose: str | None = None,
                     case_number: str | None = None) -> dict[str, Any]:
        """One read with all its fields, and its image bytes when the store holds the image."""
        def run() -> tuple[dict[str, Any], int]:
            found = plate_search.read_by_id(self.store, str(read_id))
            if found.height == 0:
                raise NotFound(f"no read with id {read_id!r}")
            record = found.row(0, named=True)
            record["image"] = self._image_bytes(record.get("image_ref"))
            return record, 1

        return self._access("reads.details", "reads.details", {"read_id": read_id}, run, purpose=purpose,
                            case_number=case_number)

    def _image_bytes(self, ref: str | None) -> bytes | None:
        if not ref or not ref.startswith("store:"):
            return None
        path = (self.store.images_dir / ref.removeprefix("store:")).resolve()
        if self.store.images_dir.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()

    def ingest_reads(self, source: str | os.PathLike | pl.DataFrame, *, source_name: str | None = None,
                     progress: bool = True, images: Mapping[str, bytes | os.PathLike | str] | None = None
                     ) -> IngestReport:
        """Validate and add a batch of reads (CSV, Parquet or DataFrame) atomically (policy 462.4).

        ``images`` optionally maps read ids to their image (bytes or a file, e.g. a plate crop); the store
        keeps a copy, which :meth:`read_details` returns."""
        query: dict[str, Any] = {"source": source_name or (str(source) if not isinstance(source, pl.DataFrame)
                                                           else "dataframe")}

        def run() -> tuple[IngestReport, int]:
            frame, name, digest = load_batch(source, expected_kind=self.store.kind)
            report = ingest_frame(self.store, frame, username=self.user.username,
                                  source_name=source_name or name, content_sha256=digest, progress=progress,
                                  images=images)
            query.update(batch_id=report.batch_id, rows_in=report.rows_in, rejected=report.rejected_rows,
                         duplicates=report.duplicates, already_ingested=report.already_ingested)
            return report, report.ingested

        return self._access("reads.ingest", "reads.ingest", query, run, needs_purpose=False,
                            rerun_if_files_move=False)

    def register_cameras(self, cameras: pl.DataFrame) -> int:
        """Add or update cameras in the registry (id, name, fixed or mobile, location, agency)."""
        def run() -> tuple[int, int]:
            count = camera_registry.upsert(self.store.db, cameras)
            return count, count

        return self._access("cameras.register", "reads.ingest", {"cameras": cameras.height}, run,
                            needs_purpose=False)

    def cameras(self) -> pl.DataFrame:
        """The camera registry (no plate data)."""
        def run() -> tuple[pl.DataFrame, int]:
            frame = camera_registry.load(self.store.db)
            return frame, frame.height

        return self._access("cameras.list", "store.summary", {}, run, needs_purpose=False,
                            needs_training=False)

    def compact_store(self, *, progress: bool = True) -> dict[str, int]:
        """Merge each day's small ingest files into one (administrators, ingest operators)."""
        def run() -> tuple[dict[str, int], int]:
            result = compact_days(self.store, progress=progress)
            return result, result["files_merged"]

        return self._access("store.compact", "reads.ingest", {}, run, needs_purpose=False,
                            rerun_if_files_move=False)

    def store_summary(self) -> dict[str, Any]:
        """Counts about the store (no plate data): reads, days, distinct plates, last ingest."""
        def run() -> tuple[dict[str, Any], int]:
            db = self.store.db
            files = db.query("SELECT count(*) AS n, coalesce(sum(rows), 0) AS reads, min(partition) AS first, "
                             "max(partition) AS last FROM store_files WHERE kind='reads' AND live=1")[0]
            last = db.query("SELECT committed_at FROM ingest_batches ORDER BY committed_at DESC LIMIT 1")
            per_bucket = db.query("SELECT count(*) AS n, sum(rows < ?) AS unmerged FROM store_files "
                                  "WHERE kind='by_plate' AND live=1 GROUP BY partition ORDER BY n DESC",
                                  (COMPACT_MAX_ROWS // 2,))
            most = per_bucket[0]["n"] if per_bucket else 0
            most_unmerged = max((row["unmerged"] for row in per_bucket), default=0)
            return {"store": self.store.banner(), "kind": self.store.kind, "reads": files["reads"],
                    "files": files["n"], "first_day": files["first"], "last_day": files["last"],
                    "last_ingest": last[0]["committed_at"] if last else None,
                    "most_files_in_a_plate_bucket": most,
                    # searches open every file of a bucket: past a handful of files that compaction would
                    # merge, `alpr compact` pays for itself
                    "compaction_advised": most_unmerged > SMALL_FILES_MERGE_AT}, 0

        return self._access("store.summary", "store.summary", {}, run, needs_purpose=False,
                            needs_training=False)

    # ----------------------------------------------------------------- administration (462.2.1, 462.8)
    def add_user(self, username: str, *, full_name: str, title: str, organisation: str, roles: Sequence[str],
                 password: str, member_type: str = "member", must_change_password: bool = True) -> User:
        """Create an account. Members must change the given password at first login; only a synthetic
        (demo) store may skip that, so demo credentials work headless."""
        query = {"target_user": username, "roles": list(roles), "member_type": member_type, "title": title}

        def run() -> tuple[User, int]:
            if not must_change_password and not self.store.synthetic and member_type != "service":
                raise ValidationError("only demo stores may create members without a forced password change")
            return users.create_user(
                self.store.db, self.store.config, username=username, full_name=full_name, title=title,
                organisation=organisation, roles=roles, password=password, created_by=self.user.username,
                member_type=member_type, must_change_password=must_change_password and member_type != "service"
            ), 1

        return self._access("users.add", "users.manage", query, run, needs_purpose=False, needs_training=False)

    def set_user_disabled(self, username: str, disabled: bool = True) -> None:
        action = "users.disable" if disabled else "users.enable"
        self._access(action, "users.manage", {"target_user": username},
                     lambda: (users.set_disabled(self.store.db, username, disabled), 1),
                     needs_purpose=False, needs_training=False)

    def reset_password(self, username: str, new_password: str) -> None:
        """Set a temporary password the user must change at next login."""
        self._access("users.reset_password", "users.manage", {"target_user": username},
                     lambda: (users.set_password(self.store.db, self.store.config, username, new_password,
                                                 must_change=True), 1),
                     needs_purpose=False, needs_training=False)

    def designate(self, designation: str, username: str, *, title: str) -> None:
        """Record a designation such as the ALPR administrator's designee (462.2.1(e))."""
        self._access("users.designate", "users.manage",
                     {"designation": designation, "target_user": username, "title": title},
                     lambda: (users.designate(self.store.db, designation, username, title, self.user.username),
                              1), needs_purpose=False, needs_training=False)

    def users(self) -> pl.DataFrame:
        """All accounts (no passwords)."""
        def run() -> tuple[pl.DataFrame, int]:
            rows = users.list_users(self.store.db)
            return pl.DataFrame(rows), len(rows)

        return self._access("users.list", "users.manage", {}, run, needs_purpose=False, needs_training=False)

    def certify(self, username: str, *, course: str = DEFAULT_COURSE, completed_at: TimeLike = None,
                valid_days: int | None = None) -> int:
        """Record that ``username`` completed department-approved training (trainers, administrators)."""
        zone = self.store.config.zone
        done = parse_instant(completed_at, zone) or utc_now()
        days = valid_days or self.store.config.certification_valid_days
        query = {"target_user": username, "course": course, "completed_at": iso(done), "valid_days": days}

        def run() -> tuple[int, int]:
            users.require_user(self.store.db, username)
            return certifications.record_certification(
                self.store.db, username=username, course=course, completed_at=done,
                expires_at=done + timedelta(days=days), certified_by=self.user.username), 1

        return self._access("training.certify", "training.certify", query, run, needs_purpose=False,
                            needs_training=False)

    def change_password(self, old_password: str, new_password: str) -> None:
        """Change your own password."""
        def run() -> tuple[None, int]:
            users.authenticate(self.store.db, self.store.config, self.user.username, old_password)
            users.set_password(self.store.db, self.store.config, self.user.username, new_password,
                               must_change=False)
            return None, 1

        now = utc_now()
        try:
            self._check_alive(now)
        except AuthError as exc:
            self._audit("users.change_password", {}, outcome="denied", reason=str(exc))
            raise
        try:
            run()
        except AlprError as exc:
            self._audit("users.change_password", {}, outcome="error", reason=str(exc))
            raise
        self._audit("users.change_password", {}, result_count=1)

    # ----------------------------------------------------------------- audit review (462.5(c))
    def audit_records(self, *, start: TimeLike = None, end: TimeLike = None, username: str | None = None,
                      action: str | None = None, outcome: str | None = None,
                      limit: int | None = None) -> pl.DataFrame:
        """Audit records as a DataFrame (auditors, administrators); reading the log is itself audited."""
        query = {**requested_window(start, end),
                 "username": username, "action": action, "outcome": outcome}

        def run() -> tuple[pl.DataFrame, int]:
            lo, hi = time_window(start, end, self.store.config.zone)
            clauses, params = [], []
            for column, value in (("username", username), ("action", action), ("outcome", outcome)):
                if value:
                    clauses.append(f"{column} = ?")
                    params.append(value)
            if lo:
                clauses.append("time >= ?")
                params.append(iso(lo))
            if hi:
                clauses.append("time < ?")
                params.append(iso(hi))
            where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
            rows = self.store.audit.rows(where, tuple(params), limit)
            frame = _audit_frame(rows)
            return frame, frame.height

        return self._access("audit.read", "audit.review", query, run, needs_purpose=False,
                            needs_training=False)

    def export_audit(self, path: str | os.PathLike, *, fmt: str = "jsonl") -> int:
        """Write the whole audit log to ``path`` (one JSON object per record); returns the record count."""
        if fmt != "jsonl":
            raise ValidationError(f"unsupported audit export format {fmt!r}; use 'jsonl'")
        target = Path(path)

        def run() -> tuple[int, int]:
            rows = self.store.audit.rows()
            tmp = target.with_name(f".{target.name}.tmp")
            with open(tmp, "w", encoding="utf-8") as handle:
                for row in rows:
                    row["query"] = json.loads(row["query"])
                    handle.write(json.dumps(row, sort_keys=True) + "\n")
            os.replace(tmp, target)
            return len(rows), len(rows)

        return self._access("audit.export", "audit.review", {"format": fmt, "path": str(target)}, run,
                            needs_purpose=False, needs_training=False)

    def verify_audit(self) -> VerifyResult:
        """Verify the chain and checkpoints (also available without login: ``alpr audit verify``)."""
        return self._access("audit.verify", "audit.review", {},
                            lambda: ((r := self.store.audit.verify()), r.records),
                            needs_purpose=False, needs_training=False)


def _audit_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {"seq": pl.Int64, "time": pl.String, "session_id": pl.String, "username": pl.String,
              "organisation": pl.String, "action": pl.String, "query": pl.String, "purpose": pl.String,
              "case_number": pl.String, "result_count": pl.Int64, "client": pl.String, "outcome": pl.String,
              "reason": pl.String, "store_kind": pl.String, "prev_hash": pl.String, "hash": pl.String}
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.col("time").str.to_datetime(time_zone="UTC", time_unit="us"))
