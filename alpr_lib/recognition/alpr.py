"""An OpenALPR-compatible front end: ``Alpr(country, config_file, runtime_dir)``.

Code written for the OpenALPR Python bindings (``from openalpr import Alpr``) works by changing the import
to ``from alpr_lib.recognition import Alpr``; results have OpenALPR's JSON structure. The built-in engine
(``backend="builtin"``, the default) needs neither ``config_file`` nor ``runtime_dir``: they are accepted,
even when they do not exist, and ignored. Where the real OpenALPR bindings and ``libopenalpr`` are
installed, ``backend="openalpr"`` (or ``"auto"``) delegates to them instead.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecognitionError, ValidationError
from .image import decode_image, read_image_file, validate_array
from .pipeline import PlateRecognizer, Recognition

__all__ = ["SUPPORTED_COUNTRIES", "Alpr", "openalpr_available", "to_openalpr_json"]

SUPPORTED_COUNTRIES = ("us",)
ENGINE_VERSION = "alpr_lib-recognition 1.0"


def openalpr_available() -> bool:
    """True when the native OpenALPR bindings and library can be loaded on this machine."""
    if importlib.util.find_spec("openalpr") is None:
        return False
    try:
        import ctypes.util

        from openalpr import Alpr as _NativeAlpr  # type: ignore[import-not-found]  # noqa: F401

        return ctypes.util.find_library("openalpr") is not None
    except Exception:
        return False


def to_openalpr_json(rec: Recognition, top_n: int, rois: list[dict[str, int]] | None = None) -> dict[str, Any]:
    """A :class:`Recognition` in OpenALPR's ``alpr_results`` JSON structure."""
    results = []
    for index, res in enumerate(rec.results):
        results.append(
            {
                "plate": res.plate,
                "confidence": round(float(res.confidence), 4),
                "matches_template": int(res.matches_template),
                "plate_index": index,
                "region": res.region,
                "region_confidence": round(res.region_confidence),
                "processing_time_ms": round(rec.processing_time_ms, 3),
                "requested_topn": top_n,
                "coordinates": [{"x": round(float(x)), "y": round(float(y))} for x, y in res.quad],
                "candidates": [
                    {
                        "plate": c.plate,
                        "confidence": round(float(c.confidence), 4),
                        "matches_template": int(c.matches_template),
                    }
                    for c in res.candidates[:top_n]
                ],
            }
        )
    return {
        "version": 2,
        "data_type": "alpr_results",
        "epoch_time": int(time.time() * 1000),
        "img_width": rec.img_width,
        "img_height": rec.img_height,
        "processing_time_ms": round(rec.processing_time_ms, 3),
        "regions_of_interest": rois or [],
        "results": results,
    }


