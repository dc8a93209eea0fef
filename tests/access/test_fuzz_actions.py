"""Property-based fuzz of every declared action (issue 10): wrong types, out-of-range and Unicode arguments.

For each action in the registry (so a new action is fuzzed without touching this file) hypothesis draws
calls that mix valid values (to reach the plan and the work) with wrong types, out-of-range numbers and
dates, hostile Unicode and random extra keywords, passed positionally or by keyword, through the namespace
method or a flat alias, as a user who holds the permission and sometimes as one who does not. The
properties: the call returns or raises an :class:`alpr.AlprError` (never "failed unexpectedly": that means the
input escaped validation); it adds exactly one audit record, named after the action and the caller; and
the audit chain still verifies after the whole fuzz.

Bounded for CI: ``derandomize=True`` (the same examples every run) and 30 examples per action, about 35 s
on two cores with ``-n 2``. To fuzz harder by hand (the tests are then marked ``slow``)::

    ALPR_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/access/test_fuzz_actions.py -n 2 -p no:cacheprovider

Escapes it found outside argument binding are kept as regression tests at the end.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import types
import typing
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

import alpr_lib as alpr
from alpr_lib.access.actions import Action, get_action
from alpr_lib.access.arguments import _hints
from alpr_lib.access.authenticate import open_session
from alpr_lib.auth import users
from alpr_lib.auth.roles import SERVICE_PERMISSIONS, permissions_of
from alpr_lib.config import SETTINGS
from alpr_lib.records import settings as settings_rows
from alpr_lib.store.store import Store
from tests.conftest import ORG, PASSWORDS, StoreKit, make_kit, random_reads, use_home

DEFAULT_EXAMPLES = 30
EXAMPLES = int(os.environ.get("ALPR_FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
pytestmark = [pytest.mark.slow] if EXAMPLES > DEFAULT_EXAMPLES else []

FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

CASE = "24-001234"
#: the accounts the fuzz logs in as: no fuzzed call may disable them or reset their password
POOL = frozenset(PASSWORDS)
#: accounts the fuzz may disable, reset or designate freely
VICTIMS = ("victim1", "victim2")
SELF_PASSWORD = "Self-pass-00001"
_SELF_NUMBERS = itertools.count(1)


# ---------------------------------------------------------------------------------------------- the store
@dataclass(frozen=True)
class FuzzStore:
    """The module's store and what valid arguments refer to (incidents, an approval, read ids)."""

    kit: StoreKit
    home: Path
    workdir: Path
    incidents: tuple[str, str]
    approval_id: str
    read_ids: tuple[str, ...]
    roles: dict[str, tuple[str, ...]]
    settings: dict[str, Any]


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzStore]:
    """Built once (under its own HOME, whose audit system file names the keys), then fuzzed by every test."""
    base = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as mp:
        use_home(base, mp)
        kit = make_kit(base / "store")
        reads = random_reads(400, seed=11, start=datetime(2026, 5, 25, tzinfo=UTC), days=10)
        kit.login("ingest").ingest_reads(reads, progress=False)
        analyst = kit.login("analyst")
        first = analyst.create_incident(CASE, "burglary", "2026-05-28 12:00", lat=37.43, lon=-121.9)
        second = analyst.create_incident(CASE, "burglary", "2026-05-29 13:00", lat=37.435, lon=-121.905)
        approval = kit.login("supervisor").grant_approval(
            CASE, analyst="analyst", offense_type="burglary", radius_m=2000, before_min=600, after_min=600,
            reason="The suspect vehicle fled toward the freeway.")
        admin = kit.login("admin")
        for name in VICTIMS:
            admin.add_user(name, full_name="Victim User", title="Analyst", organisation=ORG, roles=["analyst"],
                           password="Victim-pass-0001", must_change_password=False)
        from tests.training.helpers import answer_all

        answer_all(alpr.login(VICTIMS[0], "Victim-pass-0001", kit.path))  # so a trainer's sign-off can pass
        from tests.hotlists.fuzz_support import hotlist_store

        hotlist_store(kit, base)  # issue 12: a list and alerts to verify, reject and dispose
        from tests.records_mgmt.fuzz_support import records_store

        records_store(kit, base)  # issue 13: holds, release requests, evidence packages, a purge
        store = Store.open(kit.path)
        roles = {name: users.require_user(store.db, name).roles for name in POOL}
        stored = settings_rows.get_all(store.db)
        store.close()
    workdir = base / "cwd"
    workdir.mkdir()
    yield FuzzStore(kit, base, workdir, (first.incident_id, second.incident_id), approval,
                    tuple(reads.get_column("read_id").head(5).to_list()), roles, stored)


