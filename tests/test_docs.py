"""The docs stay honest: every CLI command and every setting is documented; required files exist."""

from __future__ import annotations

from pathlib import Path

from alpr_lib.cli.main import cli
from alpr_lib.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_starts_with_the_two_commands():
    head = README[:1500]
    assert "bash scripts/demo.sh" in head and "bash scripts/test.sh" in head
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_cli_command_is_in_the_readme():
    for name, command in cli.commands.items():
        assert f"alpr {name}" in README, name
        for sub in getattr(command, "commands", {}):
            assert sub in README, f"{name} {sub}"


def test_every_setting_is_documented():
    for setting in SETTINGS:
        assert f"`{setting.name}`" in README or setting.name in README, setting.name
        assert setting.help


def test_required_project_files_exist():
    for path in ("LICENSE", "environment.yml", "docs/architecture.md", "docs/security.md", "docs/benchmarks.md",
                 ".ci/run", "notebooks/01_partial_plate_search.ipynb", "data_samples/README.md"):
        assert (ROOT / path).exists(), path
    assert "Apache License" in (ROOT / "LICENSE").read_text()
