"""Parameters written into a notebook without running it (papermill's ``--prepare-only``).

The file pipeline's ``read``, ``check`` and ``prepare`` stages, then ``write``;
no kernel starts.
"""

from __future__ import annotations

from ..events import ExecutionObserver
from ..notebook.files import write_notebook
from ..notebook.parameters import json_safe
from .core import FileRun, check_targets, prepare, read


class _Warnings(ExecutionObserver):
    def __init__(self) -> None:
        self.collected: list[str] = []

    def warning(self, text: str) -> None:
        self.collected.append(text)


def prepare_file(run: FileRun) -> list[str]:
    """Read ``run.source``, inject the parameters, write ``run.target`` without running anything.

    Outputs of an earlier run are cleared (they belong to other parameters);
    ``metadata.nbrun`` says ``prepared`` with the parameters used. Returns the
    warnings. Raises NotebookReadError, NotebookWriteError or ParameterError.
    """
    warnings = _Warnings()
    nb = read(run)
    check_targets(run)
    prepared = prepare(run, nb, warnings)
    for cell in prepared.notebook.cells:
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata["nbrun"] = {"status": "prepared", "parameters": json_safe(dict(run.options.parameters or {}))}
    write_notebook(nb, run.target)
    return warnings.collected
