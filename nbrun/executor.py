"""Executing a whole notebook: the per-cell loop and its error policy."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from pathlib import Path
from typing import Any, AsyncContextManager, Awaitable, Callable, Protocol

from nbformat import NotebookNode

from .cell_label import cell_label
from .cell_record import record_cell
from .cell_runner import CellLimits, CellRun, KernelLike, StdinAnswers, run_cell
from .control import RunControl
from .errors import ExecutionInterrupted, NbrunError
from .events import ExecutionObserver
from .kernel import KernelExit, KernelSession
from .options import DEFAULT_KERNEL, ExecuteOptions
from .outputs import CellOutputs, DisplayRegistry
from .parameters import json_safe
from .prepare import apply_parameters
from .restarts import restart_failure
from .result import CellRecord, CellStatus, ExecutionResult, RunStatus
from .widgets import WidgetStates


class Kernel(KernelLike, Protocol):
    """A started kernel as the executor uses it."""

    kernel_info: dict[str, Any]

    async def close(self, grace: float = 1.0) -> KernelExit: ...
    def close_in_background(self, grace: float = 0.5) -> None: ...
    def stderr_tail(self, lines: int = 20) -> str: ...
    def stderr_text(self) -> str: ...


KernelStarter = Callable[[str, Path, ExecuteOptions], Awaitable[Kernel]]


async def start_local_kernel(kernel_name: str, cwd: Path, options: ExecuteOptions) -> Kernel:
    """The default starter: a local kernel through jupyter_client."""
    session = await KernelSession.start(
        kernel_name, cwd, startup_timeout=options.startup_timeout, extra_args=options.extra_kernel_args
    )
    # JSON escapes make the encoded text up to ~2x longer; past this, nothing more could be kept
    session.max_message_bytes = 2 * options.max_output_bytes + 65536
    return session


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def resolve_kernel_name(nb: NotebookNode, options: ExecuteOptions) -> str:
    """``--kernel``, else the notebook's kernelspec name, else ``python3``."""
    if options.kernel_name:
        return options.kernel_name
    spec = nb.get("metadata", {}).get("kernelspec")
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and name else DEFAULT_KERNEL


def reset_notebook(nb: NotebookNode, options: ExecuteOptions) -> None:
    """Clear previous outputs and nbrun/timing records before a run."""
    nb.metadata.pop("nbrun", None)
    if options.store_widget_state:
        nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = []
        cell["execution_count"] = None
        cell.setdefault("metadata", NotebookNode())
        cell.metadata.pop("execution", None)
        cell.metadata.pop("nbrun", None)


