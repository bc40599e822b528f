"""Waiting for a cell: reply/idle ordering, silence bounds, death, timeouts, stops."""

from __future__ import annotations

import asyncio
import time

from nbformat import NotebookNode

from nbrun.control import RunControl
from nbrun.execution.cell_runner import CellLimits, run_cell
from nbrun.execution.outputs import CellOutputs, DisplayRegistry
from nbrun.status import CellStatus
from tests.support.fake_kernel import FakeKernel, Step, UninterruptibleFakeKernel, busy, idle, ok_cell, reply, stream


def limits(**overrides: float | None) -> CellLimits:
    values = {"cell_timeout": None, "notebook_deadline": None, "interrupt_grace": 0.5, "iopub_silence": 0.5}
    values.update(overrides)
    return CellLimits(**values)  # type: ignore[arg-type]


def run(kernel: FakeKernel, lim: CellLimits | None = None, control: RunControl | None = None):
    async def go():
        outputs: list[NotebookNode] = []
        collector = CellOutputs(outputs, DisplayRegistry())
        result = await run_cell(kernel, "code", collector, lim or limits(), stop_on_error=True, control=control)
        return result, outputs, collector

    return asyncio.run(go())


def test_outputs_arriving_after_the_reply_are_kept() -> None:
    script = [
        busy(),
        reply(),
        stream("late 1\n"),
        Step("iopub", "stream", {"name": "stdout", "text": "late 2\n"}, 0.3),
        idle(),
    ]
    result, outputs, _ = run(FakeKernel(script))
    assert result.outcome is CellStatus.OK
    assert outputs[0].text == "late 1\nlate 2\n"


def test_idle_before_reply_still_waits_for_the_reply() -> None:
    script = [busy(), stream("x\n"), idle(), reply(count=3, delay=0.2)]
    result, _, collector = run(FakeKernel(script))
    assert result.outcome is CellStatus.OK
    assert result.reply and result.reply["execution_count"] == 3
    assert "shell.execute_reply" in collector.timing


def test_missing_idle_is_bounded_by_iopub_silence() -> None:
    script = [busy(), reply(), Step("hang")]  # a wedged IOPub: not even the probe is answered
    start = time.monotonic()
    kernel = FakeKernel(script)
    result, _, _ = run(kernel, limits(iopub_silence=0.3))
    assert result.missing == "iopub idle status"
    assert kernel.probes == ["probe1"]
    assert time.monotonic() - start < 2


def test_an_idle_later_than_the_silence_but_before_the_probe_is_complete() -> None:
    """A starved IOPub delays the idle: the probe's answer queues behind it."""
    script = [busy(), Step("iopub", "execute_input", {"execution_count": 1, "code": ""}), reply(), idle(delay=0.8)]
    kernel = FakeKernel(script)
    result, _, _ = run(kernel, limits(iopub_silence=0.5))
    assert kernel.probes, "the silence was long enough to ask the kernel"
    assert result.outcome is CellStatus.OK and result.missing is None


def test_the_probe_status_before_the_idle_proves_it_lost() -> None:
    script = [busy(), Step("iopub", "execute_input", {"execution_count": 1, "code": ""}), reply()]
    start = time.monotonic()
    result, _, _ = run(FakeKernel(script), limits(iopub_silence=1.0))
    assert result.missing == "iopub idle status"
    assert time.monotonic() - start < 1.9  # proven by the probe, not by a second silence (2 s)


