"""`pytest --nbrun --nbrun-check` (stored outputs compared) and `--nbrun-cache` (unchanged notebooks replayed)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_output

from tests.support.plugin_projects import project, run_pytest, write_notebook

pytestmark = pytest.mark.kernel


def _stored(path: Path, source: str, text: str) -> None:
    """A notebook whose one cell has *text* stored as its stdout (as if saved after a run)."""
    nb = nbformat.read(write_notebook(path, source), 4)
    nb.cells[0].execution_count = 1
    nb.cells[0].outputs = [new_output("stream", name="stdout", text=text)]
    nbformat.write(nb, path)


def test_check_compares_stored_outputs_and_reports_the_diff(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    _stored(root / "same.ipynb", "print('stable')", "stable\n")
    _stored(root / "changed.ipynb", "print('new value')", "old value\n")
    before = {p.name: p.read_bytes() for p in root.glob("*.ipynb")}
    run = run_pytest(root, "--nbrun", "--nbrun-check")
    assert run.cases["same.ipynb"].outcome == "passed", run.output
    changed = run.cases["changed.ipynb"]
    assert changed.outcome == "failed" and "outputs differ" in changed.message
    assert "-old value" in changed.text and "+new value" in changed.text, changed.text
    assert {p.name: p.read_bytes() for p in root.glob("*.ipynb")} == before  # nothing on disk changes


def test_cache_replays_an_unchanged_notebook_and_reruns_an_edited_one(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    cache = tmp_path / "cache"
    write_notebook(root / "nb.ipynb", "import os\nprint(os.getpid())")
    first = run_pytest(root, "--nbrun", f"--nbrun-cache={cache}", "--nbrun-output-dir=out")
    assert first.cases["nb.ipynb"].outcome == "passed", first.output
    pid_first = nbformat.read(root / "out" / "nb.ipynb", 4).cells[0].outputs[0].text
    assert list(cache.rglob("*")), "the run was stored"
    second = run_pytest(root, "--nbrun", f"--nbrun-cache={cache}", "--nbrun-output-dir=out")
    replayed = nbformat.read(root / "out" / "nb.ipynb", 4)
    assert second.cases["nb.ipynb"].outcome == "passed"
    assert replayed.cells[0].outputs[0].text == pid_first  # the same pid: replayed, not run again
    write_notebook(root / "nb.ipynb", "import os\nprint('edited', os.getpid())")
    third = run_pytest(root, "--nbrun", f"--nbrun-cache={cache}", "--nbrun-output-dir=out")
    assert third.cases["nb.ipynb"].outcome == "passed"
    assert nbformat.read(root / "out" / "nb.ipynb", 4).cells[0].outputs[0].text.startswith("edited")
