"""One event loop and one warm kernel template per pytest process (per xdist worker).

Every notebook test runs on the same private event loop, so the fork-server
template started for the first notebook serves all the others: a notebook
costs a fork, not a kernel launch. While a notebook runs, the next test's
kernel is already forked and booting (it waits at a gate before its first
cell), so kernel start-up is off the critical path as in ``nbrun run -j``.
:meth:`NotebookRunner.close` (session end, also after Ctrl-C) stops every
kernel and the template; if pytest itself is killed, the template sees its
stdin close and terminates its kernels.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nbrun.check.model import CheckOptions
from nbrun.kernel.fork import start_forked_kernel
from nbrun.kernel.fork.forkserver import ForkServer, ForkTemplates, serving
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


class NotebookRunner:
    """Runs notebooks synchronously for pytest items; owns the loop, the template and one prestarted job."""

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self._preload = preload
        self._loop: asyncio.AbstractEventLoop | None = None
        self._templates: ForkTemplates | None = None
        self._reaper = Reaper()
        self._prestarted: tuple[str, _Gate, asyncio.Task[ExecutionResult]] | None = None

    def start(self) -> None:
        """Launch the template now (it boots while pytest collects or runs other tests)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            host = ForkServer(sys.executable, self._preload)
            host.launch()
            self._templates = ForkTemplates(self._preload, host)

    def run(self, job: NotebookJob, next_job: NotebookJob | None = None) -> ExecutionResult:
        """Run *job* (booting *next_job*'s kernel meanwhile).

        An interruption (Ctrl-C, pytest-timeout) stops the kernels before it propagates.
        """
        self.start()
        assert self._loop is not None
        gate, task = self._take(job.key) or self._launch(job)
        gate.opened.set()
        if next_job is not None:
            next_gate, next_task = self._launch(next_job)
            self._prestarted = (next_job.key, next_gate, next_task)
        try:
            return self._loop.run_until_complete(task)
        except BaseException:
            self._settle([task] + ([self._prestarted[2]] if self._prestarted else []))
            self._prestarted = None
            raise

    def _launch(self, job: NotebookJob) -> tuple[_Gate, asyncio.Task[ExecutionResult]]:
        assert self._loop is not None and self._templates is not None
        gate = _Gate()
        with serving(self._templates):
            supply = KernelSupply(start_forked_kernel, gate, self._reaper)
            return gate, self._loop.create_task(run_notebook(job, supply))

    def _take(self, key: str) -> tuple[_Gate, asyncio.Task[ExecutionResult]] | None:
        """The prestarted job if it is *key*; a prestarted job for another test is dropped."""
        prestarted, self._prestarted = self._prestarted, None
        if prestarted is None:
            return None
        if prestarted[0] == key:
            return prestarted[1], prestarted[2]
        self._settle([prestarted[2]])
        return None

    def _settle(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Cancel *tasks* and let their cleanup (kernel shutdown) run, within a bound."""
        assert self._loop is not None
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(BaseException):
                self._loop.run_until_complete(asyncio.wait(pending, timeout=_SETTLE_SECONDS))
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: an unused prestart that failed is not an error

    def close(self) -> None:
        """Stop every kernel and the template; safe to call more than once."""
        loop, templates = self._loop, self._templates
        if loop is None or templates is None:
            return
        try:
            self._settle(list(asyncio.all_tasks(loop)))
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.wait_for(self._reaper.wait(), _SETTLE_SECONDS))
        finally:
            self._loop, self._templates = None, None
            self._prestarted = None
            with contextlib.suppress(BaseException):
                loop.run_until_complete(templates.close())
            loop.close()


RUNNER_KEY = pytest.StashKey[NotebookRunner]()
