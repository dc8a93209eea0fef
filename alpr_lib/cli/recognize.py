"""``alpr recognize`` and ``alpr eval-recognition``: thin click commands over ``alpr_lib.recognition``."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import click

from ..errors import AlprError

__all__ = ["eval_recognition", "recognize"]


def _coordinate(lo: float, hi: float):
    """A click callback: a finite number in [lo, hi] (click's FloatRange lets NaN through)."""

    def check(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and lo <= value <= hi):
            raise click.BadParameter(f"{value!r} is not a finite number in [{lo}, {hi}]")
        return value

    return check


def _label(required: bool = False):
    """A click callback: a camera id, unit or source that is short printable text."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        from ..errors import ValidationError
        from ..recognition.reads import check_label

        try:
            check_label(value, param.name or "value", required=required)
        except ValidationError as exc:
            raise click.BadParameter(str(exc)) from exc
        return value

    return check


def _zone(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"unknown time zone {value!r}; use an IANA name such as America/Los_Angeles") from exc
    return value


def _safe(text: object) -> str:
    """Text with control characters escaped, so a hostile file name cannot drive the terminal."""
    from ..recognition.metadata import printable

    return printable(str(text))


@click.command(name="recognize")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--camera", "camera_id", required=True, callback=_label(required=True),
              help="Camera id stored with every read (up to 64 characters).")
@click.option("--lat", type=float, default=None, callback=_coordinate(-90, 90),
              help="Camera latitude (WGS84) when an image has no EXIF/sidecar GPS.")
@click.option("--lon", type=float, default=None, callback=_coordinate(-180, 180),
              help="Camera longitude (WGS84) when an image has no EXIF/sidecar GPS.")
@click.option("--unit", default=None, callback=_label(), help="Patrol vehicle or fixed site that carried the camera.")
@click.option("--source", default=None, callback=_label(), help="Capturing agency/system, e.g. MPD-FIXED.")
@click.option(
    "--out", "out", type=click.Path(path_type=Path), default=None, help="Write the reads to FILE.parquet or FILE.csv."
)
@click.option(
    "--crops-dir", type=click.Path(path_type=Path), default=None, help="Save each plate crop as DIR/<read_id>.jpg."
)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--frame-step",
    "frame_step_s",
    type=click.FloatRange(0.01),
    default=1.0,
    show_default=True,
    help="Seconds between sampled video frames.",
)
@click.option("--top-n", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--group-video/--no-group-video", default=True, show_default=True,
              help="One read per vehicle in a video, its text fused across the frames it was seen in.")
@click.option("--tz", default="America/Los_Angeles", show_default=True, callback=_zone,
              help="Zone of EXIF and sidecar times without an offset.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--ingest", is_flag=True, help="Also ingest the reads, with their plate crops, into the store "
              "(policy 462.4), through the audited Session of --user.")
@click.option("--store", envvar="ALPR_STORE", type=click.Path(file_okay=False), default=None,
              help="Store for --ingest (or set ALPR_STORE).")
@click.option("--user", "username", envvar="ALPR_USER", default=None,
              help="User (an operator or ingest service account) for --ingest (or set ALPR_USER).")
def recognize(paths, camera_id, lat, lon, unit, source, out, crops_dir, workers, frame_step_s, top_n, group_video, tz,
              no_progress, ingest, store, username):
    """Recognise plates in camera images, folders of images and video files (PATH...).

    Time and location come from a JSON sidecar (IMAGE.json) or EXIF, else from --lat/--lon and the file's
    modification time. Every sidecar value is checked (latitude -90..90, longitude -180..180, finite
    numbers, a capture time from 2000 to at most a day ahead, short text without control characters).
    Only regular files are read: a FIFO, socket or device named like an image is never opened. A file
    that cannot be used (unreadable, not an image, not a regular file, a bad sidecar value) is listed as
    an error with the reason and the batch goes on. With --ingest the reads and their plate crops go
    into the store in one atomic, audited batch.

    \b
    Exit status:
      0  at least one file was processed (others may have failed: see the errors),
         or no image or video file was found
      1  every file failed, or the batch could not run or ingest (the error says why)
      2  bad usage (an unknown option; a bad --camera, --unit, --source, --lat, --lon,
         --tz or --out)
    """
    if ingest and (not store or not username):
        raise click.UsageError("--ingest needs --store and --user (or ALPR_STORE and ALPR_USER)")
    if ingest and crops_dir is None:
        with tempfile.TemporaryDirectory(prefix="alpr-crops-") as tmp:  # the store keeps its own copies
            _recognize(paths, camera_id, lat, lon, unit, source, out, Path(tmp), workers, frame_step_s, top_n, tz,
                       no_progress, store, username, group_video)
        return
    _recognize(paths, camera_id, lat, lon, unit, source, out, crops_dir, workers, frame_step_s, top_n, tz,
               no_progress, store if ingest else None, username, group_video)


def _recognize(paths, camera_id, lat, lon, unit, source, out, crops_dir, workers, frame_step_s, top_n, tz, no_progress,
               store, username, group_video=True):
    from ..recognition.batch import recognize_paths

    if (lat is None) != (lon is None):
        raise click.UsageError("give both --lat and --lon, or neither")
    if out is not None and out.suffix.lower() not in (".parquet", ".csv"):
        raise click.UsageError(f"--out must end in .parquet or .csv, not {out.name}")
    try:
        res = recognize_paths(
            list(paths),
            camera_id,
            default_lat=lat,
            default_lon=lon,
            unit=unit,
            source=source,
            crops_dir=crops_dir,
            workers=workers,
            tz=tz,
            frame_step_s=frame_step_s,
            top_n=top_n,
            progress=not no_progress,
            group_video=group_video,
        )
    except AlprError as exc:
        raise click.ClickException(str(exc)) from exc
    frame = res.reads
    if res.crops:
        import polars as pl

        frame = frame.with_columns(pl.col("read_id").replace_strict(res.crops, default=None).alias("crop_path"))
    if out is not None:
        from alpr_lib.private_files import atomic_private_path

        with atomic_private_path(out) as tmp:  # reads list plates: 0600 whatever the umask
            if out.suffix.lower() == ".parquet":
                frame.write_parquet(tmp)
            else:
                frame.with_columns(frame["captured_at"].dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")).write_csv(tmp)
    else:
        for row in frame.iter_rows(named=True):
            click.echo(
                f"{row['plate']:<9} {row['plate_confidence']:6.1f}  "
                f"{row['captured_at']:%Y-%m-%d %H:%M:%S}Z  {_safe(row['image_ref'])}"
            )
    if store is not None and res.reads.height:
        from ._common import session_from

        report = session_from(store, username).ingest_reads(
            res.reads, source_name=f"recognize camera {camera_id}", images=res.crops, progress=not no_progress)
        click.echo(f"ingested: {report.summary()}", err=True)
    for e in res.errors:
        click.echo(f"error: {_safe(e.path)}: {_safe(e.message)}", err=True)
    note = f", {res.used_mtime} without a capture time (file time used)" if res.used_mtime else ""
    click.echo(
        f"{res.files} files, {frame.height} plates, {len(res.errors)} errors{note}"
        + (f"; reads written to {_safe(out)}" if out else ""),
        err=True,
    )
    if res.files and len(res.errors) >= res.files:  # every file failed
        raise SystemExit(1)


@click.command(name="eval-recognition")
@click.argument("image_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--groundtruth",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: image,x,y,width,height,plate (or image,region,plate for crops).",
)
@click.option("--top-n", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None, help="Write the figures as JSON.")
@click.option(
    "--predictions",
    type=click.Path(path_type=Path),
    default=None,
    help="Write every image's candidates: image,rank,plate,confidence,x1,y1,...,x4,y4.",
)
@click.option("--failures", type=click.Path(path_type=Path), default=None, help="Write the images not read exactly.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def eval_recognition(image_dir, groundtruth, top_n, json_path, predictions, failures, no_progress):
    """Score the recognizer on IMAGE_DIR against a ground-truth CSV (every listed image is scored)."""
    from ..recognition.evaluate import evaluate, read_groundtruth, summarise, write_failures, write_predictions
    from ..recognition.pipeline import PlateRecognizer

    try:
        truths = read_groundtruth(groundtruth)
        recognizer = PlateRecognizer(top_n=max(top_n, 5))
        progress = None
        if not no_progress:
            from tqdm.auto import tqdm

            def progress(items):
                return tqdm(items, unit="image", desc="eval")

        rows = evaluate(image_dir, truths, recognizer, top_n=top_n, progress=progress)
    except AlprError as exc:
        raise click.ClickException(str(exc)) from exc
    fig = summarise(rows, top_n)
    det = "n/a (no boxes)" if fig["detection_recall"] is None else f"{fig['detection_recall']:.1%}"
    click.echo(f"images            {fig['n']}")
    click.echo(f"top-1 exact       {fig['top1']:.1%}")
    click.echo(f"top-{top_n} exact       {fig['topn']:.1%}")
    click.echo(f"top-1 O/0 I/1     {fig['folded']:.1%}")
    click.echo(f"detection recall  {det}  (IoU >= 0.3)")
    click.echo(f"seconds/image     median {fig['median_s']:.3f}  p95 {fig['p95_s']:.3f}")
    if fig["errors"]:
        click.echo(f"unreadable images {fig['errors']} (scored as misses)")
    if json_path:
        from alpr_lib.private_files import write_private_atomic

        write_private_atomic(json_path, json.dumps(fig, indent=2) + "\n")
    if predictions:
        write_predictions(rows, predictions)
    if failures:
        write_failures(rows, failures)
