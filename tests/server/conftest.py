"""The API service for tests: ``alpr serve`` on a free loopback port, bounded and always stopped."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.jupyterlab import _free_port, served

ALPR = Path(sys.executable).with_name("alpr")


@contextmanager
def api_service(store: Path, log_path: Path, *, port: int | None = None, env: dict[str, str] | None = None,
                extra: tuple[str, ...] = ()) -> Iterator[str]:
    """``alpr serve --store STORE`` on 127.0.0.1; yields its URL."""
    port = port or _free_port()
    environment = {**os.environ, **(env or {})}
    with served([str(ALPR), "serve", "--store", str(store), "--port", str(port), *extra], port=port, cwd=None,
                env=environment, log_path=log_path, what="alpr serve", ready_path="/health"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def serve(tmp_path: Path):
    """``with serve(store) as url:`` runs the service on that store for the block."""
    count = iter(range(100))

    def start(store: Path, **kwargs: object):
        return api_service(store, tmp_path / f"serve-{next(count)}.log", **kwargs)  # type: ignore[arg-type]

    return start
