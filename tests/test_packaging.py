"""Packaging stays honest: environment.yml matches pyproject, the public API is curated, ruff config present."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"python-tzdata": "tzdata"}


def _name_spec(requirement: str) -> tuple[str, str]:
    match = re.match(r"^([A-Za-z0-9_.\-]+)(.*)$", requirement.strip())
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_name_spec(r) for r in project["dependencies"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed: dict[str, str] = {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for pip_item in item["pip"]:
                if not pip_item.startswith("-e"):
                    name, spec = _name_spec(pip_item)
                    listed[name] = spec
        elif not item.startswith(("python=", "pip")):
            name, spec = _name_spec(item)
            listed[CONDA_NAMES.get(name, name)] = spec
    assert listed == wanted
    assert any(isinstance(i, dict) and "-e .[test]" in i["pip"] for i in env["dependencies"])


def test_public_api_is_curated():
    import alpr_lib

    assert set(alpr_lib.__all__) >= {"login", "Session", "AlprError", "AccessDenied", "AuthError", "ValidationError"}
    for name in alpr_lib.__all__:
        assert hasattr(alpr_lib, name), name
    assert issubclass(alpr_lib.AccessDenied, alpr_lib.AlprError)


def test_importing_the_library_does_no_heavy_work():
    import subprocess
    import sys

    code = "import sys, alpr_lib; bad = [m for m in ('keplergl', 'cv2', 'onnxruntime', 'geopandas', 'torch') " \
           "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
