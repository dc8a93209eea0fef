"""Batch recognition of camera images and video files into plate reads (the library side of ``alpr recognize``).

Each file is handled on its own: a corrupt, truncated, huge or non-image file, a path that is not a
regular file (a FIFO, socket or device named like an image: refused after an ``os.stat``, never opened,
since opening a FIFO blocks forever) and a file whose sidecar or EXIF holds a bad value (see
:mod:`.metadata`) each give a :class:`FileError` with the reason, and the batch goes on. Folders are
walked (a directory named ``y.jpg`` too); every entry in them named like an image or video that is not
a directory is a file of the batch, so a FIFO there is reported, not skipped in silence.
Several worker processes can share the work (one engine per process). Time and
place come from a JSON sidecar or EXIF (see :mod:`.metadata`), else from ``default_lat``/``default_lon``
and the file's modification time. Video files are sampled every ``frame_step_s`` seconds; the reads of
one vehicle seen in several frames are grouped into one read whose text is fused across the frames
(:mod:`.grouping`, ``group_video=False`` keeps one read per frame). The plate's state is read from the
crop (:mod:`.region`, ``detect_region=False`` leaves only the plate-format guess).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cv2
import numpy as np
import polars as pl

from ..errors import AlprError, RecognitionError, ValidationError
from ..private_files import private_dir, write_private_atomic
from .grouping import FrameRead, group_and_fuse
from .image import check_regular_file, decode_image, read_image_file, validate_array
from .metadata import capture_time_problem, check_coordinate, image_metadata, printable
from .ocr import cut_window
from .pipeline import PlateRecognizer, expand_quad
from .postprocess import normalise_plate
from .reads import MIN_REGION_CONFIDENCE, ImageRead, check_label, image_reads, read_id_for, reads_frame

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "BatchResult", "FileError", "expand_paths", "recognize_paths"]

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
VIDEO_EXTENSIONS = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv"}


@dataclass(frozen=True)
class FileError:
    path: str
    message: str


@dataclass(frozen=True)
class BatchResult:
    reads: pl.DataFrame  # the store's READ_SCHEMA
    crops: dict[str, str]  # read_id -> crop file written
    errors: tuple[FileError, ...]
    files: int
    used_mtime: int = 0  # files whose capture time fell back to the file's modification time
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Job:
    path: str
    camera_id: str
    default_lat: float | None
    default_lon: float | None
    tz: str
    crops_dir: str | None
    frame_step_s: float
    top_n: int
    group_video: bool = True
    detect_region: bool = True


_ENGINE: PlateRecognizer | None = None


def _engine() -> PlateRecognizer:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = PlateRecognizer(detect_region=True)
    return _ENGINE


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Files as given; directories walked for entries named like images or videos (sorted).

    A walked entry that is not a directory is kept even when it is not a regular file (a FIFO, socket,
    device, broken link), so that the batch reports it as failed instead of skipping it in silence; only
    ``os.stat`` is used here, nothing is opened.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS and not f.is_dir()
                )
            )
        else:
            out.append(p)
    return out


def _encode_crop(image: np.ndarray, quad: tuple[float, ...], path: Path) -> bytes:
    q = expand_quad(np.asarray(quad, np.float32).reshape(4, 2), 1.15, 1.8)
    w = int(max(16, np.linalg.norm(q[1] - q[0])))
    h = int(max(8, np.linalg.norm(q[3] - q[0])))
    crop = cut_window(image, q, (w, h))
    ok, encoded = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RecognitionError(f"cannot encode plate crop {path}")
    return encoded.tobytes()


def _write_crop(data: bytes, path: Path) -> None:
    try:
        write_private_atomic(path, data, sync=False, make_dirs=False)  # a plate: 0600
    except OSError as exc:
        raise RecognitionError(f"cannot write plate crop {path}: {exc}") from None


def _save_crop(image: np.ndarray, quad: tuple[float, ...], path: Path) -> None:
    _write_crop(_encode_crop(image, quad, path), path)


def _fuse_video_reads(frame_reads: list[FrameRead], frame_step_s: float) -> list[FrameRead]:
    """One read per vehicle: the group's fused text, region and confidence on its best member."""
    out = []
    for fused in group_and_fuse(frame_reads, max_gap_s=max(2.0, 2.5 * frame_step_s)):
        read: ImageRead = fused.best.payload[0]
        region = fused.region.upper() if fused.region and fused.region_confidence >= MIN_REGION_CONFIDENCE else None
        read = replace(read, plate=fused.plate, confidence=float(np.clip(fused.confidence, 0, 100)), region=region)
        out.append(replace(fused.best, payload=(read, fused.best.payload[1])))
    return out


