"""What one cell's run leaves behind: its typed record, and that record in the notebook.

:func:`record_cell` turns the cell runner's :class:`CellRun` into a
:class:`CellRecord` (and sets the count, timing and nbrun's own outputs on the
cell); :func:`cell_metadata` is the one pure function that renders a final
record as ``cell.metadata.nbrun``. Nothing reads that metadata back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nbformat import NotebookNode

from ..kernel.protocol import KernelExit
from ..result import CellRecord, CellStatus, KernelDeath, Truncation
from .cell_runner import CellRun
from .outputs import CellOutputs


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
    peak_memory: int | None = None,
    cpu_time: float | None = None,
    out_of_memory: str | None = None,
) -> CellRecord:
    """Set the cell's count, timing and nbrun's own outputs; return its record.

    *out_of_memory* is why the cell is ``out-of-memory`` (``ResourceWatch.out_of_memory_note``):
    it is said in the cell instead of "the kernel died".
    """
    reply = run.reply or {}
    count = reply.get("execution_count", collector.execution_count)
    cell["execution_count"] = count if isinstance(count, int) else collector.execution_count
    if record_timing:
        cell.metadata["execution"] = dict(collector.timing)
    fields: dict[str, Any] = {}
    if run.outcome is CellStatus.OK:
        status, fields["ename"], fields["evalue"] = _classify_reply(reply, cell)
        published = [o for o in cell.outputs if o.get("output_type") == "error"]
        if published and status is CellStatus.ERROR and fields["ename"] in ("", "NoneType", None):
            # the error came after the cell (a formatter): the reply names no exception, the output does
            fields["ename"], fields["evalue"] = published[-1].get("ename"), published[-1].get("evalue")
        elif (
            published and status is CellStatus.OK
        ):  # e.g. a figure that failed to render after the cell: IPython publishes the error, replies ok
            status, fields["ename"], fields["evalue"] = (
                CellStatus.ERROR,
                published[-1].get("ename"),
                published[-1].get("evalue"),
            )
            fields["note"] = (
                f"the cell's own reply was ok, but it published an error: {fields['ename']}: {fields['evalue']}"
            )
        if run.missing and status is CellStatus.OK:
            status = CellStatus.INCOMPLETE
            fields["note"] = (
                f"IOPub stream incomplete: {run.missing} (skipped)"
                if run.undecodable
                else f"IOPub stream incomplete: the {run.missing} never arrived (lost)"
            )
    elif run.outcome is CellStatus.TIMEOUT:
        status = CellStatus.TIMEOUT
        what = "notebook timeout" if run.notebook_deadline_hit else "cell timeout"
        fields.update(
            timed_out_after=run.timed_out_after,
            timeout_limit=what,
            note=f"timed out after {run.timed_out_after:g} s ({what})",
        )
    else:
        status = run.outcome  # KERNEL_DIED or INTERRUPTED
    death = _death(run.kernel_exit, stderr_tail()) if run.kernel_exit is not None else None
    if death is not None:
        fields.update(kernel_death=death, note=f"kernel died: {death.reason}")
    if out_of_memory is not None:
        status, fields["note"] = CellStatus.OUT_OF_MEMORY, out_of_memory
        cell.outputs.append(nbrun_error_output(out_of_memory, []))
    elif death is not None and status is CellStatus.KERNEL_DIED:
        tail = death.stderr_tail
        lines = ["Kernel output (last lines):", *tail.splitlines()] if tail.strip() else []
        cell.outputs.append(nbrun_error_output(f"the kernel died while running this cell: {death.reason}", lines))
    if collector.truncated:
        fields["truncation"] = Truncation(collector.dropped_bytes, collector.dropped_messages)
        cell.outputs.append(_truncation_marker(collector))
    return CellRecord(
        index,
        status,
        round(duration, 6),
        cell.get("execution_count"),
        actions=tuple(run.actions),
        missing=run.missing,
        lost_messages=run.lost_messages,
        undecodable_messages=run.undecodable,
        stdin_exhausted=run.stdin_exhausted,
        peak_memory=peak_memory,
        cpu_time=cpu_time,
        **fields,
    )


def cell_metadata(record: CellRecord) -> dict[str, Any] | None:
    """The ``cell.metadata.nbrun`` of a final record (None: the cell gets none)."""
    if record.status is CellStatus.EMPTY:
        return None
    status = record.status if record.started else CellStatus.NOT_RUN
    notes: dict[str, Any] = {}
    timeout = record.timeout_json()
    if timeout is not None:
        notes["timeout"] = timeout
    if record.kernel_death is not None:
        notes["kernel_exit"] = record.kernel_death.to_json()
    if record.truncation is not None:
        notes["truncated"] = record.truncation.to_json()
    if record.missing:
        notes["missing"] = record.missing
    if record.lost_messages:
        notes["lost_messages"] = list(record.lost_messages)
    if record.undecodable_messages:
        notes["undecodable_messages"] = record.undecodable_messages
    if record.stdin_exhausted:
        notes["stdin_exhausted"] = True
    if record.actions:
        notes["actions"] = list(record.actions)
    if record.kernel_restarted:
        notes["kernel_restarted"] = record.kernel_restarted
    if record.after_cell_code is not None:
        notes["after_cell"] = {"code": record.after_cell_code, "ename": record.ename, "evalue": record.evalue}
    figures = {name: getattr(record, name) for name in ("peak_memory", "cpu_time") if getattr(record, name) is not None}
    if not notes and status is CellStatus.OK:
        return figures or None  # an ok cell says only what it used
    return {"status": status.value, **notes, **figures}


def write_cell_record(cell: NotebookNode, record: CellRecord) -> None:
    """Store :func:`cell_metadata` of *record* in *cell* (once, when the record is final)."""
    metadata = cell_metadata(record)
    if metadata is not None:
        cell.metadata["nbrun"] = metadata


def error_summary(record: CellRecord) -> str:
    """``raised NAME: VALUE``; kernels that send no error name (bash_kernel) get a readable line too."""
    if record.ename:
        return f"raised {record.ename}: {record.evalue}"
    value = f" (value: {record.evalue})" if record.evalue else ""
    return f"failed: the kernel reported an error without a name{value}"


def _classify_reply(reply: dict[str, Any], cell: NotebookNode) -> tuple[CellStatus, str | None, str | None]:
    status = reply.get("status")
    if status == "error":
        return CellStatus.ERROR, str(reply.get("ename", "")), str(reply.get("evalue", ""))
    if status == "aborted":
        return CellStatus.ERROR, "ExecutionAborted", "the kernel aborted this request"
    if status is None:
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            return CellStatus.ERROR, errors[-1].get("ename"), errors[-1].get("evalue")
    return CellStatus.OK, None, None


def _death(exit_status: KernelExit, tail: str) -> KernelDeath:
    return KernelDeath(exit_status.returncode, exit_status.signal_name, exit_status.describe(), tail)


def _truncation_marker(collector: CellOutputs) -> NotebookNode:
    return NotebookNode(
        output_type="stream",
        name="stderr",
        text=(
            f"[nbrun] output truncated: {collector.dropped_bytes:,} more bytes in "
            f"{collector.dropped_messages:,} messages were dropped (limit --max-output-bytes)\n"
        ),
    )
