"""Notebook builders and the paths tests find things by."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_notebooks"


def make_notebook(*sources: str | tuple[str, list[str]]) -> nbformat.NotebookNode:
    """A python3 notebook whose code cells have the given sources (or (source, tags))."""
    cells = []
    for item in sources:
        source, tags = (item, []) if isinstance(item, str) else item
        cell = new_code_cell(source)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb
