"""``metadata.papermill`` as papermill writes it, so the tools built on papermill read nbrun's notebooks.

scrapbook's ``read_notebook(...).parameters`` and cell durations, papermill's
error-cell conventions and dashboards that read ``metadata.papermill`` see a
notebook nbrun ran as one papermill ran: the notebook's ``parameters``,
``default_parameters`` and ``environment_variables`` (papermill writes both
empty), ``version``, ``input_path`` / ``output_path``, ``start_time``,
``end_time``, ``duration`` and ``exception``; per cell ``start_time``,
``end_time``, ``duration``, ``status`` (``completed``, ``failed``,
``pending``) and ``exception``. Times are papermill's (ISO 8601,
``+00:00``); durations are nbrun's own figures, the ones in every record.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode

from ..result import CellRecord, CellStatus, ExecutionResult
from ..storage.locations import Where, printable, where_name
from ..version import __version__

_FAILED = (CellStatus.ERROR, CellStatus.TIMEOUT, CellStatus.KERNEL_DIED, CellStatus.INTERRUPTED, CellStatus.INCOMPLETE)


def write_papermill_metadata(result: ExecutionResult, source: Where, target: Where) -> None:
    """Set ``metadata.papermill`` on *result*'s notebook and each of its cells."""
    nb = result.notebook
    records = {record.index: record for record in result.cells}
    after_failure = raised = False
    for index, cell in enumerate(nb.cells):
        entry = _cell_entry(cell, records.get(index), after_failure=after_failure)
        cell.setdefault("metadata", NotebookNode())
        cell.metadata["papermill"] = entry
        after_failure = after_failure or entry["status"] == "failed"
        raised = raised or entry["exception"] is True
    nb.metadata["papermill"] = {
        "default_parameters": {},
        "parameters": dict(result.parameters or {}),
        "environment_variables": {},
        "version": f"nbrun {__version__}",
        "input_path": printable(str(where_name(source))),  # an undecodable byte as \xNN: the JSON stays valid
        "output_path": printable(str(where_name(target))),
        "start_time": _papermill_time(result.started_at),
        "end_time": _papermill_time(result.finished_at),
        "duration": round(result.duration, 6),
        "exception": True if raised else None,
    }


def _cell_entry(cell: NotebookNode, record: CellRecord | None, *, after_failure: bool) -> dict[str, Any]:
    """One cell's entry; a cell after the failing one (or never sent) stays ``pending``, as papermill leaves it."""
    timing = cell.get("metadata", {}).get("execution", {})
    ran = record is not None and record.started and record.status is not CellStatus.NOT_RUN
    if not ran:
        never_sent = record is not None and record.status is CellStatus.NOT_RUN  # the run stopped before it
        status, exception = ("pending" if after_failure or never_sent else "completed"), None
    else:
        assert record is not None
        failed = record.status in _FAILED
        status, exception = ("failed" if failed else "completed"), record.ename is not None or failed
    return {
        "exception": exception,
        "start_time": _papermill_time(timing.get("iopub.status.busy") or timing.get("iopub.execute_input")),
        "end_time": _papermill_time(timing.get("shell.execute_reply") or timing.get("iopub.status.idle")),
        "duration": record.duration if record is not None else None,
        "status": status,
    }


def _papermill_time(stamp: Any) -> str | None:
    """nbrun's ``...Z`` UTC stamps in papermill's ``isoformat()`` form (``...+00:00``)."""
    if not isinstance(stamp, str) or not stamp:
        return None
    return stamp[:-1] + "+00:00" if stamp.endswith("Z") else stamp
