"""GitHub Actions natively (issue 24 item 4): annotations at the failing cell and the job summary, in a simulated runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.support.load import within
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]
NBRUN = str(Path(sys.executable).parent / "nbrun")


def run_in_actions(workspace: Path, *args: str, github: bool = True) -> tuple[subprocess.CompletedProcess[str], Path]:
    summary = workspace / "step-summary.md"
    summary.write_text("earlier step\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    if github:
        env.update(GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary), GITHUB_WORKSPACE=str(workspace))
    proc = subprocess.run(
        [NBRUN, "run", *args], capture_output=True, text=True, cwd=workspace, env=env, timeout=within(180)
    )
    return proc, summary


def test_annotations_point_at_the_failing_cell_and_the_summary_is_appended(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(
        make_notebook("x = 1", "from nbrun import record\nrecord('rows', 3)\n1/0"), notebooks / "fails.ipynb"
    )
    nbformat.write(make_notebook("print('fine')"), notebooks / "ok.ipynb")
    (notebooks / "text.py").write_text("# %%\nx = 1\n\n# %%\nraise ValueError('in the text notebook')\n")
    nbformat.write(make_notebook("1/0", "print('x' * 100)"), notebooks / "allowed.ipynb")
    proc, summary = run_in_actions(
        tmp_path, "notebooks/fails.ipynb", "notebooks/ok.ipynb", "notebooks/text.py", "--output-dir", "out"
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("::error")]
    fails_line = next(
        n
        for n, line in enumerate((notebooks / "fails.ipynb").read_text().splitlines(), 1)
        if "from nbrun import record" in line
    )
    assert errors[0] == (
        f"::error file=notebooks/fails.ipynb,line={fails_line},title=fails.ipynb%3A error in cell 2 (index 1%2C In [2])"
        "::cell 2 (index 1, In [2]) raised ZeroDivisionError: division by zero"
    )
    assert errors[1].startswith("::error file=notebooks/text.py,line=5,title=text.py%3A error in cell 2")
    assert len(errors) == 2
    text = summary.read_text()
    assert text.startswith("earlier step\n## ❌ nbrun: 3 notebooks: 2 error, 1 ok in ")
    assert (
        "| notebooks/fails.ipynb | error | cell 2 (index 1, In [2]) | cell 2 (index 1, In [2]) raised ZeroDivisionError"
        in text
    )
    assert "| notebooks/fails.ipynb | rows | 3 |" in text and "### Slowest notebooks" in text

    allowed, _ = run_in_actions(
        tmp_path, "notebooks/allowed.ipynb", "--allow-errors", "--max-output-bytes", "10", "-o", "out/a.ipynb"
    )
    warnings = [line for line in allowed.stderr.splitlines() if line.startswith("::warning")]
    assert allowed.returncode == 0 and len(warnings) == 2, allowed.stderr
    assert any("output truncated" in line for line in warnings) and any("--allow-errors" in line for line in warnings)


def test_without_actions_nothing_is_annotated_and_summary_md_writes_anywhere(tmp_path: Path) -> None:
    nbformat.write(make_notebook("1/0"), tmp_path / "fails.ipynb")
    proc, step = run_in_actions(tmp_path, "fails.ipynb", "--summary-md", "summary.md", github=False)
    assert proc.returncode == 1 and "::error" not in proc.stderr
    assert step.read_text() == "earlier step\n"
    assert "| fails.ipynb | error | cell 1 (index 0, In [1]) |" in (tmp_path / "summary.md").read_text()
    forced, _ = run_in_actions(tmp_path, "fails.ipynb", "--github", github=False)
    assert "::error file=fails.ipynb," in forced.stderr