@pytest.fixture
def fuzz(fuzz_store: FuzzStore, monkeypatch: pytest.MonkeyPatch) -> FuzzStore:
    """The module's store, used under its HOME, with a scratch working directory (fuzzed relative paths)."""
    use_home(fuzz_store.home, monkeypatch)
    monkeypatch.chdir(fuzz_store.workdir)
    return fuzz_store


# ---------------------------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Opaque:
    """An object no argument expects (a repr that says so)."""

    tag: int = 0


HOSTILE_TEXT = [
    "", " ", "\t\n", "\x00", "7AB\x00K123", "\x1b[31m7ABK123", "\u202e321KBA7", "7ABK123\u202c", "\u200b7ABK123",
    "\ufeff24-001234", "\uff17\uff21\uff22\uff2b\uff11\uff12\uff13",
    "\uff12\uff14-\uff10\uff10\uff11\uff12\uff13\uff14",
    "7ABK123\u0301", "e\u0301\u0301\u0301", "\u00df", "\ufb01", "\u0130", "\u212a", "\U0001f693\U0001f6a8",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\U0001f1fa\U0001f1f8", "\u0667ABK\u0661\u0662\u0663", "null",
    "None", "'; DROP TABLE audit_log; --", "../../etc/passwd", "%s%s%n", "{0}", "stolen plates\n", "STOLEN PLATES",
    "criminal\u00a0investigation", "24-001234\n", "24-001234 ", "INC-", "INC-\x00", "APR-" + "f" * 12, "*", "?", "[",
    "]", "[Z-A]", "***K1", "POINT EMPTY", "POLYGON EMPTY", "POINT (nan nan)", "MULTIPOINT (1 2)",
    "x" * 10_001, "\U0001f693" * 5_000, "7" * 200_000,
]

WEIRD_DATES = [date(9999, 12, 31), date(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), datetime.min, datetime.max,
               datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC), "9999-12-31",
               "0001-01-01", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00", "2026-13-45", "2026-02-30",
               "+275760-09-13", "2026-06-01T25:00", "1e9", "yesterday", "2026-06-01T12:00:00+99:00"]

OUT_OF_RANGE = st.sampled_from([
    -1, -1.0, -1e-300, -1e9, 0, -0.0, 1e308, 1.7976931348623157e308, 5e-324, 2**31, 2**53 + 1, 2**63 - 1, 2**63,
    -(2**63) - 1, 10**30, 10**400, -(10**400), 9999, 99999, 10**6, 3601, 20_001, 7 * 24 * 60 + 1])

WILD_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf]),
    st.binary(max_size=16), st.builds(Opaque, st.integers(0, 9)), st.just(object()),
    st.sampled_from(WEIRD_DATES), st.just(timedelta(days=1)), st.just(Point(-121.9, 37.43)),
    st.just(pl.DataFrame({"x": [1]})), st.just(Path("nowhere")), st.just(Point()),
    st.just(("2026-05-28 12:00", None)), st.just(NotImplemented), st.just(Ellipsis),
    st.complex_numbers(max_magnitude=10))

UNICODE = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=24),
    st.text(alphabet=st.characters(categories=("Cc", "Cf", "Mn", "Zs", "Nd", "So")), max_size=12),
    st.text(alphabet="7ABK123*?[]- .", max_size=12))

WILD = st.deferred(lambda: st.one_of(
    WILD_SCALARS, OUT_OF_RANGE, UNICODE,
    st.lists(st.one_of(WILD_SCALARS, UNICODE), max_size=4),
    st.lists(st.one_of(WILD_SCALARS, UNICODE), max_size=4).map(tuple),
    st.dictionaries(st.one_of(UNICODE, st.integers()), st.one_of(WILD_SCALARS, UNICODE), max_size=3),
    st.frozensets(st.integers(), max_size=3)))


