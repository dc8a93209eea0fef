"""Department settings, declared as data.

Each :class:`Setting` names its default, its help text and a parser that validates it. A value comes from
exactly two places: the default here, or the ``department_settings`` table of the records database, written
only by the audited administrator action ``settings.set`` (old and new value in its audit record) or by
``alpr init --setting`` when the store is made (in the ``store.init`` record). Every one of them guards
access or the audit log (lockout, session lifetimes, purposes, case format, retention, limits, password and
argon2 rules), so none is ever read from an environment variable or from a file inside the store directory,
which a user's process can write. Where the audit key and checkpoints live is not a setting at all: see
:mod:`alpr_lib.audit.locations`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alpr_lib.errors import ConfigError

__all__ = ["DEFAULT_PURPOSES", "SETTINGS", "Config", "Purpose", "Setting", "load_config", "parse_setting"]


@dataclass(frozen=True)
class Purpose:
    """An authorised law-enforcement purpose (policy 462.2, 462.3(a)) and whether it needs a case number."""

    name: str
    requires_case: bool = False
    description: str = ""


#: Seeded from policy 462.2 (what ALPR is used for) and 462.5(b) (criminal investigation; civil or
#: administrative action). Identified by these lowercase names.
DEFAULT_PURPOSES: tuple[Purpose, ...] = (
    Purpose("stolen or wanted vehicles", description="identifying stolen or wanted vehicles"),
    Purpose("stolen plates", description="identifying stolen license plates"),
    Purpose("missing persons", description="locating missing persons"),
    Purpose("warrants", description="information related to active warrants"),
    Purpose("homeland security"),
    Purpose("electronic surveillance"),
    Purpose("suspect interdiction"),
    Purpose("stolen property recovery"),
    Purpose("criminal investigation", requires_case=True,
            description="a specific criminal investigation (462.5(b)); needs a case number"),
    Purpose("civil or administrative action", description="department-related civil or administrative action"),
)


def _int_at_least(minimum: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"expected a whole number, got {value!r}") from None
        if number < minimum:
            raise ConfigError(f"expected a number >= {minimum}, got {number}")
        return number

    return parse


def _retention_days(value: Any) -> int:
    days = _int_at_least(1)(value)
    if days < 365:
        raise ConfigError(f"retention must be at least 365 days (Government Code 34090.6: keep ALPR data at "
                          f"least one year), not {days}")
    return days


def _timezone(value: Any) -> str:
    try:
        if len(str(value)) > 64:
            raise ValueError("too long")
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"unknown time zone {value!r}; use an IANA name such as America/Los_Angeles") from None
    return str(value)


def _regex(value: Any) -> str:
    try:
        re.compile(str(value))
    except re.error as exc:
        raise ConfigError(f"invalid regular expression {value!r}: {exc}") from None
    return str(value)


def _purposes(value: Any) -> tuple[Purpose, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"purposes must be a JSON list: {exc}") from None
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError("purposes must be a non-empty list")
    out = []
    for item in value:
        if isinstance(item, Purpose):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            out.append(Purpose(item["name"].strip().lower(), bool(item.get("requires_case", False)),
                               str(item.get("description", ""))))
        else:
            raise ConfigError(f"each purpose needs a 'name' (and optional 'requires_case'); got {item!r}")
    return tuple(out)


def _table_of_tables(value: Any) -> dict[str, dict[str, Any]]:
    """A mapping of names to small tables of scalars (its meaning is checked by the module that uses it)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"expected a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError("expected a table of tables, e.g. [offense_limits.shooting]")
    out: dict[str, dict[str, Any]] = {}
    for name, row in value.items():
        if not isinstance(row, dict) or not all(isinstance(v, bool | int | float | str) for v in row.values()):
            raise ConfigError(f"{name!r} must be a table of numbers and true/false values")
        out[str(name)] = dict(row)
    return out


def _purpose_names(value: Any) -> tuple[str, ...]:
    """A list of purpose names (``["criminal investigation"]``), or ``["*"]`` for every purpose."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip().startswith("[") else [v for v in value.split(",") if v.strip()]
        except json.JSONDecodeError as exc:
            raise ConfigError(f"expected a JSON list of purpose names: {exc}") from None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"expected a list of purpose names (or [\"*\"] for all), got {value!r:.80}")
    return tuple(v.strip().lower() for v in value)


def _audit_rule_overrides(value: Any) -> dict[str, dict[str, Any]]:
    """Per audit-review rule id, parameters replacing the published defaults (checked against the rules)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(f"expected a JSON object of rule ids to parameters: {exc}") from None
    from alpr_lib.review.rules import check_overrides  # the published rules say what may be tuned

    return check_overrides(value)


def _percent(value: Any) -> int:
    number = _int_at_least(1)(value)
    if number > 100:
        raise ConfigError(f"expected a percentage from 1 to 100, got {number}")
    return number


def _http_url(value: Any) -> str:
    text = str(value).strip()
    if text and not re.match(r"^https?://[^\s/]+", text):
        raise ConfigError(f"{text[:80]!r} is not an http:// or https:// URL ('' turns the webhook off)")
    return text


