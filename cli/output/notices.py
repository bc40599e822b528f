"""What a run that looks fine should still say: cells that raised, truncated output, input() hints."""

from __future__ import annotations

from collections.abc import Sequence

from nbrun.execution.cell_label import cell_label
from nbrun.result import CellStatus, ExecutionResult
from nbrun.runners.batch import BatchOutcome

STDIN_HINT = "use --stdin-file to answer input() calls"
_STDIN_ERRORS = ("StdinNotImplementedError",)


def raised_cells(result: ExecutionResult) -> list[str]:
    """``cell 3 (index 2, In [3]) ZeroDivisionError: division by zero`` per cell that raised but was allowed to."""
    return [
        f"{cell_label(cell.index, cell.execution_count)} {cell.ename}: {cell.evalue}"
        for cell in result.cells
        if cell.status is CellStatus.ERROR
    ]


def status_label(outcome: BatchOutcome, label: str) -> str:
    """``ok, 2 cells raised`` for an ok run where --allow-errors let cells raise; *label* otherwise."""
    if outcome.result is None or not outcome.ok:
        return label
    count = len(raised_cells(outcome.result))
    return f"{label}, {count} cell{'s' if count != 1 else ''} raised" if count else label


def redactions_said(count: int) -> str:
    """The one figure a run tells about its secrets: how many values it replaced (never where)."""
    return f"{count} secret value{'s' if count != 1 else ''} redacted from what the kernel sent"


def truncation_warning(result: ExecutionResult) -> str | None:
    """One warning per notebook naming the cells whose output was cut at --max-output-bytes."""
    cut = [(record.index, record.truncation) for record in result.cells if record.truncation is not None]
    if not cut:
        return None
    dropped = sum(truncation.dropped_bytes for _, truncation in cut)
    counts = {record.index: record.execution_count for record in result.cells}
    first = cell_label(cut[0][0], counts.get(cut[0][0]))
    others = f" and {len(cut) - 1} more cell{'s' if len(cut) > 2 else ''}" if len(cut) > 1 else ""
    return f"output truncated in {first}{others}: {dropped:,} bytes dropped (raise --max-output-bytes to keep more)"


def stdin_hint(result: ExecutionResult) -> str | None:
    """The hint for a notebook that failed because input() had no answers."""
    if result.ename in _STDIN_ERRORS or any(cell.ename in _STDIN_ERRORS for cell in result.cells):
        return STDIN_HINT
    return None


def cache_on_declared_inputs_only(outcomes: Sequence[BatchOutcome]) -> str:
    """One line for the whole run naming the cached notebooks whose kernel records nothing (not Python), or ""."""
    names = [
        str(outcome.job.source)
        for outcome in outcomes
        if outcome.result is not None and outcome.result.cache_use is not None and not outcome.result.cache_use.recorded
    ]
    if not names:
        return ""
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (
        f"nbrun: note: the cache tracks only declared inputs (--cache-input, metadata.nbrun.inputs) of {shown}: "
        "a kernel that is not Python cannot record what it reads"
    )
