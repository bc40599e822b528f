"""``--events FILE|-``: a JSON Lines stream of what happens while it happens.

One JSON object per line, written and flushed as the event occurs, described by
``nbrun/schemas/events.schema.json`` (for dashboards and CI log processors).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from typing import Any, TextIO

from nbformat import NotebookNode

from nbrun import __version__
from nbrun.events import ExecutionObserver
from nbrun.kernel.protocol import utc_now
from nbrun.result import CellRecord, CellStatus, ExecutionResult
from nbrun.runners.batch import BatchJob, BatchOutcome
from nbrun.storage.locations import printable_data

from .. import exit_codes
from ..errors import CliError
from .run_records import notebook_written, outcome_exit_code, resource_figures

_RETRY = re.compile(r"kernel start attempt (\d+) failed: (.*)", re.S)


class EventStream:
    """Writes one event per line to a file or stdout (``-``), flushing each line."""

    def __init__(self, destination: str) -> None:
        self._owned = destination != "-"
        try:
            if self._owned:  # like --json and --junit-xml, the folder is created
                os.makedirs(os.path.dirname(destination) or ".", exist_ok=True)
            self._out: TextIO = open(destination, "w", encoding="utf-8") if self._owned else sys.stdout
        except OSError as exc:
            raise CliError(
                f"{destination}: cannot write the events file: {exc.strerror or exc}", exit_codes.NOTEBOOK_INVALID_OR_IO
            ) from None
        self._retries = _RetryListener(self)

    def emit(self, event: str, **fields: Any) -> None:
        line = printable_data({"event": event, "time": utc_now(), **fields})  # names' undecodable bytes as \xNN
        self._out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._out.flush()

    def run_started(self, notebooks: int) -> None:
        self.emit("run-start", nbrun_version=__version__, notebooks=notebooks)

    def notebook_started(self, job: BatchJob, cells: ExecutionObserver) -> ExecutionObserver:
        """Emit notebook-start; return *cells* teed with this notebook's cell events."""
        self.emit("notebook-start", notebook=str(job.source), output=str(job.target))
        return Tee(cells, NotebookEvents(self, str(job.source)))

    def notebook_finished(self, outcome: BatchOutcome) -> None:
        result = outcome.result
        self.emit(
            "notebook-end",
            notebook=str(outcome.job.source),
            output=str(outcome.job.target) if notebook_written(outcome) else None,
            status=outcome.status,
            exit_code=outcome_exit_code(outcome),
            duration=None if outcome.timed is None else round(outcome.timed, 3),
            message=outcome.summary() or None,
            failed_cell=result.failed_cell if result is not None else None,
            **_cache_fields(result),
            **_value_fields(result),
        )

    def run_finished(self, outcomes: list[BatchOutcome], exit_code: int, duration: float) -> None:
        totals: dict[str, int] = {}
        for outcome in outcomes:
            totals[outcome.status] = totals.get(outcome.status, 0) + 1
        self.emit("run-end", exit_code=exit_code, duration=round(duration, 3), totals=totals)

    def close(self) -> None:
        self._retries.detach()
        if self._owned:
            self._out.close()


class NotebookEvents(ExecutionObserver):
    """Cell events of one notebook."""

    def __init__(self, stream: EventStream, notebook: str) -> None:
        self.stream = stream
        self.notebook = notebook

    def cell_started(self, index: int, cell: NotebookNode) -> None:
        self.stream.emit("cell-start", notebook=self.notebook, index=index)

    def cell_finished(self, record: CellRecord) -> None:
        fields: dict[str, Any] = {
            "status": record.status.value,
            "duration": record.duration,
            "execution_count": record.execution_count,
        }
        if record.ename is not None:
            fields.update(ename=record.ename, evalue=record.evalue or "")
        fields.update(resource_figures(record))
        self.stream.emit("cell-end", notebook=self.notebook, index=record.index, **fields)
        if record.truncation is not None:
            self.stream.emit(
                "output-truncated",
                notebook=self.notebook,
                index=record.index,
                dropped_bytes=record.truncation.dropped_bytes,
            )
        if record.status is CellStatus.KERNEL_DIED:
            reason = (record.kernel_death.reason if record.kernel_death else None) or record.note or "unknown"
            self.stream.emit("kernel-died", notebook=self.notebook, index=record.index, reason=reason)
        if "restarted" in record.actions:
            self.stream.emit("kernel-restarted", notebook=self.notebook, index=record.index)

    def warning(self, text: str) -> None:
        self.stream.emit("warning", notebook=self.notebook, message=text)


class Tee(ExecutionObserver):
    """Forwards every event to several observers, in order."""

    def __init__(self, *observers: ExecutionObserver) -> None:
        self.observers = observers

    def notebook_started(self, code_cells: int) -> None:
        for observer in self.observers:
            observer.notebook_started(code_cells)

    def cell_started(self, index: int, cell: NotebookNode) -> None:
        for observer in self.observers:
            observer.cell_started(index, cell)

    def cell_finished(self, record: CellRecord) -> None:
        for observer in self.observers:
            observer.cell_finished(record)

    def stream_text(self, index: int, name: str, text: str) -> None:
        for observer in self.observers:
            observer.stream_text(index, name, text)

    def warning(self, text: str) -> None:
        for observer in self.observers:
            observer.warning(text)

    def notebook_finished(self, result: ExecutionResult) -> None:
        for observer in self.observers:
            observer.notebook_finished(result)


class _RetryListener(logging.Handler):
    """Turns the kernel starter's 'attempt N failed' log records into ``retry`` events."""

    def __init__(self, stream: EventStream) -> None:
        super().__init__(logging.INFO)
        self.stream = stream
        self.logger = logging.getLogger("nbrun")  # the kernel starter logs there
        self._previous_level = self.logger.level
        self.logger.addHandler(self)
        if self.logger.getEffectiveLevel() > logging.INFO:
            self.logger.setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        match = _RETRY.match(record.getMessage())
        if match:
            self.stream.emit("retry", what="kernel-start", attempt=int(match.group(1)), message=match.group(2))

    def detach(self) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self._previous_level)


def _cache_fields(result: ExecutionResult | None) -> dict[str, Any]:
    """``cached`` and ``cache_rerun`` (why a stored run was not replayed), when the run used the cache."""
    use = result.cache_use if result is not None else None
    if use is None:
        return {}
    return {"cached": use.replayed, **({"cache_rerun": use.rerun} if use.rerun else {})}


def _value_fields(result: ExecutionResult | None) -> dict[str, Any]:
    """``values``, ``expectations``, ``redactions`` and the resource figures, where the run has them."""
    if result is None:
        return {}
    fields: dict[str, Any] = {}
    if result.recorded_values:
        fields["values"] = result.recorded_values.to_json()
    if result.expectations:
        fields["expectations"] = [verdict.to_json() for verdict in result.expectations]
    if result.redactions is not None:
        fields["redactions"] = result.redactions
    fields.update(resource_figures(result))
    return fields