def _no_external_sharing(value: Any) -> str:
    """Only 'none': a vendor-enabled nationwide sharing setting once went unnoticed for 17 months (issue 13)."""
    if str(value).strip().lower() != "none":
        raise ConfigError(f"external sharing cannot be enabled ({str(value)[:40]!r}): Civil Code 1798.90.55 and AG "
                          "bulletin 2023-DLE-06 allow release of ALPR data only on a written request reviewed under "
                          "policy 462.7; record it with `alpr releases add`")
    return "none"


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, default, help text and validating parser."""

    name: str
    default: Any
    help: str
    parse: Callable[[Any], Any]


SETTINGS: tuple[Setting, ...] = (
    Setting("timezone", "America/Los_Angeles", "Department time zone; dates without a zone are read in it.",
            _timezone),
    Setting("purposes", DEFAULT_PURPOSES, "Authorised law-enforcement purposes (462.2, 462.3(a), 462.5(b)).",
            _purposes),
    Setting("case_number_pattern", r"^\d{2}-\d{6}$",
            "Regular expression a case number must match (default NN-NNNNNN).", _regex),
    Setting("lockout_failures", 5, "Failed logins in a row that lock an account.", _int_at_least(1)),
    Setting("lockout_minutes", 15, "How long a locked account stays locked.", _int_at_least(1)),
    Setting("session_max_hours", 8, "A session expires this many hours after login.", _int_at_least(1)),
    Setting("session_idle_minutes", 30, "A session expires after this many idle minutes.", _int_at_least(1)),
    Setting("password_min_length", 12, "Minimum password length.", _int_at_least(8)),
    Setting("password_hash_time_cost", 3, "argon2id iterations (lower only to speed up test suites).",
            _int_at_least(1)),
    Setting("password_hash_memory_kib", 65_536, "argon2id memory in KiB (lower only to speed up test suites).",
            _int_at_least(8_192)),
    Setting("certification_valid_days", 365, "Default validity of a training certification.", _int_at_least(1)),
    Setting("retention_days", 365, "Minimum retention of reads (Gov. Code 34090.6: at least one year).",
            _retention_days),
    Setting("offense_limits", {},
            "Per offense type: largest canvass radius/window without a supervisor's approval, and whether it is "
            "serious enough for convoy and frequent-location analysis ([offense_limits.<offense>] tables; see "
            "alpr_lib.analysis.limits for the defaults).",
            _table_of_tables),
    Setting("notes_required_for", (),
            "Purposes whose data accesses must carry a note saying what the access is for (a JSON list of "
            "purpose names, or [\"*\"] for every purpose); a missing note is refused and audited.",
            _purpose_names),
    Setting("audit_rules", {},
            "The department's tuning of the published audit-review rules (alpr_lib/data/audit_rules.toml): per "
            "rule id, parameters replacing the defaults, e.g. {\"burst\": {\"max_accesses\": 40}} or "
            "{\"after_hours\": {\"enabled\": false}}; see docs/audit-review.md.",
            _audit_rule_overrides),
    Setting("inactivity_suspend_days", 90,
            "An account unused for this many days is suspended at its next login until a supervisor reinstates "
            "it (State Auditor's recommendation; 0: never). Service accounts are exempt.", _int_at_least(0)),
    Setting("training_pass_mark", 80,
            "Percent of a training module's exercises answered correctly to pass it (462.8).", _percent),
    Setting("refresher_notice_days", 30,
            "Refresher training is due this many days before a certificate expires.", _int_at_least(0)),
    Setting("training_course_path", "",
            "The department's training course file (TOML), or '' for the built-in course "
            "(alpr_lib/data/course.toml).", str),
    Setting("external_sharing", "none",
            "Automatic sharing of reads with systems outside the department (a vendor's nationwide network, other "
            "agencies' portals). Only 'none' is accepted: Civil Code 1798.90.55 and AG bulletin 2023-DLE-06 allow "
            "release only on a written request approved under 462.7 (`alpr releases`); any attempt to change it is "
            "refused and audited.", _no_external_sharing),
    Setting("basemap_style_url", "",
            "Map style URL for kepler.gl maps: the department's internal tile server, or '' for no basemap "
            "(no third party learns where investigators look; the data layers still draw).", str),
    Setting("hotlist_refresh_days", 7, "A hotlist not re-imported within this many days is stale; its hits say so "
            "(a list's own period is set at import).", _int_at_least(1)),
    Setting("alert_encounter_minutes", 10, "Reads of one hotlisted plate at one camera within this many minutes "
            "are one encounter: they update one alert.", _int_at_least(1)),
    Setting("alert_webhook_url", "", "New alerts are POSTed as JSON to this http(s) URL of the department's "
            "dispatch system ('' for none).", _http_url),
    Setting("alert_email_to", "", "New alerts are e-mailed to this address ('' for none).", str),
    Setting("alert_smtp_host", "localhost:25", "SMTP server (host:port) for alert e-mails.", str),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Config:
    """Resolved settings for one store. Attribute access: ``config.timezone``."""

    def __init__(self, values: dict[str, Any], sources: dict[str, str]) -> None:
        self._values = values
        self.sources = sources

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self._values["timezone"])

    def purpose(self, name: str) -> Purpose | None:
        key = name.strip().lower()
        return next((p for p in self._values["purposes"] if p.name == key), None)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


def parse_setting(name: str, value: Any) -> Any:
    """``value`` checked and converted for the setting ``name``; a ConfigError says what is wrong."""
    setting = _BY_NAME.get(name)
    if setting is None:
        raise ConfigError(f"unknown setting {name!r}; settings are {sorted(_BY_NAME)}")
    return setting.parse(value)


def load_config(stored: Mapping[str, Any] | None = None) -> Config:
    """Every setting: its default, unless the records database holds a value (``stored``, by name).

    Unknown names are ignored, so an older release can open a store that a newer one configured."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    stored = stored or {}
    for setting in SETTINGS:
        if setting.name in stored:
            try:
                values[setting.name] = setting.parse(stored[setting.name])
            except ConfigError as exc:
                raise ConfigError(f"setting {setting.name!r} (from the records database): {exc}") from None
            sources[setting.name] = "records database"
        else:
            values[setting.name] = setting.parse(setting.default)
            sources[setting.name] = "default"
    return Config(values, sources)
