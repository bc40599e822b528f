"""One event loop and one warm kernel template per pytest process (per xdist worker).

Every notebook test runs on the same private event loop, so the fork-server
template started for the first notebook serves all the others: a notebook
costs a fork, not a kernel launch. While a notebook runs, the next
``jobs - 1`` notebooks run too (``--nbrun-jobs``), and the one after them is
forked and booting at a gate before its first cell, so kernel start-up is off
the critical path as in ``nbrun run -j``. A result waits for its test's turn.
:meth:`NotebookRunner.close` (session end, also after Ctrl-C or ``-x``) stops
every kernel and the template; if pytest itself is killed, the template sees
its stdin close and terminates its kernels.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbrun.check.model import CheckOptions
from nbrun.kernel.fork import start_forked_kernel
from nbrun.kernel.fork.forkserver import ForkServer
from nbrun.kernel.fork.templates import ForkTemplates, serving, take_prelaunched
from nbrun.kernel.protocol import Reaper
from nbrun.kernel.supply import KernelSupply
from nbrun.options import ExecuteOptions, FileOptions
from nbrun.pipeline.core import FileRun
from nbrun.pipeline.default import run_file
from nbrun.result import ExecutionResult

_SETTLE_SECONDS = 15.0


@dataclass(frozen=True)
class NotebookJob:
    """One notebook test to run: its node id, where it is read and written, how."""

    key: str
    source: Path
    target: Path
    options: ExecuteOptions
    file: FileOptions
    check: CheckOptions | None = None  # --nbrun-check: compare with the stored outputs instead of writing
    temporary: bool = False  # *target* is a temp file, removed once the result is read

    def discard_target(self) -> None:
        """Remove a temporary target (the test has read the result, or the run was dropped)."""
        if self.temporary:
            self.target.unlink(missing_ok=True)


async def run_notebook(job: NotebookJob, supply: KernelSupply) -> ExecutionResult:
    """The plugin's one call into nbrun's file-run path: the same pipeline as ``nbrun run`` (or ``nbrun check``)."""
    if job.check is not None:
        from nbrun.check.run import run_and_check

        return await run_and_check(job.source, job.options, job.check, supply=supply)
    return await run_file(FileRun(job.source, job.target, job.options, job.file), supply=supply)


class _Gate:
    """Holds a started notebook before its first cell until its test runs."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()

    def __call__(self) -> _Gate:
        return self

    async def __aenter__(self) -> None:
        await self.opened.wait()

    async def __aexit__(self, *exc_info: object) -> None:
        return None


@dataclass(frozen=True)
class _Started:
    job: NotebookJob
    gate: _Gate
    task: asyncio.Task[ExecutionResult]


class NotebookRunner:
    """Runs notebooks synchronously for pytest items; owns the loop, the template and the notebooks started ahead."""

    def __init__(self, preload: tuple[str, ...] = (), jobs: int = 1) -> None:
        self._preload = preload
        self._jobs = max(1, jobs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._templates: ForkTemplates | None = None
        self._reaper = Reaper()
        self._started: dict[str, _Started] = {}

    def start(self) -> None:
        """Launch the template now (it boots while pytest collects or runs other tests)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            host = take_prelaunched(self._preload) or ForkServer(sys.executable, self._preload)
            host.launch()
            self._templates = ForkTemplates(self._preload, host)

    def run(self, job: NotebookJob, upcoming: Sequence[NotebookJob] = ()) -> ExecutionResult:
        """Run *job*; the first ``jobs - 1`` of *upcoming* run meanwhile and the next one's kernel boots.

        A notebook started earlier for a test that is no longer upcoming is dropped. An
        interruption (Ctrl-C, pytest-timeout) stops every kernel before it propagates: its
        exception may have landed in any notebook's task, so none is kept.
        """
        self.start()
        assert self._loop is not None
        window = [job, *upcoming[: self._jobs]]
        wanted = {each.key for each in window}
        self._settle([started for key, started in self._started.items() if key not in wanted])
        for position, each in enumerate(window):
            started = self._started.get(each.key) or self._launch(each)
            self._started[each.key] = started
            if position < self._jobs:
                started.gate.opened.set()
        task = self._started.pop(job.key).task
        try:
            return self._loop.run_until_complete(task)
        except BaseException:
            self._settle([_Started(job, _Gate(), task), *self._started.values()])
            raise

    def _launch(self, job: NotebookJob) -> _Started:
        assert self._loop is not None and self._templates is not None
        gate = _Gate()
        with serving(self._templates):
            supply = KernelSupply(start_forked_kernel, gate, self._reaper)
            return _Started(job, gate, self._loop.create_task(run_notebook(job, supply)))

    def _settle(self, dropped: list[_Started]) -> None:
        """Cancel the *dropped* runs and let their cleanup (kernel shutdown) run, within a bound."""
        assert self._loop is not None
        for started in dropped:
            self._started.pop(started.job.key, None)
        tasks = [started.task for started in dropped]
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(BaseException):
                self._loop.run_until_complete(asyncio.wait(pending, timeout=_SETTLE_SECONDS))
        for started in dropped:
            if started.task.done() and not started.task.cancelled():
                started.task.exception()  # retrieved: a run started ahead that failed is not an error
            started.job.discard_target()

    def close(self) -> None:
        """Stop every kernel and the template; safe to call more than once."""
        loop, templates = self._loop, self._templates
        if loop is None or templates is None:
            return
        try:
            self._settle(list(self._started.values()))
            leftover = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in leftover:
                task.cancel()
            with contextlib.suppress(BaseException):
                if leftover:
                    loop.run_until_complete(asyncio.wait(leftover, timeout=_SETTLE_SECONDS))
                loop.run_until_complete(asyncio.wait_for(self._reaper.wait(), _SETTLE_SECONDS))
        finally:
            self._loop, self._templates = None, None
            self._started = {}
            with contextlib.suppress(BaseException):
                loop.run_until_complete(templates.close())
            loop.close()


RUNNER_KEY = pytest.StashKey[NotebookRunner]()
