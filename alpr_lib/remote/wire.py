"""What travels between the API service and the remote Session: one encoding, used by both ends.

Plain values are JSON. What JSON cannot say is a one-key object whose key starts with ``$``:

- ``{"$datetime": ISO}``, ``{"$date": ISO}``, ``{"$timedelta": seconds}``, ``{"$bytes": base64}``,
  ``{"$float": "nan"|"inf"|"-inf"}``, ``{"$tuple": [...]}``, ``{"$map": [[key, value], ...]}`` (a dict whose
  keys are not all text, or one with a key starting with ``$``), ``{"$path": text}`` (a path in a result);
- ``{"$wkb": base64}``: a shapely geometry;
- ``{"$polars": base64}``: a polars DataFrame as an Arrow IPC stream;
  ``{"$pandas": base64}``: a pandas or GeoPandas DataFrame as an Arrow IPC stream, its geometry columns as WKB
  and its CRS and ``attrs`` in the schema metadata;
- ``{"$dataclass": "module:Name", "fields": {...}}``: a frozen dataclass of ``alpr_lib`` (a User, an Incident,
  an IngestReport...), rebuilt by the other end only if the class is an ``alpr_lib`` dataclass;
- ``{"$local": {...}}``: in a request only, a file or folder on the client's machine (see
  :mod:`alpr_lib.server.files`): the service never opens a path a client names.

A table result is not wrapped at all: it is the body of the response, ``application/vnd.apache.arrow.stream``.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import io
import json
import math
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

import polars as pl

from alpr_lib.errors import ValidationError

__all__ = ["ARROW", "PROBLEM", "Local", "decode", "encode", "frame_from_arrow", "frame_to_arrow", "is_frame"]

ARROW = "application/vnd.apache.arrow.stream"
PROBLEM = "application/problem+json"
#: how deep a request value may nest (the door refuses deeper Any arguments anyway)
_MAX_DEPTH = 32
_KIND = b"alpr.frame"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValidationError(f"{what} must be base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ValidationError(f"{what} is not valid base64") from None


# ---------------------------------------------------------------------------------------------- frames
def is_frame(value: Any) -> bool:
    """A polars or pandas (GeoPandas) DataFrame: what travels as an Arrow IPC stream."""
    if isinstance(value, pl.DataFrame):
        return True
    return type(value).__module__.startswith(("pandas", "geopandas")) and hasattr(value, "columns") \
        and hasattr(value, "attrs")

def frame_to_arrow(frame: Any) -> bytes:
    """A polars, pandas or GeoPandas frame as an Arrow IPC stream (pandas geometry as WKB, CRS and attrs kept)."""
    import pyarrow as pa

    if isinstance(frame, pl.DataFrame):
        buffer = io.BytesIO()
        frame.write_ipc_stream(buffer)
        return buffer.getvalue()
    import pandas as pd
    import shapely

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"not a frame: {type(frame).__name__}")
    meta: dict[str, Any] = {"kind": "pandas", "attrs": encode(dict(frame.attrs))}
    data = pd.DataFrame(frame).copy()
    geometry = getattr(frame, "_geometry_column_name", None)
    geo_columns = [c for c in data.columns if str(getattr(data[c], "dtype", "")) == "geometry"]
    if geometry is not None or geo_columns:
        meta.update(kind="geopandas", geometry=geometry, geo_columns=[str(c) for c in geo_columns],
                    crs=frame.crs.to_json() if getattr(frame, "crs", None) is not None else None)
        for column in geo_columns:
            data[column] = shapely.to_wkb(data[column].array.to_numpy() if hasattr(data[column], "array")
                                          else data[column].to_numpy())
    table = pa.Table.from_pandas(data, preserve_index=True)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _KIND: json.dumps(meta).encode()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def frame_from_arrow(data: bytes) -> Any:
    """The frame an Arrow IPC stream holds, as the kind it was (polars, pandas or GeoPandas)."""
    import pyarrow as pa

    try:
        reader = pa.ipc.open_stream(data)
        table = reader.read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationError(f"not an Arrow IPC stream: {str(exc)[:200]}") from None
    raw = (table.schema.metadata or {}).get(_KIND)
    if raw is None:
        return pl.read_ipc_stream(io.BytesIO(data))
    meta = json.loads(raw)
    frame = table.to_pandas()
    if meta.get("kind") == "geopandas":
        import geopandas as gpd
        import shapely

        for column in meta.get("geo_columns") or []:
            values = frame[column].to_numpy()
            frame[column] = gpd.GeoSeries(shapely.from_wkb(values), index=frame.index)
        frame = gpd.GeoDataFrame(frame, geometry=meta.get("geometry"), crs=meta.get("crs"))
    frame.attrs.update(decode(meta.get("attrs") or {}))
    return frame


# ---------------------------------------------------------------------------------------------- values
class Local:
    """A file or folder on the client's machine, as the request describes it (``{"$local": body}``)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body


