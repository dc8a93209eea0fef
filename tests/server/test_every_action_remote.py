"""The whole registry serves: every declared action — also those other areas add — called through the API
service with the allowed call of tests/access/test_door.py, from the client's machine (its files uploaded and
its outputs written back), and audited exactly once; what may not leave the server is refused clearly."""

from __future__ import annotations

import geopandas as gpd
import polars as pl
import pytest

import alpr_lib as alpr
from alpr_lib.server.app import SERVER_ONLY
from tests.access.test_door import (  # noqa: F401  (prepared below)
    _method,
    _records,
    allowed_calls,
    prepared,
)


def test_every_declared_action_runs_through_the_service(prepared, serve):  # noqa: F811
    kit, calls = prepared
    specs = alpr.actions()
    assert {s.name for s in specs} == set(calls)
    with serve(kit.path) as url:
        sessions = {name: alpr.login(name, kit.passwords[name], server=url)
                    for name in {user for user, _, _ in calls.values()}}
        for spec in specs:
            user, args, kwargs = calls[spec.name]
            session = sessions[user] if spec.name != "logout" else alpr.login(user, kit.passwords[user], server=url)
            before = len(_records(kit))
            if spec.name in SERVER_ONLY:
                with pytest.raises(alpr.AccessDenied, match="not available through the ALPR API service"):
                    _method(session, spec)(*args, **kwargs)
                rows = _records(kit)[before:]
                assert [(r["action"], r["outcome"]) for r in rows] == [(spec.name, "denied")], spec.name
                continue
            value = _method(session, spec)(*args, **kwargs)
            if spec.name == "users.change_password":
                kit.passwords[user] = args[1]
            rows = _records(kit)[before:]
            assert [(r["action"], r["outcome"], r["client"]) for r in rows] == [
                (spec.name, "allowed", "api:script")], spec.name
            if spec.result == "polars.DataFrame":
                assert isinstance(value, pl.DataFrame), spec.name
            elif spec.result == "geopandas.GeoDataFrame":
                assert isinstance(value, gpd.GeoDataFrame), spec.name
