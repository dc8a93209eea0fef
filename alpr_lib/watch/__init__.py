"""Live ingest from vehicles and fixed sites (policy 462.4: data transferred from vehicles to storage).

:func:`watch_folder` picks up what patrol units and fixed sites drop into a folder — read batches (``.csv``,
``.jsonl``/``.ndjson`` JSON lines, ``.parquet``) and plate images (``.jpg``, ``.jpeg``, ``.png``, with an
optional JSON sidecar, recognised with the camera given to the watcher) — and ingests each file as one audited
``reads.ingest`` call of the logged-in session, so each file's reads are matched against the hotlists and
their alerts raised in the transaction that makes them live.

Writers drop a file by *rename*: write ``NAME.part`` (or a name starting with ``.``) and rename it to its
final name when complete; the watcher never opens ``.part``/``.tmp`` or hidden files.

Exactly once, across restarts and kills: a file stays in the folder until its batch is committed, then is
moved to ``done/`` (the same name; ``~N`` is added if ``done/`` already holds that name). A watcher killed
before the commit leaves nothing committed and the file in place; killed after the commit but before the
move, the next run ingests the file again and the store recognises the batch (same content, and read ids
already stored), so nothing is duplicated, and the file is moved. A file that cannot be read or recognised
goes to ``quarantine/`` with ``NAME.reason.txt`` beside it; rows refused inside an ingested file are listed
in ``quarantine/NAME.rejected.csv`` (the file itself goes to ``done/``). Nothing is silently dropped. A
refusal of the watcher's own account (no ingest permission, an expired session) stops the watcher with the
error and leaves the file in place.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from alpr_lib.errors import AccessDenied, AlprError, AuthError, ValidationError
from alpr_lib.private_files import private_dir, write_private_atomic

__all__ = ["BATCH_SUFFIXES", "IMAGE_SUFFIXES", "FileOutcome", "WatchReport", "process_file", "watch_folder"]

BATCH_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet", ".pq")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_SKIP_SUFFIXES = (".part", ".tmp", ".json", ".txt")


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one dropped file."""

    name: str
    status: str  # "ingested" | "already ingested" | "quarantined"
    ingested: int = 0
    rejected_rows: int = 0
    alerts: int = 0
    reason: str | None = None

    @property
    def clean(self) -> bool:
        return self.status != "quarantined" and self.rejected_rows == 0


@dataclass
class WatchReport:
    """Every file one run handled."""

    files: list[FileOutcome] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """0 when everything was ingested, 3 when a file or some rows were quarantined or refused."""
        return 0 if all(f.clean for f in self.files) else 3


def _pending(folder: Path) -> list[Path]:
    """Complete files waiting in the folder, oldest first (sidecars travel with their image)."""
    out = []
    for entry in os.scandir(folder):
        name = entry.name
        if name.startswith(".") or name.lower().endswith(_SKIP_SUFFIXES) or not entry.is_file(follow_symlinks=False):
            continue
        out.append((entry.stat(follow_symlinks=False).st_mtime_ns, name))
    return [folder / name for _, name in sorted(out)]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{name}~{n}"
        n += 1
    return target


def _move(path: Path, folder: Path) -> Path:
    private_dir(folder)
    target = _free_name(folder, path.name)
    os.replace(path, target)
    for sidecar in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if sidecar != path and sidecar.is_file():
            os.replace(sidecar, _free_name(folder, sidecar.name))
    return target


def _quarantine(path: Path, folder: Path, reason: str) -> FileOutcome:
    target = _move(path, folder / "quarantine")
    write_private_atomic(target.with_name(target.name + ".reason.txt"), (reason.rstrip() + "\n").encode())
    return FileOutcome(path.name, "quarantined", reason=reason)


