"""What one cell's run leaves in the notebook: count, timing, status notes."""

from __future__ import annotations

from typing import Any, Callable

from nbformat import NotebookNode

from .cell_runner import CellRun, Outcome
from .kernel import KernelExit
from .outputs import CellOutputs
from .result import CellRecord, CellStatus


def nbrun_error_output(title: str, detail_lines: list[str]) -> NotebookNode:
    """An error output written by nbrun itself (the kernel could not write one)."""
    return NotebookNode(
        output_type="error",
        ename="NbrunError",
        evalue=f"[nbrun] {title}",
        traceback=[f"[nbrun] {title}", *detail_lines],
    )


def record_cell(
    cell: NotebookNode,
    collector: CellOutputs,
    run: CellRun,
    *,
    index: int,
    duration: float,
    record_timing: bool,
    stderr_tail: Callable[[], str],
) -> CellRecord:
    """Write the cell's count, timing and ``metadata.nbrun``; return its record."""
    reply = run.reply or {}
    count = reply.get("execution_count", collector.execution_count)
    cell["execution_count"] = count if isinstance(count, int) else collector.execution_count
    if record_timing:
        cell.metadata["execution"] = dict(collector.timing)
    record = CellRecord(index, CellStatus.OK, round(duration, 6), cell.get("execution_count"))
    notes: dict[str, Any] = {}
    if run.outcome is Outcome.COMPLETED:
        _classify_reply(record, reply, cell)
        if run.missing and record.status is CellStatus.OK:
            record.status = CellStatus.INCOMPLETE
            record.note = f"IOPub stream incomplete: the {run.missing} never arrived (lost)"
    elif run.outcome is Outcome.TIMED_OUT:
        record.status = CellStatus.TIMEOUT
        record.timed_out_after = run.timed_out_after
        what = "notebook timeout" if run.notebook_deadline_hit else "cell timeout"
        notes["timeout"] = {"after_seconds": run.timed_out_after, "limit": what}
        record.note = f"timed out after {run.timed_out_after:g} s ({what})"
    elif run.outcome is Outcome.KERNEL_DIED:
        record.status = CellStatus.KERNEL_DIED
    else:
        record.status = CellStatus.INTERRUPTED
    record.actions = list(run.actions)
    if run.kernel_exit is not None:
        _record_death(cell, record, run.kernel_exit, stderr_tail(), notes)
    if collector.truncated:
        _record_truncation(cell, collector, notes)
    if run.missing:
        notes["missing"] = run.missing
    if run.stdin_exhausted:
        notes["stdin_exhausted"] = True
    if record.actions:
        notes["actions"] = list(record.actions)
    if notes or record.status is not CellStatus.OK:
        cell.metadata["nbrun"] = {"status": record.status.value, **notes}
    return record

def error_summary(record: CellRecord) -> str:
    """``raised NAME: VALUE``; kernels that send no error name (bash_kernel) get a readable line too."""
    if record.ename:
        return f"raised {record.ename}: {record.evalue}"
    value = f" (value: {record.evalue})" if record.evalue else ""
    return f"failed: the kernel reported an error without a name{value}"


def _classify_reply(record: CellRecord, reply: dict[str, Any], cell: NotebookNode) -> None:
    status = reply.get("status")
    if status == "error":
        record.status = CellStatus.ERROR
        record.ename = str(reply.get("ename", ""))
        record.evalue = str(reply.get("evalue", ""))
    elif status == "aborted":
        record.status = CellStatus.ERROR
        record.ename, record.evalue = "ExecutionAborted", "the kernel aborted this request"
    elif status is None:
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            record.status = CellStatus.ERROR
            record.ename, record.evalue = errors[-1].get("ename"), errors[-1].get("evalue")

def _record_death(cell: NotebookNode, record: CellRecord, exit_status: KernelExit, tail: str, notes: dict[str, Any]) -> None:
    reason = exit_status.describe()
    record.note = f"kernel died: {reason}"
    notes["kernel_exit"] = {
        "returncode": exit_status.returncode,
        "signal": exit_status.signal_name,
        "reason": reason,
        "stderr_tail": tail,
    }
    if record.status is CellStatus.KERNEL_DIED:
        lines = ["Kernel output (last lines):", *tail.splitlines()] if tail.strip() else []
        cell.outputs.append(nbrun_error_output(f"the kernel died while running this cell: {reason}", lines))

def _record_truncation(cell: NotebookNode, collector: CellOutputs, notes: dict[str, Any]) -> None:
    notes["truncated"] = {"dropped_bytes": collector.dropped_bytes, "dropped_messages": collector.dropped_messages}
    cell.outputs.append(
        NotebookNode(
            output_type="stream",
            name="stderr",
            text=(
                f"[nbrun] output truncated: {collector.dropped_bytes:,} more bytes in "
                f"{collector.dropped_messages:,} messages were dropped (limit --max-output-bytes)\n"
            ),
        )
    )
