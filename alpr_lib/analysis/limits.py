"""Offense-scaled canvass limits, declared as data (a department setting no product offers).

A canvass around a shoplifting should not sweep a city for a day; one around a homicide may need to. The
department sets, per offense type, the largest radius and time window an analyst may canvass without a
supervisor's approval, and which offenses are *serious* enough for convoy and frequent-location analysis.
Defaults live in :data:`DEFAULT_LIMITS`; ``STORE/department.toml`` overrides them per offense::

    [offense_limits.shooting]
    max_radius_m = 2500
    max_before_min = 480
    max_after_min = 480
    serious = true
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from alpr_lib.errors import AccessDenied, ConfigError, ValidationError

__all__ = ["DEFAULT_LIMITS", "OTHER", "OffenseLimit", "limit_for", "normalise_offense", "parse_offense_limits",
           "require_serious"]

#: The offense type used for anything not in the table.
OTHER = "other"


@dataclass(frozen=True)
class OffenseLimit:
    """Largest canvass an analyst may run for one offense type without an approval."""

    offense_type: str
    max_radius_m: float
    max_before_min: float
    max_after_min: float
    serious: bool = False

    def excess(self, radius_m: float, before_min: float, after_min: float) -> list[str]:
        """Human-readable list of what a request exceeds (empty when within the limit)."""
        out = []
        if radius_m > self.max_radius_m:
            out.append(f"radius {radius_m:g} m > {self.max_radius_m:g} m")
        if before_min > self.max_before_min:
            out.append(f"{before_min:g} min before > {self.max_before_min:g} min")
        if after_min > self.max_after_min:
            out.append(f"{after_min:g} min after > {self.max_after_min:g} min")
        return out


def _l(name: str, radius: float, before: float, after: float, serious: bool) -> OffenseLimit:
    return OffenseLimit(name, radius, before, after, serious)


#: Default table (a starting point for the ALPR administrator, not legal advice).
DEFAULT_LIMITS: dict[str, OffenseLimit] = {lim.offense_type: lim for lim in (
    _l("homicide", 3000, 720, 720, True),
    _l("shooting", 2000, 360, 360, True),
    _l("kidnapping", 5000, 720, 720, True),
    _l("sexual assault", 2000, 360, 360, True),
    _l("robbery", 1500, 240, 240, True),
    _l("carjacking", 1500, 240, 240, True),
    _l("assault with a deadly weapon", 1500, 240, 240, True),
    _l("arson", 1000, 240, 240, True),
    _l("human trafficking", 3000, 720, 720, True),
    _l("hit and run", 1000, 120, 120, False),
    _l("burglary", 800, 120, 120, False),
    _l("vehicle theft", 800, 120, 120, False),
    _l("catalytic converter theft", 500, 60, 60, False),
    _l("theft", 300, 60, 60, False),
    _l("vandalism", 300, 30, 30, False),
    _l(OTHER, 300, 30, 30, False),
)}


def normalise_offense(text: str | None) -> str:
    """Offense types compare lower-case with single spaces ("Hit and Run" == "hit and run")."""
    if text is None or not str(text).strip():
        raise ValidationError("give an offense_type, e.g. 'shooting' or 'burglary' (it sets the canvass limits)")
    return " ".join(str(text).lower().replace("_", " ").split())


def _number(offense: str, key: str, value: Any) -> float:
    try:
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("not finite")
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"offense_limits.{offense}.{key} must be a number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"offense_limits.{offense}.{key} must be >= 0, got {number:g}")
    return number


def parse_offense_limits(value: Any) -> dict[str, OffenseLimit]:
    """The ``offense_limits`` setting: department overrides merged onto :data:`DEFAULT_LIMITS`.

    Accepts a mapping (from ``department.toml``), a JSON object (from ``ALPR_OFFENSE_LIMITS``) or an already
    resolved table. An unknown offense starts from the ``other`` row, so only the changed keys are needed.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"offense_limits must be a JSON object: {exc}") from None
    if not isinstance(value, Mapping):
        raise ConfigError("offense_limits must be a table of offense types, e.g. [offense_limits.shooting]")
    table = dict(DEFAULT_LIMITS)
    keys = {"max_radius_m", "max_before_min", "max_after_min", "serious"}
    for raw_name, row in value.items():
        if isinstance(row, OffenseLimit):
            table[row.offense_type] = row
            continue
        try:
            name = normalise_offense(raw_name)
        except ValidationError:
            raise ConfigError(f"offense_limits has an empty offense name {raw_name!r}") from None
        if not isinstance(row, Mapping):
            raise ConfigError(f"offense_limits.{raw_name} must be a table with {sorted(keys)}")
        unknown = set(row) - keys
        if unknown:
            raise ConfigError(f"offense_limits.{raw_name}: unknown keys {sorted(unknown)}; known: {sorted(keys)}")
        base = table.get(name, replace(table[OTHER], offense_type=name))
        changes: dict[str, Any] = {k: _number(name, k, v) for k, v in row.items() if k != "serious"}
        if "serious" in row:
            if not isinstance(row["serious"], bool):
                raise ConfigError(f"offense_limits.{raw_name}.serious must be true or false")
            changes["serious"] = row["serious"]
        table[name] = replace(base, **changes)
    return table


@lru_cache(maxsize=16)
def _parsed(text: str) -> dict[str, OffenseLimit]:
    return parse_offense_limits(json.loads(text))


def offense_table(config: Any) -> dict[str, OffenseLimit]:
    """The department's table (its ``offense_limits`` setting over the defaults)."""
    raw = getattr(config, "offense_limits", None)
    if not raw:
        return DEFAULT_LIMITS
    return _parsed(json.dumps(raw, sort_keys=True))


def limit_for(config: Any, offense_type: str) -> OffenseLimit:
    """The limit row for an offense (the ``other`` row, renamed, when the offense is not listed)."""
    name = normalise_offense(offense_type)
    table = offense_table(config)
    return table.get(name) or replace(table[OTHER], offense_type=name)


def require_serious(config: Any, offense_type: str | None, what: str) -> str:
    """Convoy and frequent-location analysis are allowed only for the configured serious offenses."""
    table = offense_table(config)
    serious = sorted(k for k, v in table.items() if v.serious)
    if offense_type is None or not str(offense_type).strip():
        raise AccessDenied(f"{what} needs the offense_type under investigation; it must be one of the serious "
                           f"offenses {serious}")
    name = normalise_offense(offense_type)
    if name not in table or not table[name].serious:
        raise AccessDenied(f"{what} is allowed only for serious offenses {serious}; {name!r} is not one "
                           "(the ALPR administrator sets this list in department.toml [offense_limits])")
    return name
