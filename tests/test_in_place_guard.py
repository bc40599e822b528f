"""An in-place run keeps an edit made to its notebook while it ran and writes the result beside it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

pytestmark = pytest.mark.kernel

WAIT = ("import pathlib, time\npathlib.Path('started').touch()\n"
        "while not pathlib.Path('go').exists():\n    time.sleep(0.02)\nprint('ran')")


def _wait_for(path: Path, proc: subprocess.Popen[str], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_edit_during_run_is_kept_and_result_written_beside(tmp_path: Path) -> None:
    path = tmp_path / "report.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(WAIT)],
                                metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}}), path)
    proc = subprocess.Popen([sys.executable, "-m", "nbrun", "run", str(path)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(tmp_path / "started", proc)
        edited = nbformat.read(path, as_version=4)
        edited.cells.append(new_markdown_cell("the user's note"))
        nbformat.write(edited, path)
        edit = path.read_bytes()
        (tmp_path / "go").touch()
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert path.read_bytes() == edit  # the edit survives
    beside = tmp_path / "report.nbrun-executed.ipynb"
    executed = nbformat.read(beside, as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "ran\n"
    assert f"{path} changed on disk during the run" in err and str(beside) in err


def test_unedited_in_place_run_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("print('ran')")]), path)
    done = subprocess.run([sys.executable, "-m", "nbrun", "run", str(path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "ran\n"
    assert not (tmp_path / "plain.nbrun-executed.ipynb").exists()
