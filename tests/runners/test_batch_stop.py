"""A stop while a look-ahead kernel is still booting skips that notebook: it never ran a cell."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbrun import BatchOptions, ExecuteOptions
from nbrun.control import RunControl
from nbrun.events import ExecutionObserver
from nbrun.kernel import starter
from nbrun.runners.batch import BatchJob, BatchObserver, run_batch
from nbrun.status import RunStatus
from tests.support.notebooks import make_notebook

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_leaked_kernels")]


def test_a_stop_while_the_next_kernel_boots_skips_that_notebook(tmp_path: Path, monkeypatch: Any) -> None:
    control = RunControl()
    real_start = starter.start_local_kernel
    starts = 0

    async def second_start_never_finishes(*args: Any) -> Any:
        nonlocal starts
        starts += 1
        if starts == 1:
            return await real_start(*args)
        await asyncio.Event().wait()  # the look-ahead kernel is still booting when the stop comes

    class StopInTheSleep(ExecutionObserver):
        def cell_started(self, index: int, cell: Any) -> None:
            if index == 1:
                asyncio.get_running_loop().call_later(0.2, control.request_stop, "SIGINT")

    class Observer(BatchObserver):
        def job_started(self, job: BatchJob) -> ExecutionObserver:
            return StopInTheSleep()

    monkeypatch.setattr(starter, "start_local_kernel", second_start_never_finishes)  # supply imports it at a start
    paths = [tmp_path / "first.ipynb", tmp_path / "second.ipynb"]
    for path in paths:
        nbformat.write(make_notebook("print('go')", "import time\ntime.sleep(60)"), path)
    given = paths[1].read_bytes()
    jobs = [BatchJob(p, p, ExecuteOptions()) for p in paths]
    options = BatchOptions(max_parallel=1, fast_start=False)
    first, second = asyncio.run(run_batch(jobs, options, control=control, observer=Observer()))
    assert first.status is RunStatus.INTERRUPTED, first.summary()
    assert second.status is RunStatus.SKIPPED and second.summary() == "not run: SIGINT"
    assert paths[1].read_bytes() == given  # a notebook that never ran is not rewritten
