"""Running many notebooks concurrently from one process (asyncio).

Each notebook is one file run through ``pipeline.run_file`` (or a custom
``Runner`` such as the Dask one) with its own kernel; at most
``BatchOptions.max_parallel`` run at once. The batch owns the kernel supply
(``kernel.supply``: the fork-server scope of fast start and the reaper of
kernels closed in the background) and hands it to each job, gated by its slot.
Outcomes are reported as they finish and returned in the order the jobs
were given; ``BatchOutcome.status`` is a ``RunStatus``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..control import RunControl
from ..errors import ExecutionInterrupted, NbrunError
from ..events import ExecutionObserver
from ..kernel.supply import kernel_supply
from ..options import BatchOptions, ExecuteOptions, FileOptions
from ..pipeline.core import FileRun
from ..pipeline.default import run_file
from ..result import ExecutionResult
from ..status import RunStatus
from ..storage.locations import Where


@dataclass(frozen=True)
class BatchJob:
    """One notebook to run: where it comes from, where it goes, how."""

    source: Where  # a path or a URL (nbrun.storage.locations)
    target: Where
    options: ExecuteOptions
    parameters: dict[str, Any] = field(default_factory=dict)
    file_options: FileOptions = field(default_factory=FileOptions)

    @property
    def file_run(self) -> FileRun:
        return FileRun(self.source, self.target, self.options, self.file_options)


@dataclass
class BatchOutcome:
    """How one job ended: a result, an error raised before/after execution, or skipped."""

    job: BatchJob
    result: ExecutionResult | None = None
    error: NbrunError | None = None
    skipped_reason: str | None = None
    duration: float = 0.0  # from its kernel's start (or fork) to its write; the wait for a run slot is not in it

    @property
    def status(self) -> RunStatus:
        """The result's status (MISMATCH when ``nbrun check`` found other outputs), else the error's, else SKIPPED.

        ``nbrun check --update`` that could not write the new outputs is IO_ERROR.
        """
        if self.result is not None:
            check = self.result.check
            if check is not None and not check.passed:
                return RunStatus.IO_ERROR if check.update_error else RunStatus.MISMATCH
            return self.result.status
        if self.error is not None:
            return self.error.status
        return RunStatus.SKIPPED

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK

    @property
    def timed(self) -> float | None:
        """The notebook's one time figure (``duration``, in whole milliseconds), or None for a skipped notebook.

        Rounded here, once, so the line, the table, JSON, JUnit and the events, each showing it to its own
        precision, never disagree by a rounding (0.3654 s shows as 0.365 and 0.36 everywhere, never 0.37).
        """
        return None if self.status is RunStatus.SKIPPED else round(self.duration, 3)

    def summary(self) -> str:
        """One line saying what went wrong ('' when ok)."""
        if self.error is not None:
            return str(self.error)
        if self.result is not None and self.result.message and not self.ok:
            return self.result.message
        if self.result is not None and self.result.check is not None and not self.ok:
            return self.result.check.summary_line()
        return self.skipped_reason or ""


class BatchObserver:
    """Receives batch events; every method is a no-op here."""

    def job_started(self, job: BatchJob) -> ExecutionObserver:
        """A job starts; return the observer for its cells."""
        return ExecutionObserver()

    def job_finished(self, outcome: BatchOutcome) -> None:
        """A job ended (finished, failed or skipped)."""


Runner = Callable[[BatchJob, ExecutionObserver, RunControl], Awaitable[ExecutionResult]]


class SkipJob(Exception):
    """Raised at the run gate (or by a runner) when a prepared notebook must not run after all."""


class _OrderedSlots:
    """At most *size* notebooks run at once, and they start in the order given.

    Kernels may become ready in any order; a notebook enters only after every
    earlier one has entered or been dropped, so ``-j 1`` runs them in order.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._running = 0
        self._next = 0
        self._passed: set[int] = set()
        self._changed = asyncio.Condition()

    async def enter(self, index: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self._next == index and self._running < self._size)
            self._running += 1
            self._advance(index)

    async def leave(self) -> None:
        async with self._changed:
            self._running -= 1
            self._changed.notify_all()

    async def drop(self, index: int) -> None:
        """*index* will never enter (skipped or failed before its cells)."""
        async with self._changed:
            self._advance(index)

    def _advance(self, index: int) -> None:
        self._passed.add(index)
        while self._next in self._passed:
            self._next += 1
        self._changed.notify_all()