def test_time_this_process_was_busy_elsewhere_is_not_silence() -> None:
    """The loop blocked (another notebook being written) after the probe: no verdict from that stall."""
    script = [busy(), Step("iopub", "execute_input", {"execution_count": 1, "code": ""}), reply(), idle(delay=2.75)]
    kernel = FakeKernel(script)

    async def go() -> object:
        collector = CellOutputs([], DisplayRegistry())

        async def stall() -> None:
            await asyncio.sleep(0.7)  # the probe went at the first wake past 0.5 s
            time.sleep(2.0)  # a synchronous write elsewhere in this process

        staller = asyncio.ensure_future(stall())
        result = await run_cell(kernel, "code", collector, limits(iopub_silence=0.5), stop_on_error=True)
        await staller
        return result

    result = asyncio.run(go())
    assert kernel.probes == ["probe1"]
    assert result.missing is None  # type: ignore[attr-defined]


def test_dead_kernel_noticed_quickly_with_outputs_so_far() -> None:
    script = [busy(), stream("before death\n"), Step("die", content={"returncode": -9}, delay=0.1)]
    start = time.monotonic()
    result, outputs, _ = run(FakeKernel(script))
    assert time.monotonic() - start < 1.0
    assert result.outcome is CellStatus.KERNEL_DIED
    assert result.kernel_exit is not None and result.kernel_exit.signal_name == "SIGKILL"
    assert "out of memory" in result.kernel_exit.describe()
    assert outputs[0].text == "before death\n"


def test_timeout_interrupts_and_keeps_what_the_kernel_sent() -> None:
    kernel = FakeKernel([busy(), stream("working\n"), Step("hang")])
    result, outputs, _ = run(kernel, limits(cell_timeout=0.3))
    assert result.outcome is CellStatus.TIMEOUT
    assert 0.25 <= (result.timed_out_after or 0) < 1.0
    assert kernel.interrupts == 1 and result.actions == ["interrupted"]
    assert [o.output_type for o in outputs] == ["stream", "error"]
    assert result.kernel_alive


def test_timeout_kills_a_kernel_that_ignores_the_interrupt() -> None:
    kernel = UninterruptibleFakeKernel([busy(), Step("hang")])
    start = time.monotonic()
    result, _, _ = run(kernel, limits(cell_timeout=0.2, interrupt_grace=0.3))
    assert 0.45 <= time.monotonic() - start < 1.5
    assert result.outcome is CellStatus.TIMEOUT
    assert result.actions == ["interrupted", "killed"]
    assert kernel.killed and not result.kernel_alive


def test_notebook_deadline_counts_as_timeout() -> None:
    kernel = FakeKernel([busy(), Step("hang")])
    result, _, _ = run(kernel, limits(notebook_deadline=time.monotonic() + 0.2))
    assert result.outcome is CellStatus.TIMEOUT and result.notebook_deadline_hit


def test_stop_request_interrupts_then_second_request_kills() -> None:
    kernel = UninterruptibleFakeKernel([busy(), Step("hang")])
    control = RunControl()

    async def go():
        outputs: list[NotebookNode] = []
        task = asyncio.ensure_future(
            run_cell(
                kernel,
                "x",
                CellOutputs(outputs, DisplayRegistry()),
                limits(interrupt_grace=30),
                stop_on_error=True,
                control=control,
            )
        )
        await asyncio.sleep(0.1)
        control.request_stop("SIGINT")
        await asyncio.sleep(0.3)
        assert not task.done()
        control.request_stop("SIGINT")
        return await asyncio.wait_for(task, 2)

    result = asyncio.run(go())
    assert result.outcome is CellStatus.INTERRUPTED
    assert result.actions == ["interrupted", "killed"]
    assert kernel.interrupts == 1


def test_messages_of_other_requests_are_ignored() -> None:
    kernel = FakeKernel(ok_cell(stream("mine\n")))

    async def go():
        outputs: list[NotebookNode] = []
        collector = CellOutputs(outputs, DisplayRegistry())
        from tests.support.fake_kernel import message

        kernel._iopub.put_nowait(message("stream", {"name": "stdout", "text": "stale\n"}, "someone-else"))
        await run_cell(kernel, "x", collector, limits(), stop_on_error=True)
        return outputs

    assert [o.text for o in asyncio.run(go())] == ["mine\n"]