def _cameras(**columns: list[Any]) -> pl.DataFrame:
    base: dict[str, list[Any]] = {"camera_id": ["FZ1"], "name": ["Fuzz site"], "kind": ["fixed"], "lat": [37.43],
                                  "lon": [-121.9], "agency": ["Milpitas PD"]}
    base.update(columns)
    return pl.DataFrame({k: v for k, v in base.items() if v != ["<drop>"]}, strict=False)


def camera_frames() -> st.SearchStrategy[pl.DataFrame]:
    """A valid registry row, and frames that are wrong in one way each."""
    return st.sampled_from([
        _cameras(), _cameras(kind=["mobile"], lat=[None], lon=[None]), _cameras(lat=["north"]),
        _cameras(lat=[math.nan]), _cameras(lon=[math.inf]), _cameras(lat=[1e308]), _cameras(kind=["orbital"]),
        _cameras(camera_id=[None]), _cameras(camera_id=[""]), _cameras(camera_id=["\u202eFZ\x00"]),
        _cameras(agency=["<drop>"]), _cameras(lat=[True]), _cameras(lat=[[1.0]]), _cameras(name=[7]),
        _cameras(direction=["north"]), _cameras(unit=[{"a": 1}]), _cameras(extra=[1]),
        pl.DataFrame(), pl.DataFrame({"camera_id": []}), _cameras(lat=[2**70]), _cameras(camera_id=["FZ\x003"]),
        _cameras(name=[{"a": 1}]), _cameras(name=[[1, 2]]), _cameras(lat=[b"\xff"]),
        _cameras(camera_id=["FZ2", "FZ2"], name=["a", "b"], kind=["fixed", "fixed"], lat=[37.4, 37.5],
                 lon=[-121.9, -121.8], agency=["A", "B"])])


_READ_PREFIX = itertools.count(1)


def read_frames() -> st.SearchStrategy[pl.DataFrame]:
    """Small batches of reads: valid ones (fresh ids) and ones wrong in one column."""
    def valid(_: int) -> pl.DataFrame:
        return random_reads(4, seed=next(_READ_PREFIX), prefix=f"F{next(_READ_PREFIX)}-")

    def broken(change: tuple[str, Any]) -> pl.DataFrame:
        column, value = change
        frame = random_reads(3, seed=5, prefix="B")
        if value == "<drop>":
            return frame.drop(column)
        return frame.with_columns(pl.Series(column, [value] * frame.height, strict=False))

    changes = st.sampled_from([
        ("plate", "７ＡＢＫ１２３"), ("plate", "\u202e7ABK123"), ("plate", ""), ("plate", None), ("plate", "<drop>"),
        ("plate_confidence", math.nan), ("plate_confidence", 1e308), ("plate_confidence", "high"),
        ("lat", math.inf), ("lat", 91.0), ("lon", "west"), ("captured_at", datetime(9999, 12, 31, tzinfo=UTC)),
        ("captured_at", datetime(1, 1, 1, tzinfo=UTC)), ("captured_at", "2026-13-45"), ("captured_at", None),
        ("camera_id", None), ("camera_id", "\x00"), ("read_id", "🚓"), ("read_id", None), ("heading", -1e9),
        ("region", "ÇÀ"), ("store_kind", "training"), ("store_kind", 5), ("unit", 2**40), ("plate", ["7ABK123"]),
        ("captured_at", timedelta(hours=1)), ("source", b"\xff\xfe"), ("unit", {"a": 1}),
        ("store_kind", ["operational"]), ("camera_id", "CAM\x001")])
    return st.one_of(st.integers(0, 3).map(valid), changes.map(broken), st.just(pl.DataFrame()),
                     st.just(pl.DataFrame({"plate": ["7ABK123"]})))


