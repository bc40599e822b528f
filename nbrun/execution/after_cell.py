"""Extra code run in the kernel right after a cell (test-mode mocks and checks).

``ExecuteOptions.after_cell`` maps a cell that ran without error to code (or
``None``). That code runs in the same kernel before the next cell, without
adding outputs or a history entry; if it fails, the run fails with its own
message even where errors are allowed (``allow_errors``, ``raises-exception``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from nbformat import NotebookNode

from ..control import RunControl
from ..kernel.protocol import KernelLike
from ..result import CellRecord, Failure
from ..status import CellStatus, RunStatus
from .cell_label import cell_label
from .cell_record import nbrun_error_output
from .cell_runner import CellLimits, run_cell
from .outputs import CellOutputs, DisplayRegistry

AfterCell = Callable[[NotebookNode], "str | None"]

_RUN_STATUS = {
    CellStatus.TIMEOUT: RunStatus.TIMEOUT,
    CellStatus.KERNEL_DIED: RunStatus.KERNEL_DIED,
    CellStatus.INTERRUPTED: RunStatus.INTERRUPTED,
}


async def run_after_cell(
    kernel: KernelLike,
    cell: NotebookNode,
    record: CellRecord,
    after_cell: AfterCell,
    limits: CellLimits,
    control: RunControl | None,
) -> tuple[CellRecord, Failure | None]:
    """Run ``after_cell(cell)``'s code; on failure return the cell's new record and the run's failure."""
    code = after_cell(cell)
    if not code:
        return record, None
    scratch: list[NotebookNode] = []
    run = await run_cell(
        kernel,
        code,
        CellOutputs(scratch, DisplayRegistry()),
        limits,
        stop_on_error=True,
        control=control,
        store_history=False,
    )
    reply = run.reply or {}
    if run.outcome is CellStatus.OK and reply.get("status") == "ok":
        return record, None
    cell_status = run.outcome if run.outcome in _RUN_STATUS else CellStatus.ERROR
    ename = str(reply.get("ename") or run.outcome.value)
    evalue = str(reply.get("evalue") or "")
    note = f"the code run after this cell failed: {ename}: {evalue}".rstrip(": ")
    printed = "".join(str(o.get("text", "")) for o in scratch if o.get("output_type") == "stream")
    traceback = [str(line) for line in reply.get("traceback", [])]
    cell.outputs.append(
        nbrun_error_output(
            "the code run after this cell failed", ["Code:", *code.splitlines(), *printed.splitlines(), *traceback]
        )
    )
    record = replace(record, status=cell_status, ename=ename, evalue=evalue, note=note, after_cell_code=code)
    status = _RUN_STATUS.get(cell_status, RunStatus.ERROR)
    return record, Failure(status, record, f"{cell_label(record.index, record.execution_count)}: {note}")
