"""One way to open an ONNX model on the CPU, shared by the detector and the plate OCR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import RecognitionError

__all__ = ["open_session"]


def open_session(model_path: Path, *, threads: int, what: str) -> tuple[Any, str]:
    """An onnxruntime CPU session with ``threads`` intra-op threads, and its input name.

    ``what`` names the model in the error raised when it cannot be loaded."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise RecognitionError(f"cannot load the {what} model {model_path}: {exc}") from exc
    return session, session.get_inputs()[0].name