def _valid_by_name(fx: FuzzStore, spec: Action) -> dict[str, st.SearchStrategy[Any]]:
    """Valid values for fields by name (so that most examples get past binding into the plan and the work)."""
    times = st.sampled_from(["2026-05-25", "2026-05-27 08:00", date(2026, 5, 30),
                             datetime(2026, 6, 1, 12, tzinfo=UTC), None])
    incidents = st.sampled_from(fx.incidents)
    places = st.one_of(incidents, st.just((37.43, -121.9)), st.just(Point(-121.9, 37.43)),
                       st.just({"lat": 37.43, "lon": -121.9}),
                       st.just("POLYGON((-121.91 37.42, -121.89 37.42, -121.89 37.44, -121.91 37.42))"))
    user_field = st.sampled_from(VICTIMS) if spec.name.startswith("users.") or spec.name in (
        "training.certify", "training.sign_off", "training.revoke") \
        else st.sampled_from(["analyst", "supervisor"])
    common: dict[str, st.SearchStrategy[Any]] = {
        "pattern": st.sampled_from(["7AB*", "7ABK12?", "*K123", "[B8]ABK123", "7abk 123"]),
        "plate": st.sampled_from(["7ABK123", "7abk-123", "1ABC234"]),
        "read_id": st.sampled_from(fx.read_ids),
        "purpose": st.sampled_from(["stolen plates", "criminal investigation"]),
        "case_number": st.just(CASE),
        "start": times, "end": times, "completed_at": st.sampled_from(["2026-05-01", None]),
        "occurred_at": st.sampled_from(["2026-05-28 12:00", datetime(2026, 5, 29, 9, tzinfo=UTC)]),
        "occurred_end": st.sampled_from([None, "2026-05-28 12:30"]),
        "region": st.sampled_from(["CA", ("CA", "NV"), None]),
        "cameras": camera_frames() if spec.name == "cameras.register" else st.sampled_from([("CAM1", "CAM2"), None]),
        "exact": st.booleans(), "progress": st.just(False), "group_confusions": st.booleans(),
        "exist_ok": st.booleans(), "must_change_password": st.booleans(),
        "source": read_frames(), "source_name": st.sampled_from([None, "fuzz batch"]),
        "images": st.sampled_from([None, {}, {"F0000000": b"\x89PNG fuzz"}]),
        "incident_or_point": places, "incidents": st.lists(incidents, min_size=2, max_size=2),
        "radius_m": st.sampled_from([100, 300.0, 1500]), "before_min": st.sampled_from([10, 30.0, 200]),
        "after_min": st.sampled_from([10, 30.0, 200]),
        "offense_type": st.sampled_from(["burglary", "homicide", "shooting"]),
        "approval": st.sampled_from([None, fx.approval_id]),
        "at": st.sampled_from(["2026-05-28 12:00", ("2026-05-28 12:00", "2026-05-28 12:10")]),
        "min_scenes": st.sampled_from([1, 2]), "gap_s": st.sampled_from([30, 60.0, 600]),
        "min_co_occurrences": st.sampled_from([1, 2, 3]), "cluster_radius_m": st.sampled_from([100, 200.0]),
        "min_reads": st.sampled_from([1, 2]), "limit": st.sampled_from([None, 5, 100]),
        "username": user_field, "analyst": st.sampled_from(["analyst", "supervisor"]),
        "action": st.sampled_from([None, "login", spec.name]), "outcome": st.sampled_from([None, "allowed", "denied"]),
        "path": st.sampled_from(["audit-export.jsonl", Path("audit-export-2.jsonl")]), "fmt": st.just("jsonl"),
        "incident_id": st.one_of(incidents, st.none()) if spec.name == "approvals.grant" else incidents,
        "valid_days": st.sampled_from([1, 7, 30]),
        "reason": st.just("The suspect vehicle was seen heading north."),
        "lat": st.sampled_from([37.43, None]), "lon": st.sampled_from([-121.9, None]),
        "polygon_wkt": st.sampled_from([None, "POLYGON((-121.91 37.42, -121.89 37.42, -121.89 37.44, -121.91 37.42))"]),
        "location_name": st.sampled_from([None, "Main St"]), "summary": st.just(""),
        "full_name": st.just("Fuzz User"), "title": st.just("Tester"), "organisation": st.just(ORG),
        "roles": st.sampled_from([("analyst",), ["auditor"]]), "member_type": st.sampled_from(["member", "contractor"]),
        "password": st.just("Fuzz-pass-00001"), "new_password": st.just("Newer-pass-00002"),
        "old_password": st.just(SELF_PASSWORD), "designation": st.just("training_sergeant"),
        "course": st.just("ALPR refresher"),
        "name": st.sampled_from([s.name for s in SETTINGS]),
        "value": st.sampled_from([45, "45", 12, "America/Denver", True, "", [], {"theft": {"max_radius_m": 400}}]),
        "module_id": st.just("purposes"), "exercise_id": st.sampled_from(["suspicion", "public-review"]),
        "n_reads": st.just(1000), "replace": st.booleans(),
    }
    from tests.hotlists.fuzz_support import hotlist_values

    common.update(hotlist_values(fx.kit.path, spec))  # issue 12: hotlist and alert fields
    from tests.review.fuzz_support import review_values

    common.update(review_values(fx.kit, spec))  # issue 14: audit-review fields, a flag in a closed period
    from tests.records_mgmt.fuzz_support import records_values

    common.update(records_values(fx.kit.path, spec))  # issue 13: records-management fields
    if spec.name == "users.add":
        common["username"] = st.from_regex(r"\Afz[a-z0-9]{3,10}\Z")
    return common