def encode(value: Any, *, local: Any = None) -> Any:
    """``value`` as JSON-ready data (see the module docstring). ``local(value)``, when given, may turn a path
    into a ``$local`` object (the client does, for the fields that name files)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Local):
        return {"$local": value.body}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": _b64(bytes(value))}
    if isinstance(value, PurePath):
        return {"$path": str(value)}
    if isinstance(value, pl.DataFrame):
        return {"$polars": _b64(frame_to_arrow(value))}
    if isinstance(value, pl.Series):
        return {"$polars": _b64(frame_to_arrow(value.to_frame())), "series": True}
    if is_frame(value):
        return {"$pandas": _b64(frame_to_arrow(value))}
    if type(value).__module__.startswith("shapely"):
        import shapely

        return {"$wkb": _b64(shapely.to_wkb(value))}
    if isinstance(value, list):
        return [encode(v, local=local) for v in value]
    if isinstance(value, tuple | set | frozenset):
        return {"$tuple": [encode(v, local=local) for v in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, local=local) for k, v in value.items()}
        return {"$map": [[encode(k), encode(v, local=local)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"$dataclass": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: encode(getattr(value, f.name), local=local)
                           for f in dataclasses.fields(value) if f.init}}
    if hasattr(value, "item") and type(value).__module__ == "numpy":  # a numpy scalar
        return encode(value.item(), local=local)
    raise TypeError(f"a {type(value).__name__} cannot travel between the ALPR service and its clients")


def _dataclass(name: Any, fields: Any, depth: int, local: Any) -> Any:
    if not isinstance(name, str) or ":" not in name or not isinstance(fields, dict):
        raise ValidationError("$dataclass needs 'module:Name' and a fields object")
    module, _, qualname = name.partition(":")
    if module != "alpr_lib" and not module.startswith("alpr_lib."):
        raise ValidationError(f"{name[:80]!r} is not a class of alpr_lib")
    try:
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError):
        raise ValidationError(f"no class {name[:80]!r} in alpr_lib") from None
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValidationError(f"{name[:80]!r} is not a data class")
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = set(fields) - known
    if unknown:
        raise ValidationError(f"{qualname} has no field {sorted(unknown)[0][:40]!r}")
    try:
        return cls(**{k: decode(v, local=local, _depth=depth + 1) for k, v in fields.items()})
    except TypeError as exc:
        raise ValidationError(f"cannot make a {qualname}: {exc}") from None


def decode(value: Any, *, local: Any = None, _depth: int = 0) -> Any:
    """The Python value :func:`encode` made ``value`` from; ``local(spec)`` materialises a ``$local`` object
    (only the service accepts them, and only in the fields that name files)."""
    if _depth > _MAX_DEPTH:
        raise ValidationError(f"the value nests more than {_MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [decode(v, local=local, _depth=_depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    tags = [k for k in value if k.startswith("$")]
    if not tags:
        return {k: decode(v, local=local, _depth=_depth + 1) for k, v in value.items()}
    tag = tags[0]
    body = value[tag]
    try:
        if tag == "$datetime":
            return datetime.fromisoformat(body)
        if tag == "$date":
            return date.fromisoformat(body)
        if tag == "$timedelta":
            return timedelta(seconds=float(body))
        if tag == "$float":
            if body not in ("nan", "inf", "-inf"):
                raise ValidationError("$float is 'nan', 'inf' or '-inf'")
            return float(body)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValidationError(f"{tag} value {str(body)[:40]!r} is not valid: {exc}") from None
    if tag == "$bytes":
        return _unb64(body, "$bytes")
    if tag == "$path":
        if not isinstance(body, str):
            raise ValidationError("$path must be text")
        from pathlib import Path

        return Path(body)
    if tag == "$tuple":
        if not isinstance(body, list):
            raise ValidationError("$tuple must be a list")
        return tuple(decode(v, local=local, _depth=_depth + 1) for v in body)
    if tag == "$map":
        if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
            raise ValidationError("$map must be a list of [key, value] pairs")
        out = {}
        for k, v in body:
            key = decode(k, _depth=_depth + 1)
            try:
                out[key] = decode(v, local=local, _depth=_depth + 1)
            except TypeError:
                raise ValidationError("a $map key must be a plain value") from None
        return out
    if tag in ("$polars", "$pandas"):
        frame = frame_from_arrow(_unb64(body, tag))
        if value.get("series") and isinstance(frame, pl.DataFrame) and frame.width == 1:
            return frame.to_series()
        return frame
    if tag == "$wkb":
        import shapely

        try:
            return shapely.from_wkb(_unb64(body, "$wkb"))
        except shapely.errors.ShapelyError as exc:
            raise ValidationError(f"$wkb is not a geometry: {str(exc)[:100]}") from None
    if tag == "$dataclass":
        return _dataclass(body, value.get("fields"), _depth, local)
    if tag == "$local":
        if local is None:
            raise ValidationError("a $local file is only accepted in an argument that names a file")
        return local(body)
    raise ValidationError(f"unknown tag {tag[:40]!r} (known: $datetime, $date, $timedelta, $bytes, $float, $tuple, "
                          "$map, $path, $polars, $pandas, $wkb, $dataclass, $local)")
