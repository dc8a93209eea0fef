"""The CLI runner of the records-management tests (password from a file, as headless runs give it)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from alpr_lib.cli.main import cli


@pytest.fixture
def run(monkeypatch, tmp_path):
    def invoke(*args: str, password: str | None = None):
        if password is not None:
            file = tmp_path / "pw"
            file.write_text(password)
            monkeypatch.setenv("ALPR_PASSWORD_FILE", str(file))
        else:
            monkeypatch.delenv("ALPR_PASSWORD_FILE", raising=False)
        return CliRunner().invoke(cli, [str(a) for a in args])
    return invoke
