"""One event loop and one warm kernel template per pytest process (per xdist worker).

Every notebook test runs on the same private event loop, so the fork-server
template started for the first notebook serves all the others: a notebook
costs a fork, not a kernel launch. :meth:`NotebookRunner.close` (session end,
also after Ctrl-C) stops every kernel and the template; if pytest itself is
killed, the template sees its stdin close and terminates its kernels.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any, Coroutine, TypeVar

import pytest

from nbrun.api import run_file
from nbrun.forkserver import ForkServer, serving
from nbrun.kernel import reap_kernels
from nbrun.options import ExecuteOptions
from nbrun.result import ExecutionResult

T = TypeVar("T")
_SETTLE_SECONDS = 15.0


async def run_notebook(source: Path, target: Path, options: ExecuteOptions) -> ExecutionResult:
    """The plugin's one call into nbrun's file-run path (re-point here when that path changes)."""
    return await run_file(source, target, options, reap_in_background=True)


class NotebookRunner:
    """Runs notebooks synchronously for pytest items; owns the loop and the template."""

    def __init__(self, preload: tuple[str, ...] = ()) -> None:
        self._preload = preload
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ForkServer | None = None

    def start(self) -> None:
        """Launch the template now (it boots while pytest collects or runs other tests)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._server = ForkServer(sys.executable, self._preload)
            self._server.launch()

    def run(self, source: Path, target: Path, options: ExecuteOptions) -> ExecutionResult:
        """Run one notebook; an interruption (Ctrl-C, pytest-timeout) stops its kernel before propagating."""
        return self._complete(run_notebook(source, target, options))

    def _complete(self, coro: Coroutine[Any, Any, T]) -> T:
        self.start()
        assert self._loop is not None and self._server is not None
        with serving(self._server):
            task = self._loop.create_task(coro)
        try:
            return self._loop.run_until_complete(task)
        except BaseException:
            self._settle([task])
            raise

    def _settle(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Cancel *tasks* and let their cleanup (kernel shutdown) run, within a bound."""
        assert self._loop is not None
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            with contextlib.suppress(BaseException):
                self._loop.run_until_complete(asyncio.wait(pending, timeout=_SETTLE_SECONDS))

    def close(self) -> None:
        """Stop every kernel and the template; safe to call more than once."""
        loop, server = self._loop, self._server
        self._loop = self._server = None
        if loop is None or server is None:
            return
        try:
            self._loop = loop
            self._settle(list(asyncio.all_tasks(loop)))
            with contextlib.suppress(BaseException):
                loop.run_until_complete(asyncio.wait_for(reap_kernels(), _SETTLE_SECONDS))
        finally:
            self._loop = None
            with contextlib.suppress(BaseException):
                loop.run_until_complete(server.close())
            loop.close()


RUNNER_KEY = pytest.StashKey[NotebookRunner]()
