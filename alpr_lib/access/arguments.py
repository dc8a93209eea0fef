"""Binding a call's arguments to its declared request type, refusing wrong types with a clear message.

Each request field's annotation is its declared type. Accepted forms: ``str``, ``int``, ``float`` (an int is
accepted), ``bool``, ``X | None``, ``tuple[str, ...]`` (a list or tuple of strings; a lone string is refused,
because ``cameras="MPD-F001"`` would otherwise be read as seven one-letter cameras), ``Literal[...]`` and
``Any``. Anything the annotation does not admit is a :class:`ValidationError` naming the argument.

Some values have the declared type and still cannot be used anywhere below, so they are refused here, once,
for every action: a whole number outside the 64-bit range (no database column holds it, and past 4,300
digits Python cannot even print it into the audit record), a number too large for a float, text with a NUL
character (PostgreSQL text cannot hold one) or longer than 10,000 characters. An ``Any`` argument (a place,
an incident list, a setting's value) is walked for the same, and must not nest deeper than a few levels.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any

from alpr_lib.errors import ValidationError

__all__ = ["bind", "signature_of"]

_MAX_TEXT = 10_000
#: the range of a signed 64-bit integer: what SQLite and PostgreSQL integer columns hold
_MIN_INT, _MAX_INT = -(2**63), 2**63 - 1
#: how deep an ``Any`` argument may nest (a list of incidents, a dict of offense limits), and how many values
_MAX_DEPTH = 6
_MAX_ITEMS = 100_000


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@cache
def signature_of(cls: type) -> inspect.Signature:
    """The Python signature of a request class: fields before ``KW_ONLY`` positional, the rest keyword-only."""
    params = []
    for f in dataclasses.fields(cls):
        kind = inspect.Parameter.KEYWORD_ONLY if f.kw_only else inspect.Parameter.POSITIONAL_OR_KEYWORD
        default = (f.default if f.default is not dataclasses.MISSING else
                   f.default_factory() if f.default_factory is not dataclasses.MISSING else inspect.Parameter.empty)
        params.append(inspect.Parameter(f.name, kind, default=default, annotation=f.type))
    return inspect.Signature(params)


_WORDS = {str: "text", int: "a whole number", float: "a number", bool: "True or False", type(None): "None",
          datetime: "a datetime", date: "a date"}


def _describe(hint: Any) -> str:
    """A declared type in words for a message ('text or None', 'a list of text')."""
    if hint in _WORDS:
        return _WORDS[hint]
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(dict.fromkeys(_describe(h) for h in typing.get_args(hint)))
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(hint)[0])}"
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


def _check(name: str, value: Any, hint: Any) -> Any:
    """``value`` converted to the declared type, or ValidationError."""
    if hint is Any:
        _check_any(name, value)
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _check(name, value, option)
            except _Unusable:  # the right type, an unusable value: say what is wrong with it
                raise
            except ValidationError:
                continue
        raise ValidationError(f"{name} must be {_describe(hint)}, not {type(value).__name__} {_short(value)}")
    if origin is typing.Literal:
        # compare plain values only: a DataFrame's == is element-wise (and raises on mixed types)
        if isinstance(value, str | int | float | bool | None) and any(
                type(value) is type(option) and value == option for option in typing.get_args(hint)):
            return value
        raise ValidationError(f"{name} must be one of {list(typing.get_args(hint))}, not {_short(value)}")
    if origin is tuple:
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
            raise ValidationError(f"{name} must be {_describe(hint)}, e.g. [{_short(value)}], not "
                                  f"{type(value).__name__}")
        (item,) = typing.get_args(hint)[:1]
        return tuple(_check(f"{name}[{i}]", v, item) for i, v in enumerate(value))
    if hint is type(None):
        if value is None:
            return None
        raise ValidationError(f"{name} must be None")
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return _whole(name, int(value))
    elif hint is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # an int with hundreds of digits
                raise _Unusable(f"{name} is far too large a number; give a sensible value") from None
            if math.isfinite(number):
                return number
            raise _Unusable(f"{name} must be a finite number, not {number}")
    elif hint is str:
        if isinstance(value, str):
            return _text(name, value)
    elif hint in (datetime, date) or isinstance(hint, type):
        if isinstance(value, hint):
            return value
    else:  # an annotation this module does not know: accept (the work validates it)
        return value
    raise ValidationError(f"{name} must be {_describe(hint)}, not {type(value).__name__} {_short(value)}")


class _Unusable(ValidationError):
    """A value of the declared type that nothing below can use (its message says why, not the type)."""


def _whole(name: str, number: int) -> int:
    """A whole number a database column can hold."""
    if not _MIN_INT <= number <= _MAX_INT:
        raise _Unusable(f"{name} is far too large a number (beyond ±2**63); give a sensible value")
    return number


def _text(name: str, text: str) -> str:
    """Text every records backend can store and every message can quote."""
    if len(text) > _MAX_TEXT:
        raise _Unusable(f"{name} is {len(text):,} characters long; at most {_MAX_TEXT:,} are accepted")
    if "\x00" in text:
        raise _Unusable(f"{name} contains a NUL character (\\x00); remove it")
    return text


def _check_any(name: str, value: Any) -> None:
    """An ``Any`` argument is passed on as given, so check what is inside it for what nothing below can use
    (huge numbers, NUL or endless text, endless nesting: the audit record must be able to describe it)."""
    seen = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > _MAX_ITEMS:
            raise _Unusable(f"{name} holds more than {_MAX_ITEMS:,} values")
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            _whole(name, item)
        elif isinstance(item, str):
            _text(name, item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            if depth >= _MAX_DEPTH:
                raise _Unusable(f"{name} is nested more than {_MAX_DEPTH} levels deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else list(item)
            stack.extend((child, depth + 1) for child in children)


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


def bind(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Build the request from a call's arguments, checked against the declared types."""
    sig = signature_of(cls)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise ValidationError(f"{exc}; the call takes {sig}") from None
    bound.apply_defaults()
    hints = _hints(cls)
    values = {name: _check(name, value, hints.get(name, Any)) for name, value in bound.arguments.items()}
    return cls(**values)