def _valid_by_type(hint: Any) -> st.SearchStrategy[Any]:
    """A valid value of a declared type, for fields the table above does not name."""
    if hint is Any:
        return WILD
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_valid_by_type(h) for h in typing.get_args(hint)])
    if origin is tuple:
        return st.lists(st.text(max_size=8), max_size=3).map(tuple)
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(hint))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=12), int: st.integers(0, 50), float: st.floats(0, 1000), bool: st.booleans(),
        type(None): st.none(), date: st.dates(), datetime: st.datetimes(), pl.DataFrame: st.just(pl.DataFrame())}
    return simple.get(hint, WILD)


def _protect(spec: Action, name: str, value: Any) -> Any:
    """Keep fuzzed admin calls off the accounts the fuzz logs in as (disabling or resetting them would break
    the store for the next example); any text that folds to one of them targets a throwaway account."""
    if name == "username" and spec.name.startswith("users.") and isinstance(value, str):
        folded = unicodedata.normalize("NFKC", value).strip().casefold()
        if folded in POOL or any(p in folded for p in POOL):
            return VICTIMS[0]
    return value


@dataclass(frozen=True)
class Call:
    """One fuzzed call: who makes it, through which method, with which arguments."""

    caller: str
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        def short(v: Any) -> str:
            text = repr(v)
            return text if len(text) < 80 else text[:77] + "..."
        return (f"Call({self.caller!r}, {self.method!r}, args=({', '.join(short(a) for a in self.args)}), "
                f"kwargs={{{', '.join(f'{k!r}: {short(v)}' for k, v in self.kwargs.items())}}})")


EXTRA_NAMES = st.one_of(
    st.sampled_from(["purposes", "case", "Plate", "limit_", "kwargs", "args", "__class__", "ｐｕｒｐｏｓｅ", "",
                     "purpose\x00", "🚓", "request", "ctx", "plan"]),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=10))


def _may(fx: FuzzStore, user: str, spec: Action) -> bool:
    """Whether ``user`` passes the permission and training checks for ``spec`` (trainee has no training)."""
    roles = fx.roles[user]
    if "service" in roles and spec.permission not in SERVICE_PERMISSIONS:
        return False
    if spec.needs_training and user == "trainee":
        return False
    return spec.permission in permissions_of(roles)


