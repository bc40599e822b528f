"""Parameters written into a notebook without running it (papermill's ``--prepare-only``).

A pipeline of the file run's stages whose ``execute`` starts no kernel: it
clears the outputs of an earlier run (they belong to other parameters) and
records ``prepared`` with the parameters used; ``write`` is the file run's.
"""

from __future__ import annotations

from ..events import ExecutionObserver
from ..notebook.model import resolve_kernel_name, set_run_record
from ..notebook.parameters import json_safe
from ..result import ExecutionResult
from ..status import RunStatus
from ..sync import run_sync
from .core import FileRun, Pipeline, Prepared


class _Warnings(ExecutionObserver):
    def __init__(self) -> None:
        self.collected: list[str] = []

    def warning(self, text: str) -> None:
        self.collected.append(text)


async def clear_outputs(prepared: Prepared) -> ExecutionResult:
    """The ``execute`` stage of ``--prepare-only``: no kernel; outputs cleared, the run recorded as prepared."""
    nb = prepared.notebook
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    set_run_record(nb, {"status": "prepared", "parameters": json_safe(dict(prepared.options.parameters or {}))})
    return ExecutionResult(nb, RunStatus.OK, (), resolve_kernel_name(nb, prepared.options), "", "", 0.0)


PREPARE_ONLY = Pipeline(execute=clear_outputs)


def prepare_file(run: FileRun) -> list[str]:
    """Read ``run.source``, inject the parameters, write ``run.target`` without running anything.

    Returns the warnings. Raises NotebookReadError, NotebookWriteError or ParameterError.
    """
    warnings = _Warnings()
    run_sync(PREPARE_ONLY.run(run, warnings))
    return warnings.collected
