"""Plate recognition: detector -> plate OCR -> post-processing, with an OpenALPR-compatible front end.

Stages (one module each, joined by immutable results):

- :mod:`.detector` — text-line proposals from the PP-OCR detector shipped in ``rapidocr`` (reduced resolution)
- :mod:`.ocr` — the project's own CTC plate recognizer (``models/plate_crnn.onnx``, SHA-256 pinned)
- :mod:`.postprocess` — per-state plate formats (``data/us_plate_formats.csv``), corrections, region guess
- :mod:`.pipeline` — ranking candidates across proposals into :class:`PlateResult` s
- :mod:`.alpr` — :class:`Alpr`, a drop-in for the OpenALPR Python bindings
- :mod:`.evaluate` — scoring against a ground-truth CSV; :mod:`.reads` — results as store reads

Nothing here imports torch or downloads anything; importing this package does no work.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> defining module; imported on first use (PEP 562) so that importing the package does no
# heavy work (no OpenCV, onnxruntime or model loading until a name is used)
_EXPORTS = {
    "Alpr": "alpr",
    "openalpr_available": "alpr",
    "to_openalpr_json": "alpr",
    "Proposal": "detector",
    "TextLineDetector": "detector",
    "EvalRow": "evaluate",
    "GroundTruth": "evaluate",
    "evaluate": "evaluate",
    "read_groundtruth": "evaluate",
    "summarise": "evaluate",
    "decode_image": "image",
    "load_image": "image",
    "validate_array": "image",
    "ImageMeta": "metadata",
    "image_metadata": "metadata",
    "OcrCandidate": "ocr",
    "OcrReading": "ocr",
    "PlateOCR": "ocr",
    "verify_model": "ocr",
    "Candidate": "pipeline",
    "PlateRecognizer": "pipeline",
    "PlateResult": "pipeline",
    "Recognition": "pipeline",
    "ImageRead": "reads",
    "image_reads": "reads",
    "reads_frame": "reads",
    "random_plate_text": "render",
    "render_plate": "render",
    "render_scene": "render",
    "BatchResult": "batch",
    "FileError": "batch",
    "recognize_paths": "batch",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .alpr import Alpr, openalpr_available, to_openalpr_json  # noqa: F401
    from .batch import BatchResult, FileError, recognize_paths  # noqa: F401
    from .detector import Proposal, TextLineDetector  # noqa: F401
    from .evaluate import EvalRow, GroundTruth, evaluate, read_groundtruth, summarise  # noqa: F401
    from .image import decode_image, load_image, validate_array  # noqa: F401
    from .metadata import ImageMeta, image_metadata  # noqa: F401
    from .ocr import OcrCandidate, OcrReading, PlateOCR, verify_model  # noqa: F401
    from .pipeline import Candidate, PlateRecognizer, PlateResult, Recognition  # noqa: F401
    from .reads import ImageRead, image_reads, reads_frame  # noqa: F401
    from .render import random_plate_text, render_plate, render_scene  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