def _file_time(path: Path, st: os.stat_result) -> datetime:
    """The file's modification time as a capture time, refused when it cannot be one (before 2000, future)."""
    try:
        at = datetime.fromtimestamp(st.st_mtime, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValidationError(f"{path}: no capture time in a sidecar or EXIF, and the file's modification "
                              f"time ({st.st_mtime!r}) is not a valid time; give a sidecar with captured_at") from None
    problem = capture_time_problem(at)
    if problem:
        raise ValidationError(f"{path}: no capture time in a sidecar or EXIF, and the file's modification time "
                              f"{at:%Y-%m-%dT%H:%M:%SZ} {problem}; give a sidecar with captured_at")
    return at


def _when_where(
    job: _Job, path: Path, st: os.stat_result, data: bytes | None
) -> tuple[datetime, float | None, float | None, float | None, bool]:
    meta = image_metadata(path, job.tz, data=data, exif=data is not None)
    used_mtime = meta.captured_at is None
    at = meta.captured_at or _file_time(path, st)
    lat = meta.lat if meta.lat is not None else job.default_lat
    lon = meta.lon if meta.lon is not None else job.default_lon
    if lat is None or lon is None:
        raise RecognitionError(f"{path}: no location in a sidecar or EXIF; pass --lat and --lon for this camera")
    return at, lat, lon, meta.heading, used_mtime


def _frames(path: Path, step_s: float) -> Iterator[tuple[float, np.ndarray]]:
    check_regular_file(path, "video file")  # again, right before OpenCV opens it by name
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise RecognitionError(f"{path}: not a readable video (OpenCV could not open it)")
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, round(fps * step_s))
        index, got_any = 0, False
        while True:
            ok = cap.grab()
            if not ok:
                break
            if index % step == 0:
                ok, frame = cap.retrieve()
                if ok and frame is not None:
                    got_any = True
                    yield index / fps, frame
            index += 1
        if not got_any:
            raise RecognitionError(f"{path}: the video has no decodable frames")
    finally:
        cap.release()


def _run_job(job: _Job) -> tuple[list[ImageRead], dict[str, str], list[FileError], int]:
    path = Path(job.path)
    engine = _engine()
    engine.top_n = job.top_n
    engine.detect_region = job.detect_region
    reads: list[ImageRead] = []
    crops: dict[str, str] = {}
    frame_reads: list[FrameRead] = []  # video: the reads of every frame, grouped at the end

    def flush() -> None:  # the video's reads grouped by vehicle (also when a later frame failed)
        for fr in _fuse_video_reads(frame_reads, job.frame_step_s):
            r, data = fr.payload
            reads.append(r)
            if data is not None and job.crops_dir:
                rid = read_id_for(job.camera_id, r.image_ref, r.plate_index, r.captured_at)
                crop_path = Path(job.crops_dir) / f"{rid}.jpg"
                _write_crop(data, crop_path)
                crops[rid] = str(crop_path)
        frame_reads.clear()

    try:
        is_video = path.suffix.lower() in VIDEO_EXTENSIONS
        # before anything opens the path or reads metadata: a FIFO, socket, device or directory is refused
        st = check_regular_file(path, "video file" if is_video else "image file")
        data = None if is_video else read_image_file(path)  # non-blocking open, fstat re-checked
        at, lat, lon, heading, used_mtime = _when_where(job, path, st, data)
        if is_video:
            sources = (
                (f"{path}#t={t:.3f}", at + timedelta(seconds=t), validate_array(frame))
                for t, frame in _frames(path, job.frame_step_s)
            )
        else:
            assert data is not None
            sources = iter([(str(path), at, decode_image(data, what=str(path)))])
        group = is_video and job.group_video
        for ref, when, image in sources:
            rec = engine.recognize(image)
            for res, r in zip(rec.results, image_reads(rec, ref, when, lat, lon, heading), strict=True):
                rid = read_id_for(job.camera_id, r.image_ref, r.plate_index, r.captured_at)
                crop_path = Path(job.crops_dir) / f"{rid}.jpg" if job.crops_dir else None
                if group:  # keep the crop in memory (a few kB) until the group's best member is known
                    crop_data = _encode_crop(image, r.quad, crop_path) if crop_path else None
                    frame_reads.append(
                        FrameRead(t=(when - at).total_seconds(), plate=r.plate, confidence=r.confidence,
                                  quad=np.asarray(r.quad, np.float32).reshape(4, 2),
                                  char_confidences=res.char_confidences if normalise_plate(res.plate_raw) == r.plate
                                  else (), region=res.region, region_confidence=res.region_confidence,
                                  payload=(r, crop_data))
                    )
                    continue
                reads.append(r)
                if crop_path:
                    _save_crop(image, r.quad, crop_path)
                    crops[rid] = str(crop_path)
        flush()
        return reads, crops, [], int(used_mtime)
    except AlprError as exc:
        error = FileError(str(path), str(exc))
    except (OSError, ValueError, cv2.error) as exc:  # unexpected I/O trouble with one file: report, go on
        error = FileError(str(path), f"{type(exc).__name__}: {exc}")
    try:
        flush()
    except (AlprError, OSError) as exc:
        error = FileError(error.path, f"{error.message}; {exc}")
    return reads, crops, [error], 0