class Alpr:
    """OpenALPR-compatible recognizer.

    >>> with Alpr("us", "/etc/openalpr/openalpr.conf", "/usr/share/openalpr/runtime_data") as alpr:
    ...     alpr.set_top_n(5)
    ...     result = alpr.recognize_file("car.jpg")   # doctest: +SKIP
    """

    def __init__(
        self,
        country: str = "us",
        config_file: str | Path = "/etc/openalpr/openalpr.conf",
        runtime_dir: str | Path = "/usr/share/openalpr/runtime_data",
        *,
        backend: str = "builtin",
        model_path: str | Path | None = None,
        threads: int = 1,
    ) -> None:
        if backend not in ("builtin", "openalpr", "auto"):
            raise ValidationError(f"backend must be 'builtin', 'openalpr' or 'auto', not {backend!r}")
        self.config_file = str(config_file)
        self.runtime_dir = str(runtime_dir)
        self._top_n = 10
        self._default_region: str | None = None
        self._detect_region = False
        self._native = None
        self._engine: PlateRecognizer | None = None
        if backend == "openalpr" or (backend == "auto" and openalpr_available()):
            if not openalpr_available():
                raise RecognitionError(
                    "backend='openalpr' needs the OpenALPR Python bindings and libopenalpr.so; they are not "
                    "installed here. Use backend='builtin' (the default)."
                )
            from openalpr import Alpr as NativeAlpr  # type: ignore[import-not-found]

            self._native = NativeAlpr(country, self.config_file, self.runtime_dir)
            self.backend = "openalpr"
        else:
            self._set_country(country)
            from .detector import TextLineDetector
            from .ocr import PlateOCR

            self._engine = PlateRecognizer(
                detector=TextLineDetector(threads=threads),
                ocr=PlateOCR(Path(model_path) if model_path else None, threads=threads),
                top_n=self._top_n,
            )
            self.backend = "builtin"
        self.country = country.lower()

    # --- OpenALPR API -------------------------------------------------------------------------------------
    def is_loaded(self) -> bool:
        if self._native is not None:
            return bool(self._native.is_loaded())
        return self._engine is not None

    def get_version(self) -> str:
        if self._native is not None:
            return f"openalpr {self._native.get_version()} (native backend)"
        engine = self._require()
        return (
            f"{ENGINE_VERSION} (built-in engine: PP-OCR text detector from rapidocr + plate CRNN "
            f"sha256 {engine.ocr.sha256[:16]}...; needs neither config_file nor runtime_dir)"
        )

    def set_top_n(self, topn: int) -> None:
        if isinstance(topn, bool) or not isinstance(topn, int) or topn < 1:
            raise ValidationError(f"top_n must be a positive integer, not {topn!r}")
        self._top_n = topn
        if self._native is not None:
            self._native.set_top_n(topn)
        elif self._engine is not None:
            self._engine.top_n = max(topn, 1)

    def set_default_region(self, region: str) -> None:
        region = (region or "").strip()
        self._default_region = region.lower() or None
        if self._native is not None:
            self._native.set_default_region(region)
        elif self._engine is not None:
            self._engine.default_region = region.upper() or None

    def set_detect_region(self, enabled: bool) -> None:
        """On: each plate's ``region`` / ``region_confidence`` come from the state name, slogan or web
        address read on the plate (``region.py``), combined with the plate-format guess; "" below the
        classifier's threshold. Off (the default, as in OpenALPR): ``region`` is "" unless a default region
        is set."""
        self._detect_region = bool(enabled)
        if self._native is not None:
            self._native.set_detect_region(enabled)
        elif self._engine is not None:
            self._engine.detect_region = self._detect_region

    def set_country(self, country: str) -> None:
        if self._native is not None:
            self._native.set_country(country)
        else:
            self._set_country(country)
        self.country = country.lower()

    def _set_country(self, country: str) -> None:
        if not isinstance(country, str) or country.lower() not in SUPPORTED_COUNTRIES:
            raise ValidationError(
                f"country {country!r} is not supported by the built-in engine; "
                f"supported: {', '.join(SUPPORTED_COUNTRIES)}"
            )

    def set_prewarp(self, prewarp: str) -> None:
        """Accepted for compatibility; the built-in engine rectifies each plate itself."""
        if self._native is not None:
            self._native.set_prewarp(prewarp)

    def recognize_file(self, file_path: str | Path) -> dict[str, Any]:
        if self._native is not None:
            return self._native.recognize_file(str(file_path))
        data = read_image_file(file_path)
        return self._run(decode_image(data, what=str(file_path)))

    def recognize_array(self, byte_array: bytes | bytearray | memoryview) -> dict[str, Any]:
        """Recognise an encoded image (the bytes of a JPEG/PNG/... file)."""
        if self._native is not None:
            return self._native.recognize_array(byte_array)
        return self._run(decode_image(byte_array))

    def recognize_ndarray(self, ndarray: np.ndarray) -> dict[str, Any]:
        """Recognise a decoded image (BGR, as OpenCV loads it). The array is not modified."""
        if self._native is not None:
            return self._native.recognize_ndarray(ndarray)
        return self._run(validate_array(ndarray))

    def recognize(self, image: np.ndarray) -> Recognition:
        """The engine's typed result (not part of the OpenALPR API)."""
        return self._require().recognize(validate_array(image))

    def unload(self) -> None:
        if self._native is not None:
            self._native.unload()
        self._engine = None

    def __enter__(self) -> Alpr:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unload()

    # --- internals ----------------------------------------------------------------------------------------
    def _require(self) -> PlateRecognizer:
        if self._engine is None:
            raise RecognitionError("this Alpr instance was unloaded; create a new Alpr(...) to recognise again")
        return self._engine

    def _run(self, image: np.ndarray) -> dict[str, Any]:
        engine = self._require()
        rec = engine.recognize(image)
        out = to_openalpr_json(rec, self._top_n)
        if not self._detect_region and not self._default_region:
            for r in out["results"]:
                r["region"], r["region_confidence"] = "", 0
        return out
