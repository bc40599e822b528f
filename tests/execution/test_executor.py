"""The executor's error policy, through the kernel-starter seam with the scripted fake kernel."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

from nbrun.control import RunControl
from nbrun.kernel.protocol import Kernel
from nbrun.kernel.supply import KernelSupply
from nbrun.options import ExecuteOptions
from nbrun.pipeline.core import execute_notebook
from nbrun.result import CellStatus, ExecutionResult, RunStatus
from tests.support.fake_kernel import FakeKernel, Step, busy, idle, ok_cell, reply


def notebook(*sources: str) -> NotebookNode:
    return new_notebook(cells=[new_code_cell(source) for source in sources])


def error_cell(ename: str, evalue: str) -> list[Step]:
    error = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
    return [busy(), Step("iopub", "error", error), reply("error", **error), idle()]


def run(
    nb: NotebookNode, *kernels: FakeKernel, control: RunControl | None = None, **options: Any
) -> tuple[ExecutionResult, list[FakeKernel]]:
    started: list[FakeKernel] = []

    async def start(name: str, cwd: Path, opts: ExecuteOptions) -> Kernel:
        kernel = kernels[len(started)]
        started.append(kernel)
        return kernel

    result = asyncio.run(execute_notebook(nb, ExecuteOptions(**options), control=control, supply=KernelSupply(start)))
    return result, started


def test_system_exit_zero_ends_the_run_successfully() -> None:
    nb = notebook("a = 1", "raise SystemExit(0)", "never()")
    result, _ = run(nb, FakeKernel(ok_cell(), error_cell("SystemExit", "0")))
    assert result.status is RunStatus.OK and result.failed_cell is None
    assert [c.status for c in result.cells] == [CellStatus.OK, CellStatus.OK, CellStatus.NOT_RUN]
    assert result.message == result.cells[1].note and "SystemExit(0)" in (result.message or "")
    assert nb.cells[2].metadata.nbrun == {"status": "not-run"}


def test_a_raising_cell_stops_the_run_and_is_recorded_once() -> None:
    nb = notebook("1/0", "after()")
    result, _ = run(nb, FakeKernel(error_cell("ZeroDivisionError", "division by zero")))
    assert result.status is RunStatus.ERROR and result.failed_cell == 0
    assert (result.ename, result.evalue) == ("ZeroDivisionError", "division by zero")
    assert nb.cells[0].metadata.nbrun == {"status": "error"}
    assert nb.metadata.nbrun["cells_with_errors"] == [0]


def test_kernel_death_with_restart_goes_on_in_a_fresh_kernel() -> None:
    nb = notebook("crash()", "print('next')")
    first, second = FakeKernel([busy(), Step("die", content={"returncode": -9})]), FakeKernel()
    result, started = run(nb, first, second, restart_on_death=True)
    assert started == [first, second] and first.closed
    # the run goes on, but a kernel that had to be restarted is not a success (issue 13): kernel-died, exit 4
    assert result.status is RunStatus.KERNEL_DIED and result.restarts == 1
    died = result.cells[0]
    assert died.status is CellStatus.KERNEL_DIED and died.actions == ("restarted",)
    assert died.kernel_death is not None and died.kernel_death.signal == "SIGKILL"
    assert nb.cells[0].metadata.nbrun["kernel_exit"]["reason"] == "killed by SIGKILL (possibly out of memory)"
    assert "kernel_restarted" in nb.cells[0].metadata.nbrun
    assert second.sent == ["print('next')"]


def test_kernel_death_without_restart_fails_the_run() -> None:
    nb = notebook("crash()", "after()")
    result, _ = run(nb, FakeKernel([busy(), Step("die", content={"returncode": 1})]))
    assert result.status is RunStatus.KERNEL_DIED and result.failed_cell == 0
    assert nb.metadata.nbrun["kernel_exit"]["returncode"] == 1


def test_a_stop_request_before_a_cell_interrupts_the_run() -> None:
    control = RunControl()
    nb = notebook("a = 1", "b = 2")
    kernel = FakeKernel()
    original = kernel.execute

    def execute_then_stop(code: str, *, stop_on_error: bool, allow_stdin: bool, store_history: bool = True) -> str:
        control.request_stop("SIGTERM")
        return original(code, stop_on_error=stop_on_error, allow_stdin=allow_stdin, store_history=store_history)

    kernel.execute = execute_then_stop  # type: ignore[method-assign]
    result, _ = run(nb, kernel, control=control)
    assert result.status is RunStatus.INTERRUPTED and result.interrupted_by == "SIGTERM"
    assert result.status.exit_code_for(result.interrupted_by) == 143
    assert nb.cells[1].metadata.nbrun == {"status": "not-run"}


def test_input_after_the_stdin_lines_ran_out_interrupts_and_fails_the_cell() -> None:
    ask = Step("stdin", "input_request", {"prompt": "? ", "password": False})
    nb = notebook("input(); input()", "after()")
    kernel = FakeKernel([busy(), ask, ask, Step("hang")])
    result, _ = run(nb, kernel, stdin_lines=("yes",))
    assert kernel.input_replies == ["yes"] and kernel.interrupts == 1
    assert result.status is RunStatus.ERROR and result.failed_cell == 0
    assert result.cells[0].stdin_exhausted and "stdin lines ran out" in (result.message or "")
    assert nb.cells[0].metadata.nbrun["stdin_exhausted"] is True
    assert nb.cells[1].metadata.nbrun == {"status": "not-run"}
