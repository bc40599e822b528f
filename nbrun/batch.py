"""Running many notebooks concurrently from one process (asyncio).

Each notebook gets its own kernel; at most ``jobs`` run at once. Outcomes
are reported as they finish and returned in the order the jobs were given.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence

from .api import async_run_path
from .control import RunControl
from .errors import KernelError, NbrunError, NotebookReadError
from .events import ExecutionObserver
from .options import ExecuteOptions
from .result import ExecutionResult


@dataclass(frozen=True)
class BatchJob:
    """One notebook to run: where it comes from, where it goes, how."""

    source: Path
    target: Path
    options: ExecuteOptions
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchOutcome:
    """How one job ended: a result, an error raised before/after execution, or skipped."""

    job: BatchJob
    result: ExecutionResult | None = None
    error: NbrunError | None = None
    skipped_reason: str | None = None
    duration: float = 0.0

    @property
    def status(self) -> str:
        """ok, error, timeout, kernel-died, interrupted, skipped, invalid, kernel-failed or io-error."""
        if self.result is not None:
            return self.result.status.value
        if self.error is not None:
            if isinstance(self.error, NotebookReadError):
                return "invalid"
            if isinstance(self.error, KernelError):
                return "kernel-failed"
            return "io-error"
        return "skipped"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> str:
        """One line saying what went wrong ('' when ok)."""
        if self.error is not None:
            return str(self.error)
        if self.result is not None and self.result.message and not self.ok:
            return self.result.message
        return self.skipped_reason or ""


class BatchObserver:
    """Receives batch events; every method is a no-op here."""

    def job_started(self, job: BatchJob) -> ExecutionObserver:
        """A job starts; return the observer for its cells."""
        return ExecutionObserver()

    def job_finished(self, outcome: BatchOutcome) -> None:
        """A job ended (finished, failed or skipped)."""


Runner = Callable[[BatchJob, ExecutionObserver, RunControl], Awaitable[ExecutionResult]]


async def run_local(job: BatchJob, observer: ExecutionObserver, control: RunControl) -> ExecutionResult:
    """The default runner: execute the notebook here, with a local kernel."""
    return await async_run_path(job.source, job.target, job.options, observer=observer, control=control)


async def run_batch(
    jobs: Sequence[BatchJob],
    *,
    max_parallel: int = 1,
    fail_fast: bool = False,
    control: RunControl | None = None,
    observer: BatchObserver | None = None,
    runner: Runner = run_local,
) -> list[BatchOutcome]:
    """Run *jobs* with at most *max_parallel* at once.

    A failure does not stop the others unless *fail_fast* (then jobs not yet
    started are skipped; running ones finish). A stop request on *control*
    interrupts every running notebook and skips the rest.
    """
    control = control or RunControl()
    observer = observer or BatchObserver()
    gate = asyncio.Semaphore(max(1, max_parallel))
    failed = asyncio.Event()

    async def one(job: BatchJob) -> BatchOutcome:
        async with gate:
            if control.stop_requested:
                return _skipped(job, f"not run: {control.reason}", observer)
            if fail_fast and failed.is_set():
                return _skipped(job, "not run: an earlier notebook failed (--fail-fast)", observer)
            outcome = BatchOutcome(job)
            began = time.monotonic()
            cell_observer = observer.job_started(job)
            try:
                outcome.result = await runner(job, cell_observer, control)
            except NbrunError as exc:
                outcome.error = exc
            outcome.duration = time.monotonic() - began
            if not outcome.ok:
                failed.set()
            observer.job_finished(outcome)
            return outcome

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def _skipped(job: BatchJob, reason: str, observer: BatchObserver) -> BatchOutcome:
    outcome = BatchOutcome(job, skipped_reason=reason)
    observer.job_finished(outcome)
    return outcome
