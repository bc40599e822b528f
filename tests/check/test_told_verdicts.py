"""A check verdict names cells as every nbrun message does, and says when nothing was stored (no kernel)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nbrun.check.compare import check_notebook
from nbrun.check.model import CheckOptions
from nbrun.check.verdict_text import render


def notebook(*texts: str | None) -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# title")]
    for count, text in enumerate(texts, start=1):
        cell = new_code_cell(f"print({text!r})", execution_count=count if text is not None else None)
        if text is not None:
            cell.outputs = [new_output("stream", name="stdout", text=f"{text}\n")]
        cells.append(cell)
    return new_notebook(cells=cells)


def test_mismatches_are_named_cell_index_and_prompt() -> None:
    report = check_notebook(notebook("a", "b"), notebook("a", "c"), CheckOptions())
    assert report.summary_line() == "outputs differ in 1 of 2 compared cells: cell 3 (index 2)"
    assert render(report, "nb.ipynb").splitlines()[0].startswith("nb.ipynb: cell 3 (index 2, In [2]): ")


@pytest.mark.parametrize("required", [False, True])
def test_a_notebook_saved_without_outputs_says_nothing_was_stored(required: bool) -> None:
    report = check_notebook(notebook(None, None), notebook("a", "b"), CheckOptions(require_outputs=required))
    assert report.summary_line().startswith("nothing stored to compare")
    assert report.matches is not required
    assert report.summary_line().endswith("(--require-outputs)") is required


def test_the_html_banner_names_the_failed_cell_as_the_terminal_does(tmp_path: Path) -> None:
    pytest.importorskip("nbconvert")
    from nbrun.reports.html_export import write_notebook_html

    nb = notebook("a", "b", "c")
    nb.metadata["nbrun"] = {"status": "error", "failed_cell": 3, "error": {"ename": "ZeroDivisionError", "evalue": "x"}}
    page = Path(write_notebook_html(nb, tmp_path / "nb.ipynb", allow_scripts=False)).read_text()
    assert "cell 4 (index 3, In [3])</a>" in page