class _RunSlot:
    """The gate one notebook enters once its kernel is ready.

    The slot is given back by :meth:`release` once the job's outcome is
    known (not on leaving the block), so --fail-fast sees a failure before
    the next notebook may start.
    """

    def __init__(self, slots: _OrderedSlots, index: int, skip_reason: Callable[[], str | None]) -> None:
        self._slots = slots
        self._index = index
        self._skip_reason = skip_reason
        self._held = False
        self._done = False
        self.entered = False  # False: the notebook never began (a stop while its kernel booted skips it)
        self.waited = 0.0  # seconds its ready kernel waited for a slot (queued, not running)

    async def __aenter__(self) -> None:
        queued = time.monotonic()
        await self._slots.enter(self._index)
        self.waited = time.monotonic() - queued
        self._held = True
        self.entered = True
        reason = self._skip_reason()
        if reason is not None:
            await self.release()
            raise SkipJob(reason)

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def release(self) -> None:
        if self._held:
            self._held = False
            await self._slots.leave()
        elif not self._done:
            await self._slots.drop(self._index)
        self._done = True


async def run_batch(
    jobs: Sequence[BatchJob],
    options: BatchOptions | None = None,
    *,
    control: RunControl | None = None,
    observer: BatchObserver | None = None,
    runner: Runner | None = None,
) -> list[BatchOutcome]:
    """Run *jobs* with at most ``options.max_parallel`` executing at once.

    Each job is one file run through ``pipeline.run_file``. Locally, up to
    ``options.prestart`` further kernels (default: ``max_parallel``) boot while
    notebooks run, so kernel start is off the critical path, and finished
    kernels are shut down in the background by the batch's reaper (waited
    for before returning). A failure does not stop the others unless
    ``options.fail_fast`` (then jobs not yet started are
    skipped; running ones finish). A stop request on *control* interrupts
    every running notebook and skips the rest. A custom *runner* (e.g. a
    cluster) replaces local execution and does its own scheduling.
    """
    options = options or BatchOptions()
    control = control or RunControl()
    observer = observer or BatchObserver()
    max_parallel, fail_fast = options.max_parallel, options.fail_fast
    lookahead = max_parallel if options.prestart is None else max(0, options.prestart)
    starting = asyncio.Semaphore(max_parallel + lookahead if runner is None else max_parallel)
    running = _OrderedSlots(max_parallel)
    failed = asyncio.Event()

    def skip_reason() -> str | None:
        if control.stop_requested:
            return f"not run: {control.reason}"
        if fail_fast and failed.is_set():
            return "not run: an earlier notebook failed (--fail-fast)"
        return None

    async def one(index: int, job: BatchJob) -> BatchOutcome:
        async with starting:
            reason = skip_reason()
            if reason is not None:
                await running.drop(index)
                return _skipped(job, reason, observer)
            outcome = BatchOutcome(job)
            began = time.monotonic()
            cell_observer = observer.job_started(job)
            slot = _RunSlot(running, index, skip_reason)
            try:
                if runner is not None:
                    outcome.result = await runner(job, cell_observer, control)
                else:
                    outcome.result = await run_file(
                        job.file_run,
                        observer=cell_observer,
                        control=control,
                        supply=supply.gated(lambda: slot),
                    )
            except SkipJob as skip:
                outcome.skipped_reason = str(skip)
            except ExecutionInterrupted as exc:  # a look-ahead kernel still booting at the stop never ran
                if runner is None and not slot.entered:
                    outcome.skipped_reason = f"not run: {control.reason}"
                else:
                    outcome.error = exc
            except NbrunError as exc:
                outcome.error = exc
            finally:
                outcome.duration = time.monotonic() - began - slot.waited
                if not outcome.ok and outcome.skipped_reason is None:
                    failed.set()
                await slot.release()
            observer.job_finished(outcome)
            return outcome

    async with kernel_supply(runner is None and options.fast_start, options.preload, options.daemon) as supply:
        return list(await asyncio.gather(*(one(index, job) for index, job in enumerate(jobs))))


def _skipped(job: BatchJob, reason: str, observer: BatchObserver) -> BatchOutcome:
    outcome = BatchOutcome(job, skipped_reason=reason)
    observer.job_finished(outcome)
    return outcome