class NotebookExecution:
    """One run of one notebook. Call :meth:`run` once."""

    def __init__(
        self,
        nb: NotebookNode,
        options: ExecuteOptions,
        *,
        observer: ExecutionObserver | None = None,
        control: RunControl | None = None,
        start_kernel: KernelStarter = start_local_kernel,
        ready_gate: Callable[[], AsyncContextManager[Any]] | None = None,
        reap_in_background: bool = False,
    ) -> None:
        self.nb = nb
        self.options = options
        self.observer = observer or ExecutionObserver()
        self.control = control
        self._start_kernel = start_kernel
        self._ready_gate = ready_gate or contextlib.nullcontext
        self._reap_in_background = reap_in_background
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
        self.nb.metadata["nbrun"] = {"status": "running", "kernel": self.kernel_name, "start": self.started_at}
        return self.nb

    async def run(self) -> ExecutionResult:
        """Start the kernel, run every code cell, stop the kernel.

        Raises NoSuchKernelError / KernelStartError when no kernel could be
        started (the notebook is then left as it was given). Cells start
        running once ``ready_gate`` is entered (a batch's concurrency limit),
        so the kernel can boot while other notebooks run.
        """
        self._apply_parameters()
        self._kernel = await self._start_watching_stop()
        try:
            async with self._ready_gate():
                return await self._run_started()
        finally:
            await self._stop_kernel(self._reap_in_background)

    def _apply_parameters(self) -> None:
        """Inject ``options.parameters`` (before the kernel starts, so errors touch nothing)."""
        for warning in apply_parameters(self.nb, self.options):
            self.observer.warning(warning)

    async def _start_watching_stop(self) -> Kernel:
        """Start the kernel, abandoning the start if a stop is requested meanwhile."""
        start = asyncio.ensure_future(self._start_kernel(self.kernel_name, self.options.cwd or Path.cwd(), self.options))
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
        language_info = self._kernel.kernel_info.get("language_info")
        if language_info:
            self.nb.metadata["language_info"] = language_info
        code_cells = sum(1 for cell in self.nb.cells if cell.get("cell_type") == "code")
        self.observer.notebook_started(code_cells)
        deadline = clock + self.options.notebook_timeout if self.options.notebook_timeout else None
        failure = await self._run_cells(deadline)
        await self._stop_kernel(self._reap_in_background)
        result = self._result(failure, time.monotonic() - clock)
        self.observer.notebook_finished(result)
        return result

    async def _run_cells(self, deadline: float | None) -> tuple[RunStatus, CellRecord, str] | None:
        failure: tuple[RunStatus, CellRecord, str] | None = None
        for index, cell in enumerate(self.nb.cells):
            if cell.get("cell_type") != "code":
                continue
            if failure is None and self.control is not None and self.control.stop_requested:
                record = CellRecord(index, CellStatus.INTERRUPTED, note="not started: the run was stopped")
                failure = (RunStatus.INTERRUPTED, record, f"interrupted ({self.control.reason}) before {cell_label(index)}")
                self._mark(cell, record, "not-run")
                self._finish_record(record)
                continue
            if failure is not None:
                self._finish_record(self._mark(cell, CellRecord(index, CellStatus.NOT_RUN), "not-run"))
                continue
            static = self._static_record(index, cell)
            if static is None:
                record, failure = await self._run_code_cell(index, cell, deadline)
            else:
                record = static
            self._finish_record(record)
        return failure

    def _static_record(self, index: int, cell: NotebookNode) -> CellRecord | None:
        if self.options.skip_tag in cell.metadata.get("tags", []):
            return self._mark(cell, CellRecord(index, CellStatus.SKIPPED), "skipped")
        if not cell.source.strip():
            return CellRecord(index, CellStatus.EMPTY)
        return None

    def _finish_record(self, record: CellRecord) -> None:
        self._records.append(record)
        self.observer.cell_finished(record)

    @staticmethod
    def _mark(cell: NotebookNode, record: CellRecord, status: str) -> CellRecord:
        cell.metadata["nbrun"] = {"status": status}
        return record

    async def _run_code_cell(
        self, index: int, cell: NotebookNode, deadline: float | None
    ) -> tuple[CellRecord, tuple[RunStatus, CellRecord, str] | None]:
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
        try:
            run = await run_cell(
                self._kernel, cell.source, collector, limits,
                stop_on_error=not allows_error, control=self.control, stdin=self._stdin,
            )
        finally:
            self._current = None
        kernel = self._kernel
        record = record_cell(cell, collector, run, index=index, duration=time.monotonic() - began,
                             record_timing=self.options.record_timing,
                             stderr_tail=lambda: kernel.stderr_tail(20) if kernel is not None else "")
        return record, await self._apply_policy(cell, record, run, allows_error)

    async def _apply_policy(
        self, cell: NotebookNode, record: CellRecord, run: CellRun, allows_error: bool
    ) -> tuple[RunStatus, CellRecord, str] | None:
        """Decide whether the run goes on after this cell."""
        index = record.index
        label = cell_label(index, record.execution_count)
        if record.status is CellStatus.OK:
            return None
        if record.status is CellStatus.ERROR:
            if record.ename == "SystemExit" and (record.evalue or "0") in ("0", "", "None"):
                record.status = CellStatus.OK
                record.note = "SystemExit(0): the notebook stopped itself; later cells not run"
                return (RunStatus.OK, record, record.note)
            if cell.metadata.get("nbrun", {}).get("stdin_exhausted"):
                record.note = "input() was called after the stdin lines ran out; the kernel was interrupted"
            if allows_error:
                return None
            if record.note:
                return (RunStatus.ERROR, record, f"{label}: {record.note}")
            return (RunStatus.ERROR, record, f"{label} raised {record.ename}: {record.evalue}")
        if record.status is CellStatus.TIMEOUT:
            self.observer.warning(f"{label} {record.note}; {', '.join(record.actions)}")
            if run.notebook_deadline_hit:
                limit = self.options.notebook_timeout
                return (RunStatus.TIMEOUT, record, f"notebook timed out after {limit:g} s in {label}")
            if allows_error:
                return await self._continue_after_kernel_loss(cell, record, run, "after the timeout")
            return (RunStatus.TIMEOUT, record, f"{label} {record.note}")
        if record.status is CellStatus.KERNEL_DIED:
            message = f"kernel died in {label}: {run.kernel_exit.describe() if run.kernel_exit else 'unknown'}"
            if self.options.restart_on_death:
                self.observer.warning(message)
                return await self._continue_after_kernel_loss(cell, record, run, "after the kernel died")
            return (RunStatus.KERNEL_DIED, record, message)
        reason = self.control.reason if self.control is not None else "stop requested"
        return (RunStatus.INTERRUPTED, record, f"interrupted ({reason}) in {label}")

    async def _continue_after_kernel_loss(
        self, cell: NotebookNode, record: CellRecord, run: CellRun, when: str
    ) -> tuple[RunStatus, CellRecord, str] | None:
        if run.kernel_alive and await self._kernel_alive():
            return None
        await self._stop_kernel()
        self._kernel = await self._start_kernel(self.kernel_name, self.options.cwd or Path.cwd(), self.options)
        self._restarts += 1
        record.actions.append("restarted")
        note = f"a fresh kernel was started {when}; state from earlier cells is gone"
        cell.metadata.setdefault("nbrun", {"status": record.status.value})
        cell.metadata["nbrun"]["kernel_restarted"] = note
        cell.metadata["nbrun"]["actions"] = list(record.actions)
        self.observer.warning(f"{cell_label(record.index, record.execution_count)}: {note}")
        return None

    async def _kernel_alive(self) -> bool:
        return self._kernel is not None and await self._kernel.poll_exit() is None

    async def _stop_kernel(self, in_background: bool = False) -> None:
        kernel, self._kernel = self._kernel, None
        if kernel is None:
            return
        if in_background:
            self._kernel_output.append(kernel.stderr_text())
            kernel.close_in_background()
        else:
            await kernel.close()
            self._kernel_output.append(kernel.stderr_text())

    def _result(self, failure: tuple[RunStatus, CellRecord, str] | None, duration: float) -> ExecutionResult:
        if self._widgets is not None:
            widgets = self._widgets.metadata()
            if widgets:
                self.nb.metadata["widgets"] = widgets
        result = ExecutionResult(
            notebook=self.nb,
            status=RunStatus.OK,
            cells=self._records,
            kernel_name=self.kernel_name,
            started_at=self.started_at,
            finished_at=utc_now(),
            duration=duration,
            kernel_output="".join(self._kernel_output),
            restarts=self._restarts,
        )
        failure = restart_failure(self._records, failure)  # issue 13: a restart is not a success
        if failure is not None:
            status, record, message = failure
            result.status = status
            result.message = message
            if status is not RunStatus.OK:
                result.failed_cell = record.index
                result.ename, result.evalue = record.ename, record.evalue
            if status is RunStatus.INTERRUPTED and self.control is not None:
                result.interrupted_by = self.control.reason
        errors = [r.index for r in self._records if r.status is CellStatus.ERROR]
        metadata = result.metadata()
        if self.options.parameters is not None:
            metadata["parameters"] = json_safe(dict(self.options.parameters))
        if failure is not None:
            failed_meta = self.nb.cells[failure[1].index].metadata.get("nbrun", {})
            for key in ("kernel_exit", "timeout", "actions"):
                if key in failed_meta:
                    metadata[key] = failed_meta[key]
        if errors:
            metadata["cells_with_errors"] = errors
        self.nb.metadata["nbrun"] = metadata
        return result
