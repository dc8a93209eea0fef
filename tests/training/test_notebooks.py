"""The training notebooks run top to bottom, headless, as the trainee, on a fresh sandbox found from ALPR_STORE
alone: as shipped (nothing answered yet), and with every answer cell filled in programmatically, after which the
trainer signs the trainee off and the trainee can search operational data."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

import alpr_lib as alpr
from alpr_lib.training import expected_answer, load_course
from tests.conftest import make_kit, random_reads
from tests.training.helpers import wrong_answer

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks" / "training"
SUBMIT = re.compile(r'training\.submit\("([^"]+)", "([^"]+)", answer\)')


@pytest.fixture
def trainee_env(tmp_path, monkeypatch):
    """A department store with its sandbox; ALPR_STORE (the operational store) and the trainee's credentials."""
    kit = make_kit(tmp_path / "store")
    kit.login("ingest").ingest_reads(random_reads(50), progress=False)
    kit.login("trainer").training.build_sandbox(n_reads=5000)
    secret = tmp_path / "trainee.pw"
    secret.write_text(kit.passwords["trainee"] + "\n")
    secret.chmod(0o600)
    monkeypatch.setenv("ALPR_STORE", str(kit.path))
    monkeypatch.setenv("ALPR_USER", "trainee")
    monkeypatch.setenv("ALPR_PASSWORD_FILE", str(secret))
    return kit


def run_notebook(path: Path, *, timeout: int = 180) -> object:
    """As tests/conftest.py's, with a longer kernel start: eight kernels in a row on two shared cores."""
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, startup_timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def _filled(path: Path, target: Path, *, correct: bool) -> Path:
    """A copy of the notebook with each ``answer = ...`` replaced by the right (or a wrong) answer."""
    course = load_course()
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        found = SUBMIT.search(cell.source) if cell.cell_type == "code" else None
        if found:
            exercise = course.module(found.group(1)).exercise(found.group(2))
            answer = expected_answer(exercise, course) if correct else wrong_answer(exercise)
            cell.source = cell.source.replace("answer = ...", f"answer = {answer!r}", 1)
    nbformat.write(notebook, target)
    return target


def _outputs(notebook) -> str:
    texts = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") + str(out.get("data", {}).get("text/markdown", "")))
    return "\n".join(texts)


def test_every_training_notebook_runs_top_to_bottom_on_a_fresh_sandbox(trainee_env, tmp_path):
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert len(names) >= 6
    for name in names:
        copy = tmp_path / name
        shutil.copy(NOTEBOOKS / name, copy)
        text = _outputs(run_notebook(copy, timeout=180))
        assert "Not answered yet" in text and "Traceback" not in text, name
        assert "training store" in text, name
    status = trainee_env.login("trainer").training.status("trainee")
    assert sum(m.answered for m in status.modules) == 0  # nothing answered is no attempt


def test_a_trainee_passes_every_notebook_is_signed_off_and_can_search(trainee_env, tmp_path):
    kit = trainee_env
    wrong = _outputs(run_notebook(_filled(NOTEBOOKS / "04_canvass.ipynb", tmp_path / "wrong.ipynb", correct=False)))
    assert "Not correct yet" in wrong and "Correct (" not in wrong
    with pytest.raises(alpr.ValidationError, match="has not passed every module"):
        kit.login("trainer").training.sign_off("trainee")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        text = _outputs(run_notebook(_filled(path, tmp_path / path.name, correct=True), timeout=180))
        assert "Not correct yet" not in text and "(passed)" in text, path.name
    assert "every module passed: ask the Training Sergeant to sign you off" in text
    assert kit.login("trainee").training.status().passed_all
    kit.login("trainer").training.sign_off("trainee")
    assert kit.login("trainee").search_plates("7AB*", purpose="stolen plates").height > 0


def test_the_demo_builds_the_sandbox_and_its_trainee_can_log_in(demo_store, demo_env):
    from click.testing import CliRunner

    from alpr_lib.cli.main import cli
    from alpr_lib.training import sandbox_login

    demo_env("trainee")
    assert (demo_store.path / "training" / "store.toml").exists()
    out = CliRunner().invoke(cli, ["training", "status", "--store", str(demo_store.path), "--user", "trainee"])
    assert out.exit_code == 0 and "0 of 8 modules passed" in out.output, out.output
    s = sandbox_login(client="script")  # from ALPR_STORE (the operational demo store) alone
    assert s.store_kind == "training" and s.search_plates("7AB?12*", purpose="stolen plates").height > 0