def _load(path: Path, camera_id: str | None, lat: float | None, lon: float | None,
          zone: str) -> tuple[Any, dict | None]:
    """What to hand to ``reads.ingest``: the file itself (CSV, Parquet), a frame (JSON lines, images) and the
    images of recognised reads."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet", ".pq"):
        return path, None
    if suffix in (".jsonl", ".ndjson"):
        try:
            frame = pl.read_ndjson(path, infer_schema_length=None)
        except Exception as exc:  # polars raises several types for malformed JSON
            raise ValidationError(f"cannot read {path.name} as JSON lines: {str(exc)[:300]}") from None
        return frame, None
    if suffix in IMAGE_SUFFIXES:
        if not camera_id:
            raise ValidationError(f"{path.name} is an image, and the watcher was started without --camera: give the "
                                  "camera that drops images into this folder")
        from alpr_lib.recognition.batch import recognize_paths

        crops = path.parent / ".crops"
        result = recognize_paths([path], camera_id, default_lat=lat, default_lon=lon, crops_dir=crops, tz=zone)
        if result.errors:
            raise ValidationError("; ".join(f"{e.message}" for e in result.errors)[:500])
        if result.reads.height == 0:
            raise ValidationError(f"no plate was recognised in {path.name}")
        return result.reads, dict(result.crops)
    raise ValidationError(f"{path.name}: unknown kind of file (give {', '.join(BATCH_SUFFIXES + IMAGE_SUFFIXES)})")


def process_file(session: Any, path: Path, *, camera_id: str | None = None, lat: float | None = None,
                 lon: float | None = None, zone: str = "America/Los_Angeles") -> FileOutcome:
    """Ingest one complete file through the session and move it out of the folder (see the module docstring)."""
    folder = path.parent
    try:
        source, images = _load(path, camera_id, lat, lon, zone)
        report = session.reads.ingest(source, source_name=path.name, progress=False, images=images)
    except (AccessDenied, AuthError):
        raise  # the watcher's account, not the file, is at fault: stop and leave the file where it is
    except AlprError as exc:
        return _quarantine(path, folder, f"{path.name}: {exc}")
    for crop in (images or {}).values():  # the store keeps its own copy
        Path(crop).unlink(missing_ok=True)
    if report.rejected_rows:
        write_rejects(folder, path.name, report.rejected)
    _move(path, folder / "done")
    status = "already ingested" if report.already_ingested else "ingested"
    return FileOutcome(path.name, status, report.ingested, report.rejected_rows, report.alerts_raised)


def write_rejects(folder: Path, name: str, rejected: pl.DataFrame) -> None:
    """The refused rows of an ingested file, beside the quarantined files (they list plates: 0600)."""
    private_dir(folder / "quarantine")
    write_private_atomic(folder / "quarantine" / f"{name}.rejected.csv", rejected.write_csv().encode())


def watch_folder(session: Any, folder: str | os.PathLike, *, once: bool = False, poll_s: float = 0.5,
                 camera_id: str | None = None, lat: float | None = None, lon: float | None = None,
                 zone: str = "America/Los_Angeles", on_file: Callable[[FileOutcome], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> WatchReport:
    """Process every complete file in ``folder`` (``once``) or keep watching it, polling every ``poll_s``
    seconds, until ``stop()`` is true or the process is interrupted. ``on_file`` hears of each file; ``zone``
    is the time zone of image times that carry none."""
    root = Path(folder)
    if not root.is_dir():
        raise ValidationError(f"{str(root)[:200]} is not a folder; create it, or give the folder units drop files into")
    private_dir(root / "done")
    private_dir(root / "quarantine")
    report = WatchReport()
    while True:
        for path in _pending(root):
            outcome = process_file(session, path, camera_id=camera_id, lat=lat, lon=lon, zone=zone)
            report.files.append(outcome)
            if on_file is not None:
                on_file(outcome)
        if once or (stop is not None and stop()):
            return report
        time.sleep(poll_s)


def describe(outcome: FileOutcome) -> str:
    """One line for a terminal or a log."""
    if outcome.status == "quarantined":
        return f"{outcome.name}: quarantined: {outcome.reason}"
    text = f"{outcome.name}: {outcome.status}, {outcome.ingested} reads"
    if outcome.rejected_rows:
        text += f", {outcome.rejected_rows} rows refused (quarantine/{outcome.name}.rejected.csv)"
    if outcome.alerts:
        text += f", {outcome.alerts} new alert(s)"
    return json.dumps(text)[1:-1] if not text.isprintable() else text