def _check_arguments(
    camera_id: str,
    default_lat: float | None,
    default_lon: float | None,
    unit: str | None,
    source: str | None,
    tz: str,
    frame_step_s: float,
    top_n: int,
) -> None:
    """Refuse bad batch-wide arguments up front, so that no file is recognised for nothing."""
    check_label(camera_id, "camera_id", required=True)
    check_label(unit, "unit")
    check_label(source, "source")
    for name, value, lo, hi in (("default_lat", default_lat, -90, 90), ("default_lon", default_lon, -180, 180)):
        if value is not None:
            _number, problem = check_coordinate(value, lo, hi)
            if problem:
                raise ValidationError(f"{name} {value!r} {problem}")
    if not isinstance(tz, str) or not tz or len(tz) > 64:
        raise ValidationError(f"unknown time zone {tz!r}; use an IANA name such as America/Los_Angeles")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown time zone {tz!r}; use an IANA name such as America/Los_Angeles") from exc
    if isinstance(frame_step_s, bool) or not isinstance(frame_step_s, int | float) or not (
        math.isfinite(frame_step_s) and frame_step_s > 0
    ):
        raise ValidationError(f"frame_step_s must be a positive number of seconds, not {frame_step_s!r}")
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ValidationError(f"top_n must be a whole number >= 1, not {top_n!r}")


def recognize_paths(
    paths: list[str | Path],
    camera_id: str,
    *,
    default_lat: float | None = None,
    default_lon: float | None = None,
    unit: str | None = None,
    source: str | None = None,
    crops_dir: str | Path | None = None,
    workers: int = 1,
    tz: str = "America/Los_Angeles",
    frame_step_s: float = 1.0,
    top_n: int = 5,
    progress: bool = False,
    group_video: bool = True,
    detect_region: bool = True,
) -> BatchResult:
    """Recognise every image/video in ``paths``; one :class:`FileError` per file that failed.

    The arguments are checked first (a bad camera id, position, zone or step is a :class:`ValidationError`
    before any file is touched); after that a bad file never stops the batch. ``group_video``: one read per
    vehicle in a video, its text fused across frames (:mod:`.grouping`); ``detect_region``: the plate's
    state read from its crop (:mod:`.region`).
    """
    _check_arguments(camera_id, default_lat, default_lon, unit, source, tz, frame_step_s, top_n)
    files = expand_paths(paths)
    if crops_dir:
        private_dir(crops_dir)  # plate crops: a 0700 directory whatever the umask
    jobs = [
        _Job(
            str(f), camera_id, default_lat, default_lon, tz, str(crops_dir) if crops_dir else None, frame_step_s, top_n,
            bool(group_video), bool(detect_region),
        )
        for f in files
    ]
    workers = max(1, min(int(workers), len(jobs) or 1, os.cpu_count() or 1))
    if workers == 1:
        results = map(_run_job, jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(_run_job, jobs, chunksize=1)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(jobs), unit="file", desc="recognize")
    all_reads: list[ImageRead] = []
    all_crops: dict[str, str] = {}
    errors: list[FileError] = []
    mtimes = 0
    try:
        for reads, crops, errs, used in results:
            all_reads.extend(reads)
            all_crops.update(crops)
            errors.extend(errs)
            mtimes += used
            if errs and progress:
                from tqdm.auto import tqdm

                for e in errs:
                    tqdm.write(f"error: {printable(e.path)}: {printable(e.message)}")
    finally:
        if pool is not None:
            pool.shutdown()
    frame = reads_frame(all_reads, camera_id, unit=unit, source=source)
    return BatchResult(frame, all_crops, tuple(errors), len(files), mtimes)
