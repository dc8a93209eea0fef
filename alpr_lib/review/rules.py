"""The published audit-review rules as data: ``alpr_lib/data/audit_rules.toml`` plus the department's tuning.

The file ships with the software and says, for each rule id, its title, what it looks for and its default
parameters. The department changes parameters (or turns a rule off) through the ``audit_rules`` setting in the
records database, written by the audited ``settings.set``; nothing inside a store directory can change a rule.
:func:`check_overrides` refuses an unknown rule or parameter, or a value of the wrong type, when the setting is
written, so a typo never silently leaves a default in force.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from alpr_lib.errors import ConfigError

__all__ = ["RULE_IDS", "Rule", "RuleSet", "check_overrides", "published_rules", "rule_set"]

#: the stable rule ids, in the order a review lists them (the JSON of ``alpr audit review`` uses them)
RULE_IDS = ("generic_note", "bad_case_number", "after_hours", "repeated_plate", "broad_query", "burst",
            "denied_attempts", "dormant_account", "disabled_user_session", "sensitive_term")
_TEXT_KEYS = ("title", "explanation")


@dataclass(frozen=True)
class Rule:
    """One rule: its id, what it is called and looks for, and the parameters in force."""

    id: str
    title: str
    explanation: str
    params: Mapping[str, Any]
    tuned: tuple[str, ...] = ()  # the parameters the department changed

    @property
    def enabled(self) -> bool:
        return bool(self.params.get("enabled", True))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "explanation": self.explanation, "params": dict(self.params),
                "tuned_by_department": list(self.tuned)}


@dataclass(frozen=True)
class RuleSet:
    """Every rule with the parameters in force, and the review's default window."""

    rules: tuple[Rule, ...]
    default_window_days: int

    def __getitem__(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)

    def as_dict(self) -> dict[str, Any]:
        return {"default_window_days": self.default_window_days, "rules": [r.as_dict() for r in self.rules]}


@cache
def _published() -> dict[str, Any]:
    text = resources.files("alpr_lib").joinpath("data/audit_rules.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    missing = set(RULE_IDS) - set(data.get("rules", {}))
    if missing:  # pragma: no cover - a packaging mistake
        raise RuntimeError(f"audit_rules.toml lacks the rules {sorted(missing)}")
    return data


def published_rules() -> RuleSet:
    """The rules as published, without the department's tuning."""
    return rule_set({})


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
    return False


def check_overrides(value: Any) -> dict[str, dict[str, Any]]:
    """The ``audit_rules`` setting checked against the published rules (ConfigError says what is wrong)."""
    if not isinstance(value, Mapping):
        raise ConfigError('audit_rules must map rule ids to parameters, e.g. {"burst": {"max_accesses": 40}}')
    rules = _published()["rules"]
    out: dict[str, dict[str, Any]] = {}
    for rule_id, params in value.items():
        if rule_id not in rules:
            raise ConfigError(f"unknown audit rule {rule_id!r}; the rules are {', '.join(RULE_IDS)}")
        if not isinstance(params, Mapping):
            raise ConfigError(f"audit rule {rule_id!r}: give a table of parameters, not {params!r:.60}")
        defaults = {k: v for k, v in rules[rule_id].items() if k not in _TEXT_KEYS}
        checked: dict[str, Any] = {}
        for name, item in params.items():
            if name not in defaults:
                raise ConfigError(f"audit rule {rule_id!r} has no parameter {name!r}; its parameters are "
                                  f"{', '.join(sorted(defaults))}")
            if not _same_kind(defaults[name], item):
                raise ConfigError(f"audit rule {rule_id}.{name} must be like its default {defaults[name]!r:.60}, "
                                  f"not {item!r:.60}")
            if isinstance(item, int | float) and not isinstance(item, bool) and item < 0:
                raise ConfigError(f"audit rule {rule_id}.{name} must not be negative ({item})")
            checked[str(name)] = list(item) if isinstance(item, list | tuple) else item
        out[str(rule_id)] = checked
    return out


def rule_set(overrides: Mapping[str, Mapping[str, Any]] | None) -> RuleSet:
    """The published rules with the department's ``overrides`` applied."""
    data = _published()
    overrides = overrides or {}
    rules = []
    for rule_id in RULE_IDS:
        spec = data["rules"][rule_id]
        params = {k: v for k, v in spec.items() if k not in _TEXT_KEYS}
        tuned = dict(overrides.get(rule_id, {}))
        params.update(tuned)
        rules.append(Rule(rule_id, spec["title"], " ".join(spec["explanation"].split()), params, tuple(tuned)))
    return RuleSet(tuple(rules), int(data["review"]["default_window_days"]))