def _chance(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in ``one_in`` draws (st.integers would favour its bounds, so 0 far too often)."""
    return draw(st.sampled_from([False] * (one_in - 1) + [True]))


@st.composite
def calls(draw: st.DrawFn, fx: FuzzStore, spec: Action) -> Call:
    """A call of ``spec``: most fields valid and a few (often one) wild, out of range, Unicode or left out, so
    that most examples get past binding into the plan and the work; some arguments by position."""
    hints = _hints(spec.request)
    valid = _valid_by_name(fx, spec)
    names = [f.name for f in spec.fields]
    bad = set(draw(st.lists(st.sampled_from(names), max_size=draw(st.sampled_from([0, 0, 1, 1, 1, 2, 4])),
                            unique=True))) if names else set()
    values: dict[str, Any] = {}
    for f in spec.fields:
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        kind = draw(st.sampled_from(["wild", "wild", "range", "text", "text", "omit"])) if f.name in bad else "valid"
        if kind == "omit" or (kind == "valid" and has_default and f.name not in ("purpose", "case_number")
                              and _chance(draw, 4)):
            continue  # a required field left out, or a default taken
        strategy = {"valid": valid[f.name] if f.name in valid else _valid_by_type(hints.get(f.name, Any)),
                    "wild": WILD, "range": OUT_OF_RANGE, "text": UNICODE}[kind]
        values[f.name] = _protect(spec, f.name, draw(strategy))
    positional = [f.name for f in spec.fields if not f.kw_only]
    n_pos = draw(st.integers(0, len(positional)))
    args: list[Any] = []
    for name in positional[:n_pos]:
        if name not in values:
            break
        args.append(values.pop(name))
    if _chance(draw, 12):  # one argument too many
        args.append(draw(WILD))
    kwargs = dict(values)
    if _chance(draw, 10):
        # "self" would clash with the Session method's own first parameter in Python itself, before the
        # door runs (reported with issue 10: session.py's call(self, ...) is not positional-only)
        for extra in draw(st.lists(EXTRA_NAMES.filter(lambda n: n != "self"), min_size=1, max_size=2)):
            kwargs[extra] = draw(WILD)
    allowed = [u for u in sorted(POOL) if _may(fx, u, spec)]
    refused = [u for u in sorted(POOL) if not _may(fx, u, spec)]
    if spec.permission == "self.account":
        caller = "<self>"  # a fresh account per example: it may change its own password or log out
    elif refused and _chance(draw, 6):
        caller = draw(st.sampled_from(refused))
    else:
        caller = draw(st.sampled_from(allowed))
    method = draw(st.sampled_from([f"{spec.namespace}.{spec.method}", *spec.aliases]))
    return Call(caller, method, tuple(args), kwargs)


# ---------------------------------------------------------------------------------------------- the runner
def _audit_tail(store: Store) -> tuple[int, dict[str, Any] | None]:
    rows = store.db.query("SELECT COUNT(*) AS n FROM audit_log")
    last = store.db.query("SELECT seq, action, username, outcome, reason FROM audit_log ORDER BY seq DESC LIMIT 1")
    return int(rows[0]["n"]), (dict(last[0]) if last else None)


def _restore_settings(store: Store, original: dict[str, Any]) -> None:
    """Put the department settings back as the fixture left them (a fuzzed settings.set may change them)."""
    store.db.execute("DELETE FROM department_settings")
    for name, value in original.items():
        settings_rows.put(store.db, name, value, "2026-01-01T00:00:00.000000+00:00", "fuzz")


def _login(fx: FuzzStore, store: Store, caller: str) -> tuple[alpr.Session, str]:
    if caller != "<self>":
        return fx.kit.login(caller), caller
    name = f"self{next(_SELF_NUMBERS)}"
    users.create_user(store.db, store.config, username=name, full_name="Self Service", title="Analyst",
                      organisation=ORG, roles=["analyst"], password=SELF_PASSWORD, created_by="fuzz",
                      must_change_password=False)
    return alpr.login(name, SELF_PASSWORD, fx.kit.path), name


def run_call(fx: FuzzStore, spec: Action, call: Call) -> None:
    """Make one call and check the properties (only AlprError, never 'unexpectedly', one audit record)."""
    store = Store.open(fx.kit.path)
    try:
        session, username = _login(fx, store, call.caller)
        before, _ = _audit_tail(store)
        target: Callable[..., Any] = session
        for part in call.method.split("."):
            target = getattr(target, part)
        try:
            target(*call.args, **call.kwargs)
        except alpr.AlprError as exc:
            assert "failed unexpectedly" not in str(exc), f"{spec.name}: input escaped validation: {exc}"
        finally:
            session._door._store.close()
            if spec.name == "settings.set":
                _restore_settings(store, fx.settings)
        after, last = _audit_tail(store)
        assert after == before + 1, f"{spec.name} wrote {after - before} audit records"
        assert last is not None and (last["action"], last["username"]) == (spec.name, username), last
    finally:
        store.close()


ACTION_NAMES = [a.name for a in alpr.actions()]


def _verify(fx: FuzzStore) -> None:
    store = Store.open(fx.kit.path)
    try:
        result = store.audit.verify()
        assert result.ok, result
    finally:
        store.close()


def _allowed_since(fx: FuzzStore, name: str, seq: int) -> int:
    store = Store.open(fx.kit.path)
    try:
        rows = store.db.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = ? AND outcome = 'allowed' AND "
                              "seq > ?", (name, seq))
        return int(rows[0]["n"])
    finally:
        store.close()


def _last_seq(fx: FuzzStore) -> int:
    store = Store.open(fx.kit.path)
    try:
        return int(store.db.query("SELECT COALESCE(MAX(seq), 0) AS n FROM audit_log")[0]["n"])
    finally:
        store.close()


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_fuzzed_calls_raise_only_alpr_errors_and_are_audited_once(fuzz: FuzzStore, name: str) -> None:
    """Every declared action (the registry itself is the parametrisation); the chain verifies afterwards, and
    some calls got all the way through (else the fuzz only ever tested the argument binding)."""
    spec = get_action(name)
    start = _last_seq(fuzz)

    @FUZZ
    @given(call=calls(fuzz, spec))
    def fuzz_action(call: Call) -> None:
        run_call(fuzz, spec, call)

    fuzz_action()
    _verify(fuzz)
    if EXAMPLES >= 10:  # a handful of examples may all be refusals
        assert _allowed_since(fuzz, name, start) > 0, (
            f"no fuzzed call of {name} was allowed: give its fields valid values in _valid_by_name")


#: the login fuzz types known names only of throwaway accounts: five failures would lock a pool account
LOGIN_TEXT = st.one_of(UNICODE, st.sampled_from([*PASSWORDS.values(), "Victim-pass-0001", "Victim1", " victim2 ",
                                                 "VICTIM1\t"]))


def _not_a_pool_account(value: Any) -> bool:
    return not (isinstance(value, str) and value.strip().lower() in POOL)


def test_fuzzed_logins_are_audited_once_and_never_record_what_may_be_a_password(fuzz: FuzzStore) -> None:
    """A login (the authenticator, which never prompts) with anything in either field: an AlprError or a
    session, one 'login' record, and a username column holding an account's name or a placeholder, never the
    text typed (it may be a password)."""
    known = POOL | set(VICTIMS) | {"(unknown username)", "(invalid username)"}

    @FUZZ
    @given(username=st.one_of(LOGIN_TEXT, WILD).filter(_not_a_pool_account), password=st.one_of(LOGIN_TEXT, WILD))
    def fuzz_login(username: Any, password: Any) -> None:
        store = Store.open(fuzz.kit.path)
        try:
            before, _ = _audit_tail(store)
            try:
                session = open_session(fuzz.kit.path, username, password)  # never prompts
            except alpr.AlprError as exc:
                assert "unexpectedly" not in str(exc), exc
            else:
                session._door._store.close()
            after, last = _audit_tail(store)
            assert after == before + 1 and last is not None and last["action"] == "login"
            assert last["username"] in known, last
        finally:
            store.close()

    fuzz_login()
    _verify(fuzz)


# ---------------------------------------------------------------------------------------------- former escapes
# Escapes the fuzz found outside argument binding, each fixed and kept here as a regression test. The strategies
# above never draw a 4,301-digit int or a keyword named "self" (either would dominate most runs).
@pytest.mark.parametrize("kwargs", [{"username": 10**5000}, {"limit": 10**5000}, {"purpose": 10**5000}])
def test_a_huge_int_in_an_argument_that_does_not_bind_is_audited(fuzz: FuzzStore, kwargs: dict[str, Any]) -> None:
    run_call(fuzz, get_action("audit.read"), Call("auditor", "audit.records", (), kwargs))


def test_a_keyword_named_self_is_audited(fuzz: FuzzStore) -> None:
    run_call(fuzz, get_action("store.summary"), Call("analyst", "store_info.summary", (), {"self": 1}))


@pytest.mark.parametrize("name, value", [
    ("timezone", "\U0001f693" * 5_000),
    ("offense_limits", '{"theft": {"max_radius_m": 1' + "0" * 400 + "}}")])
def test_setting_values_the_parsers_once_let_through_are_refused(fuzz: FuzzStore, name: str, value: str) -> None:
    run_call(fuzz, get_action("settings.set"), Call("admin", "admin.set_setting", (name, value), {}))
