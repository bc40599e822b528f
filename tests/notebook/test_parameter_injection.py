"""Issue 12 defect 10: every notebook nbrun writes validates; empty parameters inject nothing; kernel 'python'."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from nbrun.cli import main

pytestmark = [pytest.mark.kernel]


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *args], catch_exceptions=False)


def old_notebook(path: Path, minor: int, kernel: str = "python3") -> Path:
    """A notebook of nbformat 4.<minor> (no cell ids), as older Jupyter wrote them."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {"tags": ["parameters"]},
            "outputs": [],
            "source": "x = 1",
        },
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "print(x * 2)"},
        {"cell_type": "markdown", "metadata": {}, "source": "done"},
    ]
    doc = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": kernel, "display_name": "Python", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": minor,
    }
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("minor", [1, 4])
def test_injecting_into_an_old_minor_upgrades_to_4_5_and_validates(tmp_path: Path, minor: int) -> None:
    source = old_notebook(tmp_path / "old.ipynb", minor, kernel="python")  # 'python' resolves to python3
    out = tmp_path / "out.ipynb"
    result = invoke(str(source), "-p", "x", "21", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    nb = nbformat.read(out, 4)
    nbformat.validate(nb)
    assert nb.nbformat_minor == 5 and all("id" in cell for cell in nb.cells)
    assert nb.cells[1].metadata.tags == ["injected-parameters"]
    assert nb.cells[2].outputs[0].text == "42\n"
    if minor == 4:
        again = invoke(str(out), "-o", str(tmp_path / "again.ipynb"))
        assert again.exit_code == 0, again.stderr


def test_empty_parameter_sources_inject_no_cell(tmp_path: Path) -> None:
    source = old_notebook(tmp_path / "old.ipynb", 4)
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}\n")
    out = tmp_path / "out.ipynb"
    result = invoke(str(source), "-y", "{}", "-f", str(empty), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    nb = nbformat.read(out, 4)
    assert [cell.source for cell in nb.cells] == ["x = 1", "print(x * 2)", "done"]
    assert nb.nbformat_minor == 4
    nbformat.validate(nb)
