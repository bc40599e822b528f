"""Extra code run in the kernel right after a cell (test-mode mocks and checks).

``ExecuteOptions.after_cell`` maps a cell that ran without error to code (or
``None``). That code runs in the same kernel before the next cell, without
adding outputs or a history entry; if it fails, the run fails with its own
message even where errors are allowed (``allow_errors``, ``raises-exception``).
"""

from __future__ import annotations

from typing import Callable

from nbformat import NotebookNode

from .cell_record import nbrun_error_output
from .cell_runner import CellLimits, KernelLike, Outcome, run_cell
from .control import RunControl
from .outputs import CellOutputs, DisplayRegistry
from .result import CellRecord, CellStatus, RunStatus

AfterCell = Callable[[NotebookNode], "str | None"]
Failure = tuple[RunStatus, CellRecord, str]

_STATUS = {
    Outcome.TIMED_OUT: (CellStatus.TIMEOUT, RunStatus.TIMEOUT),
    Outcome.KERNEL_DIED: (CellStatus.KERNEL_DIED, RunStatus.KERNEL_DIED),
    Outcome.INTERRUPTED: (CellStatus.INTERRUPTED, RunStatus.INTERRUPTED),
}


async def run_after_cell(
    kernel: KernelLike,
    cell: NotebookNode,
    record: CellRecord,
    after_cell: AfterCell,
    limits: CellLimits,
    control: RunControl | None,
) -> Failure | None:
    """Run ``after_cell(cell)``'s code; on failure mark *cell* and *record* and return the run's failure."""
    code = after_cell(cell)
    if not code:
        return None
    scratch: list[NotebookNode] = []
    run = await run_cell(kernel, code, CellOutputs(scratch, DisplayRegistry()), limits,
                         stop_on_error=True, control=control, store_history=False)
    reply = run.reply or {}
    if run.outcome is Outcome.COMPLETED and reply.get("status") == "ok":
        return None
    cell_status, run_status = _STATUS.get(run.outcome, (CellStatus.ERROR, RunStatus.ERROR))
    record.status = cell_status
    record.ename = str(reply.get("ename") or run.outcome.value)
    record.evalue = str(reply.get("evalue") or "")
    record.note = f"the code run after this cell failed: {record.ename}: {record.evalue}".rstrip(": ")
    printed = "".join(str(o.get("text", "")) for o in scratch if o.get("output_type") == "stream")
    traceback = [str(line) for line in reply.get("traceback", [])]
    cell.outputs.append(nbrun_error_output(
        "the code run after this cell failed", ["Code:", *code.splitlines(), *printed.splitlines(), *traceback]))
    cell.metadata["nbrun"] = {"status": cell_status.value, "after_cell": {
        "code": code, "ename": record.ename, "evalue": record.evalue}}
    return (run_status, record, f"cell {record.index}: {record.note}")
