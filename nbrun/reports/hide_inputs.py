"""``--report-mode``: hide code inputs, keep outputs and markdown."""

from __future__ import annotations

from nbformat import NotebookNode


def hide_code_inputs(nb: NotebookNode) -> int:
    """Set ``metadata.jupyter.source_hidden`` on every code cell of *nb*; return how many.

    This is the key JupyterLab writes when an input is collapsed; nbrun's
    HTML export reads it too, so the notebook and its HTML agree.
    """
    hidden = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        metadata = cell.setdefault("metadata", NotebookNode())
        jupyter = metadata.get("jupyter")
        if not isinstance(jupyter, dict):
            jupyter = metadata["jupyter"] = NotebookNode()
        jupyter["source_hidden"] = True
        hidden += 1
    return hidden
