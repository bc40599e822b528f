"""Notebook-level metadata.nbrun has one writer, and the user's declared keys survive every record it writes."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

import nbrun
from nbrun import ExecuteOptions
from nbrun.notebook.model import reset_notebook, set_run_record
from nbrun.pipeline.core import FileRun
from nbrun.pipeline.prepare_only import prepare_file
from tests.support.notebooks import make_notebook

DECLARED = {"inputs": ["data.csv"], "markers": ["slow"], "text_notebook": "report.py"}


def declared_notebook(*sources: str) -> nbformat.NotebookNode:
    nb = make_notebook(*sources)
    nb.metadata["nbrun"] = {**DECLARED, "status": "error", "failed_cell": 3}  # an earlier run's record
    return nb


def test_a_record_replaces_the_earlier_run_and_keeps_the_declared_keys() -> None:
    nb = declared_notebook("1")
    set_run_record(nb, {"status": "ok"})
    assert nb.metadata.nbrun == {**DECLARED, "status": "ok"}
    reset_notebook(nb, ExecuteOptions())
    assert nb.metadata.nbrun == DECLARED
    bare = make_notebook("1")
    reset_notebook(bare, ExecuteOptions())
    assert "nbrun" not in bare.metadata


def test_an_executed_notebook_keeps_its_markers_and_inputs() -> None:
    result = nbrun.execute(declared_notebook("print(1)"))
    record = result.notebook.metadata.nbrun
    assert {key: record[key] for key in DECLARED} == DECLARED
    assert record["status"] == "ok" and "failed_cell" not in record


def test_prepare_only_keeps_the_declared_keys(tmp_path: Path) -> None:
    source, target = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(declared_notebook(("n = 1", ["parameters"]), "print(n)"), source)
    prepare_file(FileRun(source, target, ExecuteOptions(parameters={"n": 2})))
    record = json.loads(target.read_text())["metadata"]["nbrun"]
    assert record == {**DECLARED, "status": "prepared", "parameters": {"n": 2}}
