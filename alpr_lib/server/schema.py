"""The OpenAPI description of each action's request body, generated from its request class's declared types.

The body of ``POST /actions/<name>`` is a JSON object with one property per request field (the same names as
the Session method's arguments); what JSON cannot hold is a tagged object (see :mod:`alpr_lib.remote.wire`).
The schema says what the door accepts; the door, not this schema, is what refuses anything else (so a refused
call is audited).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from alpr_lib.access.arguments import _hints
from alpr_lib.remote.files import file_fields

__all__ = ["COMPONENTS", "request_schema"]

_B64 = {"type": "string", "contentEncoding": "base64"}
COMPONENTS: dict[str, Any] = {
    "DateTime": {"type": "object", "required": ["$datetime"], "additionalProperties": False,
                 "properties": {"$datetime": {"type": "string", "format": "date-time"}}},
    "Date": {"type": "object", "required": ["$date"], "additionalProperties": False,
             "properties": {"$date": {"type": "string", "format": "date"}}},
    "Bytes": {"type": "object", "required": ["$bytes"], "additionalProperties": False, "properties": {"$bytes": _B64}},
    "PolarsFrame": {"type": "object", "required": ["$polars"], "additionalProperties": False,
                    "description": "a polars DataFrame as an Arrow IPC stream (application/vnd.apache.arrow.stream)",
                    "properties": {"$polars": _B64}},
    "PandasFrame": {"type": "object", "required": ["$pandas"], "additionalProperties": False,
                    "description": "a pandas/GeoPandas DataFrame as an Arrow IPC stream, geometry as WKB",
                    "properties": {"$pandas": _B64}},
    "LocalFile": {
        "type": "object", "required": ["$local"], "additionalProperties": False,
        "description": "a file or folder on the client's machine: a file travels with its bytes; the service "
                       "never opens a path the client names",
        "properties": {"$local": {
            "type": "object", "required": ["slot", "name", "kind"],
            "properties": {"slot": {"type": "integer", "minimum": 0, "maximum": 999},
                           "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/\\x00]+$"},
                           "given": {"type": "string"}, "root": {"type": "string"},
                           "kind": {"enum": ["file", "dir", "absent"]}, "parent": {"type": "boolean"},
                           "data": _B64,
                           "files": {"type": "array", "description": "a folder's files",
                                     "items": {"type": "object", "required": ["path", "data"],
                                               "properties": {"path": {"type": "string"}, "data": _B64}}}}}}},
    "Problem": {"type": "object", "description": "RFC 9457 problem details; `error` is the AlprError subclass",
                "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                               "detail": {"type": "string"}, "error": {"type": "string"}}},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _type_schema(hint: Any, *, path: bool = False) -> dict[str, Any]:
    if hint is Any:
        return {}
    if path and (hint in (os.PathLike, PurePath) or typing.get_origin(hint) is os.PathLike
                 or (isinstance(hint, type) and issubclass(hint, PurePath))):
        return _ref("LocalFile")
    if hint is str:
        return _ref("LocalFile") if path else {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is type(None):
        return {"type": "null"}
    if hint is datetime:
        return _ref("DateTime")
    if hint is date:
        return _ref("Date")
    if hint is bytes:
        return _ref("Bytes")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = []
        for option in typing.get_args(hint):
            schema = _type_schema(option, path=path)
            if schema not in options:
                options.append(schema)
        return {"anyOf": options}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(hint))}
    if origin is tuple:
        return {"type": "array", "items": _type_schema(typing.get_args(hint)[0])}
    if hint is dict or origin is dict:
        return {"type": "object"}
    if isinstance(hint, type):
        module = hint.__module__
        if module.startswith("polars"):
            return _ref("PolarsFrame")
        if module.startswith(("pandas", "geopandas")):
            return _ref("PandasFrame")
    return {}


def request_schema(spec: Any) -> dict[str, Any]:
    """The JSON schema of an action's request body."""
    hints = _hints(spec.request)
    files = file_fields(spec)
    properties: dict[str, Any] = {}
    required = []
    for f in dataclasses.fields(spec.request):
        if f.name == "_":
            continue
        schema = _type_schema(hints.get(f.name, Any), path=files.get(f.name) in ("path", "text"))
        if files.get(f.name) == "values":
            schema = {"anyOf": [{"type": "object", "additionalProperties": {"anyOf": [_ref("Bytes"),
                                                                                      _ref("LocalFile")]}},
                                {"type": "null"}]}
        if f.metadata.get("secret"):
            schema = {**schema, "writeOnly": True}
        properties[f.name] = schema
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    if spec.needs_purpose and "note" not in properties:  # the door takes a note for every data access
        properties["note"] = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
