"""The ``execute`` stage: the per-cell loop and its error policy.

``NotebookExecution`` gets its kernel through the ``KernelStarter`` seam
(``start_local_kernel`` by default; the scripted fake in unit tests), makes
one frozen ``CellRecord`` per code cell, writes it into the cell once
(``cell_record.write_cell_record``) and builds the one ``ExecutionResult``.
Parameters are injected before this (``pipeline.prepare``); images and the
write come after it (``pipeline.Pipeline.finish``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from ..control import RunControl
from ..errors import ExecutionInterrupted, NbrunError
from ..events import ExecutionObserver
from ..kernel.protocol import Kernel, Reaper, utc_now
from ..kernel.supply import KernelSupply
from ..notebook.model import reset_notebook, resolve_kernel_name, set_run_record
from ..notebook.parameters import json_safe
from ..options import ExecuteOptions
from ..result import REDACTIONS, CellRecord, CellStatus, ExecutionResult, Failure, RunStatus
from ..secrets.redaction import Redactor
from ..storage.leftovers import running_process
from .after_cell import run_after_cell
from .cell_label import cell_label
from .cell_record import error_summary, record_cell, write_cell_record
from .cell_runner import CellLimits, CellRun, StdinAnswers, run_cell
from .kernel_reads import REPORT_NAME, collect_reads, install_recorder, is_python
from .outputs import CellOutputs, DisplayRegistry, utf8_size
from .redacting_kernel import redacting_starter
from .resource_watch import ResourceWatch
from .restarts import restart_failure
from .widgets import WidgetStates


class NotebookExecution:
    """One run of one notebook. Call :meth:`run` once."""

    def __init__(
        self,
        nb: NotebookNode,
        options: ExecuteOptions,
        *,
        observer: ExecutionObserver | None = None,
        control: RunControl | None = None,
        supply: KernelSupply | None = None,
    ) -> None:
        self.nb = nb
        self.options = options
        self.observer = observer or ExecutionObserver()
        self.control = control
        supply = supply or KernelSupply()
        self._redactor = Redactor(options.secrets) if options.secrets else None
        self._start_kernel = supply.start if self._redactor is None else redacting_starter(supply.start, self._redactor)
        self._ready_gate = supply.ready_gate or contextlib.nullcontext
        self._reaper = supply.reaper
        self._watch = ResourceWatch(options.max_memory, options.interrupt_grace, supply.reaper)
        self._displays = DisplayRegistry()
        self._widgets = WidgetStates() if options.store_widget_state else None
        self._stdin = StdinAnswers(options.stdin_lines) if options.stdin_lines is not None else None
        self._current: CellOutputs | None = None
        self._kernel: Kernel | None = None
        self._records: list[CellRecord] = []
        self._restarts = 0
        self._kernel_output: list[str] = []
        self.kernel_name = resolve_kernel_name(nb, options)
        self.started_at = ""  # set when the first cell can run (after the kernel and any batch gate)
        self.started = False  # True once the kernel is up and outputs were reset

    def snapshot(self) -> NotebookNode:
        """The notebook as executed so far (safe to serialise between awaits)."""
        if self._current is not None:
            self._current.sync()
        set_run_record(
            self.nb,
            {"status": "running", "kernel": self.kernel_name, "start": self.started_at, **running_process()},
        )  # which process wrote it: a killed one is recognisable
        return self.nb

    async def run(self) -> ExecutionResult:
        """Start the kernel, run every code cell, stop the kernel.

        Raises NoSuchKernelError / KernelStartError when no kernel could be
        started (the notebook is then left as it was given). Cells start
        running once ``ready_gate`` is entered (a batch's concurrency limit),
        so the kernel can boot while other notebooks run.
        """
        self._kernel = await self._start_watching_stop()
        try:
            async with self._ready_gate():
                return await self._run_started()
        finally:
            await self._stop_kernel(self._reaper)

    async def _start_watching_stop(self) -> Kernel:
        """Start the kernel, abandoning the start if a stop is requested meanwhile."""
        start = asyncio.ensure_future(
            self._start_kernel(self.kernel_name, self.options.cwd or Path.cwd(), self.options)
        )
        if self.control is None:
            return await start
        stop = asyncio.ensure_future(self.control.wait())
        try:
            await asyncio.wait({start, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not start.done():
            start.cancel()
            with contextlib.suppress(asyncio.CancelledError, NbrunError):
                await start
            raise ExecutionInterrupted(f"interrupted ({self.control.reason}) while the kernel was starting")
        return start.result()

    async def _run_started(self) -> ExecutionResult:
        assert self._kernel is not None
        clock = time.monotonic()
        self.started_at = utc_now()
        reset_notebook(self.nb, self.options)
        self.started = True
        self._watch.attach(self._kernel)
        language_info = self._kernel.kernel_info.get("language_info")
        if language_info:
            self.nb.metadata["language_info"] = language_info
        code_cells = sum(1 for cell in self.nb.cells if cell.get("cell_type") == "code")
        self.observer.notebook_started(code_cells)
        deadline = clock + self.options.notebook_timeout if self.options.notebook_timeout else None
        python = self.options.record_reads and is_python(self._kernel.kernel_info)
        recording = python and await install_recorder(self._kernel, self._helper_limits())
        failure = await self._run_cells(deadline)
        reads = None
        if (
            recording
            and self._kernel is not None
            and not self._restarts
            and (failure is None or failure.status in (RunStatus.OK, RunStatus.ERROR))
        ):
            reads = await collect_reads(self._kernel, self._helper_limits())
        await self._stop_kernel(self._reaper)
        result = self._result(failure, time.monotonic() - clock)
        if python:
            result = result.with_report(REPORT_NAME, reads)  # None: the kernel could not say what it read
        if self._redactor is not None:
            result = result.with_report(REDACTIONS, self._redactor.count)
        self.observer.notebook_finished(result)
        return result

    def _helper_limits(self) -> CellLimits:
        return CellLimits(None, None, self.options.interrupt_grace, self.options.iopub_silence_timeout)

    async def _run_cells(self, deadline: float | None) -> Failure | None:
        failure: Failure | None = None
        for index, cell in enumerate(self.nb.cells):
            if cell.get("cell_type") != "code":
                continue
            if failure is None and self.control is not None and self.control.stop_requested:
                record = CellRecord(
                    index, CellStatus.INTERRUPTED, note="not started: the run was stopped", started=False
                )
                failure = Failure(
                    RunStatus.INTERRUPTED, record, f"interrupted ({self.control.reason}) before {cell_label(index)}"
                )
            elif failure is not None:
                record = CellRecord(index, CellStatus.NOT_RUN)
            elif self.options.skip_tag in cell.metadata.get("tags", []):
                record = CellRecord(index, CellStatus.SKIPPED)
            elif not cell.source.strip():
                record = CellRecord(index, CellStatus.EMPTY)
            else:
                record, failure = await self._run_code_cell(index, cell, deadline)
            write_cell_record(cell, record)
            self._records.append(record)
            self.observer.cell_finished(record)
        return failure

    async def _run_code_cell(
        self, index: int, cell: NotebookNode, deadline: float | None
    ) -> tuple[CellRecord, Failure | None]:
        assert self._kernel is not None
        tags = cell.metadata.get("tags", [])
        allows_error = self.options.allow_errors or self.options.raises_tag in tags
        collector = CellOutputs(
            cell.outputs,
            self._displays,
            self._widgets,
            max_bytes=self.options.max_output_bytes,
            on_stream=lambda name, text: self.observer.stream_text(index, name, text),
        )
        limits = CellLimits(
            cell_timeout=self.options.timeout,
            notebook_deadline=deadline,
            interrupt_grace=self.options.interrupt_grace,
            iopub_silence=self.options.iopub_silence_timeout,
        )
        self._current = collector
        self.observer.cell_started(index, cell)
        began = time.monotonic()
        self._watch.cell_started()
        try:
            run = await run_cell(
                self._kernel,
                cell.source,
                collector,
                limits,
                stop_on_error=not allows_error,
                control=self.control,
                stdin=self._stdin,
                ipython=self._kernel.kernel_info.get("implementation") == "ipython",
            )
        finally:
            self._current = None
            use = self._watch.cell_finished()
        if self._widgets is not None:
            self._widgets.output_widgets.sync_to(self._kernel)  # Output widgets' captures, back to the kernel
        kernel = self._kernel
        record = record_cell(
            cell,
            collector,
            run,
            index=index,
            duration=time.monotonic() - began,
            record_timing=self.options.record_timing,
            stderr_tail=lambda: kernel.stderr_tail(20) if kernel is not None else "",
            peak_memory=use.peak_memory,
            cpu_time=use.cpu_time,
            out_of_memory=self._watch.out_of_memory_note(use, run.kernel_exit),
        )
        if record.status is CellStatus.OK and self.options.after_cell is not None and kernel is not None:
            record, after_failure = await run_after_cell(
                kernel, cell, record, self.options.after_cell, limits, self.control
            )
            if after_failure is not None:
                return record, after_failure
        return await self._apply_policy(record, run, allows_error)

    async def _apply_policy(
        self, record: CellRecord, run: CellRun, allows_error: bool
    ) -> tuple[CellRecord, Failure | None]:
        """Decide whether the run goes on after this cell; return the final record."""
        index = record.index
        label = cell_label(index, record.execution_count)
        if record.status is CellStatus.OK:
            return record, None
        if record.status is CellStatus.ERROR:
            if record.ename == "SystemExit" and (record.evalue or "0") in ("0", "", "None"):
                record = replace(
                    record, status=CellStatus.OK, note="SystemExit(0): the notebook stopped itself; later cells not run"
                )
                return record, Failure(RunStatus.OK, record, record.note or "")
            if record.stdin_exhausted:
                record = replace(
                    record, note="input() was called after the stdin lines ran out; the kernel was interrupted"
                )
            if allows_error:
                return record, None
            if record.note:
                return record, Failure(RunStatus.ERROR, record, f"{label}: {record.note}")
            return record, Failure(RunStatus.ERROR, record, f"{label} {error_summary(record)}")
        if record.status is CellStatus.TIMEOUT:
            self.observer.warning(f"{label} {record.note}; {', '.join(record.actions)}")
            if run.notebook_deadline_hit:
                limit = self.options.notebook_timeout
                return record, Failure(RunStatus.TIMEOUT, record, f"notebook timed out after {limit:g} s in {label}")
            if allows_error:
                return await self._continue_after_kernel_loss(record, run, "after the timeout"), None
            return record, Failure(RunStatus.TIMEOUT, record, f"{label} {record.note}")
        if record.status is CellStatus.KERNEL_DIED:
            message = f"kernel died in {label}: {run.kernel_exit.describe() if run.kernel_exit else 'unknown'}"
            if self.options.restart_on_death:
                self.observer.warning(message)
                return await self._continue_after_kernel_loss(record, run, "after the kernel died"), None
            return record, Failure(RunStatus.KERNEL_DIED, record, message)
        if record.status is CellStatus.OUT_OF_MEMORY:
            return record, Failure(RunStatus.OUT_OF_MEMORY, record, f"{label} {record.note}")
        if record.status is CellStatus.INCOMPLETE:
            return record, Failure(
                RunStatus.INCOMPLETE, record, f"{label} incomplete: {record.note}; its outputs may be wrong"
            )
        reason = self.control.reason if self.control is not None else "stop requested"
        return record, Failure(RunStatus.INTERRUPTED, record, f"interrupted ({reason}) in {label}")

    async def _continue_after_kernel_loss(self, record: CellRecord, run: CellRun, when: str) -> CellRecord:
        """Start a fresh kernel unless the old one survived; return the record saying so."""
        if run.kernel_alive and await self._kernel_alive():
            return record
        await self._stop_kernel()
        self._kernel = await self._start_kernel(self.kernel_name, self.options.cwd or Path.cwd(), self.options)
        self._watch.attach(self._kernel)
        self._restarts += 1
        note = f"a fresh kernel was started {when}; state from earlier cells is gone"
        self.observer.warning(f"{cell_label(record.index, record.execution_count)}: {note}")
        return replace(record, actions=(*record.actions, "restarted"), kernel_restarted=note)

    async def _kernel_alive(self) -> bool:
        return self._kernel is not None and await self._kernel.poll_exit() is None

    async def _stop_kernel(self, reaper: Reaper | None = None) -> None:
        kernel, self._kernel = self._kernel, None
        if kernel is None:
            return
        await self._watch.detach()
        if reaper is not None:
            self._kernel_output.append(kernel.stderr_text())
            kernel.close_in_background(reaper)
        else:
            await kernel.close()
            self._kernel_output.append(kernel.stderr_text())

    def _result(self, failure: Failure | None, duration: float) -> ExecutionResult:
        """Build the one result of this run and write its record into ``metadata.nbrun``."""
        failure = restart_failure(self._records, failure)  # a run that needed a restart is not ok
        widgets = self._widgets.metadata() if self._widgets is not None else None
        widget_state_dropped = self._store_widget_state(widgets) if widgets else None
        status, message, failed = RunStatus.OK, None, None
        if failure is not None:
            status, message = failure.status, failure.message
            failed = failure.record if failure.status is not RunStatus.OK else None
        interrupted = status is RunStatus.INTERRUPTED and self.control is not None
        result = ExecutionResult(
            notebook=self.nb,
            status=status,
            cells=tuple(self._records),
            kernel_name=self.kernel_name,
            started_at=self.started_at,
            finished_at=utc_now(),
            duration=duration,
            failed_cell=failed.index if failed is not None else None,
            ename=failed.ename if failed is not None else None,
            evalue=failed.evalue if failed is not None else None,
            message=message,
            kernel_output="".join(self._kernel_output),
            restarts=self._restarts,
            interrupted_by=self.control.reason if interrupted and self.control is not None else None,
        )
        record = self._run_metadata(result, failure)
        if widget_state_dropped is not None:
            record["widget_state_dropped"] = widget_state_dropped
        set_run_record(self.nb, record)
        return result

    def _store_widget_state(self, widgets: dict[str, Any]) -> int | None:
        """Widget state counts against ``max_output_bytes`` as outputs do; past it, dropped and said (its size)."""
        size = utf8_size(json.dumps(widgets, separators=(",", ":"), ensure_ascii=False))
        if size <= self.options.max_output_bytes:
            self.nb.metadata["widgets"] = widgets
            return None
        self.observer.warning(
            f"widget state of {size} bytes exceeds the output limit of "
            f"{self.options.max_output_bytes} bytes; not saved in metadata.widgets"
        )
        return size

    def _run_metadata(self, result: ExecutionResult, failure: Failure | None) -> dict[str, Any]:
        metadata = result.metadata()
        if self.options.parameters is not None:
            metadata["parameters"] = json_safe(dict(self.options.parameters))
        if failure is not None:
            record = failure.record
            if record.kernel_death is not None:
                metadata["kernel_exit"] = record.kernel_death.to_json()
            timeout = record.timeout_json()
            if timeout is not None:
                metadata["timeout"] = timeout
            if record.actions:
                metadata["actions"] = list(record.actions)
        if self._redactor is not None:
            metadata[REDACTIONS] = self._redactor.count  # how many, never where
        errors = [r.index for r in self._records if r.status is CellStatus.ERROR]
        if errors:
            metadata["cells_with_errors"] = errors
        return metadata
