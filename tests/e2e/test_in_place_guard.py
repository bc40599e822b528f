"""An in-place run keeps an edit made to its notebook while it ran and writes the result beside it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.support.notebooks import ROOT

pytestmark = pytest.mark.kernel
RECORD_SCHEMA = json.loads((ROOT / "nbrun" / "schemas" / "run-record.schema.json").read_text())

WAIT = (
    "import pathlib, time\npathlib.Path('started').touch()\n"
    "while not pathlib.Path('go').exists():\n    time.sleep(0.02)\nprint('ran')"
)


def _wait_for(path: Path, proc: subprocess.Popen[str], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.parametrize("autosave", [(), ("--autosave", "0.05")], ids=["final-write", "autosaving"])
def test_edit_during_run_is_kept_and_result_written_beside(tmp_path: Path, autosave: tuple[str, ...]) -> None:
    path = tmp_path / "report.ipynb"
    nbformat.write(
        new_notebook(
            cells=[new_code_cell(WAIT)],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        ),
        path,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbrun", "run", str(path), "--json", "run.json", *autosave],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
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
    record = json.loads((tmp_path / "run.json").read_text())
    jsonschema.validate(record, RECORD_SCHEMA)
    entry = record["notebooks"][0]  # the record tells where the notebook went, not where it was meant to go
    assert (entry["output"], entry["diverted_from"]) == (str(beside), str(path))


def test_unedited_in_place_run_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("print('ran')")]), path)
    done = subprocess.run(
        [sys.executable, "-m", "nbrun", "run", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "ran\n"
    assert not (tmp_path / "plain.nbrun-executed.ipynb").exists()


# The second cell waits until an autosave has written the first cell's output to the file itself
# (the stored output "first-output\\n", spelled so that no cell's source contains it).
AUTOSAVED = (
    "import pathlib, time\ndeadline = time.monotonic() + 60\nmarker = 'first-output' + chr(92) + 'n'\n"
    "while marker not in pathlib.Path('saved.ipynb').read_text():\n"
    "    assert time.monotonic() < deadline, 'no autosave'\n    time.sleep(0.02)"
)


def test_autosave_is_not_taken_for_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "saved.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("print('first-output')"), new_code_cell(AUTOSAVED)]), path)
    done = subprocess.run(
        [sys.executable, "-m", "nbrun", "run", str(path), "--autosave", "0.1", "--json", "run.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "changed on disk" not in done.stderr
    assert not (tmp_path / "saved.nbrun-executed.ipynb").exists()
    assert nbformat.read(path, as_version=4).cells[1].execution_count == 2
    entry = json.loads((tmp_path / "run.json").read_text())["notebooks"][0]
    assert entry["output"] == str(path) and "diverted_from" not in entry


def test_an_edit_made_while_the_notebook_is_serialised_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is compared after the slow part of the write, right before the replace."""
    from nbrun.notebook import in_place

    path = tmp_path / "report.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1")]), path)
    guard = in_place.InPlaceGuard(path)
    real_chunks = in_place.notebook_chunks
    edit = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'

    def chunks_meanwhile_edited(nb: nbformat.NotebookNode):  # type: ignore[no-untyped-def]
        for number, chunk in enumerate(real_chunks(nb)):
            if number == 1:
                path.write_bytes(edit)  # the user saves while nbrun is still writing
            yield chunk

    monkeypatch.setattr(in_place, "notebook_chunks", chunks_meanwhile_edited)
    warning = guard.write(new_notebook(cells=[new_code_cell("2")]))
    assert path.read_bytes() == edit
    assert warning is not None and "changed on disk during the run" in warning
    assert guard.diverted_to is not None and nbformat.read(guard.diverted_to, as_version=4).cells[0].source == "2"
